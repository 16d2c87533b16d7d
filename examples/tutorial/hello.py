"""The smallest handler: answers every request with one line of text."""
from mod_python import apache


def handler(req):
    req.content_type = "text/plain; charset=utf-8"
    req.write("Hello from mod_python, you asked for %s\n" % req.uri)
    return apache.OK
