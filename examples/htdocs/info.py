import html
import sys

from mod_python import apache


def handler(req):
    req.content_type = "text/html"
    rows = [("req.uri", req.uri), ("req.filename", req.filename),
            ("req.method", req.method), ("req.protocol", req.protocol),
            ("req.interpreter", req.interpreter),
            ("req.get_config()", dict(req.get_config())),
            ("req.get_options()", dict(req.get_options())),
            ("connection.client_ip", req.connection.client_ip),
            ("server.server_hostname", req.server.server_hostname),
            ("apache.mpm_query(AP_MPMQ_IS_THREADED)",
             apache.mpm_query(apache.AP_MPMQ_IS_THREADED)),
            ("Python", sys.version)]
    req.write("<h1>mod_python request info</h1><table>")
    for k, v in rows:
        req.write("<tr><th align=left>%s</th><td>%s</td></tr>"
                  % (html.escape(k), html.escape(repr(v))))
    req.write("</table><h2>headers_in</h2><pre>%s</pre>"
              % html.escape("\n".join("%s: %s" % kv for kv in req.headers_in.items())))
    return apache.OK
