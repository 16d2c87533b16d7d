"""mod_python.testhandler: a diagnostics page.

    <Location /mpinfo>
        SetHandler mod_python
        PythonHandler mod_python.testhandler
        Require ip 127.0.0.1          # it shows configuration and environment
    </Location>

The page lists the httpd version and MPM, the server root, document root
and error log, Python's version and path, the interpreter, whether
mod_python.publisher and mod_python.psp import, and the request's
headers_in, subprocess_env (after add_common_vars()), get_config(),
get_options() and notes, the server's get_config() and get_options(), and
httpd's configuration tree.  `?view_log=1` shows the last 100 lines of the
error log as text/plain.  Everything shown is HTML-escaped.
"""

import collections
import html
import os
import sys
import urllib.parse

from mod_python import apache

LOG_LINES = 100


class bounded_buffer:
    """Keeps the last `size` items appended (e.g. log lines)."""

    def __init__(self, size):
        self.max_size = size
        self._items = collections.deque(maxlen=size)

    def append(self, item):
        self._items.append(item)

    def get_contents(self):
        return list(self._items)

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(list(self._items))


def _e(value):
    return html.escape(str(value))


def write_table(req, table):
    """An HTML table of a mapping's (key, value) pairs, in its order."""
    req.write('<table border="1" cellpadding="3">\n')
    items = table.items() if hasattr(table, "items") else table
    for key, value in items:
        req.write("<tr><td><code>%s</code></td><td><code>%s</code></td></tr>\n"
                  % (_e(key), _e(value)))
    req.write("</table>\n")


def write_tree(req, tree, level):
    """httpd's configuration tree as indented text: (directive, args) pairs,
    a nested list holding the children of the directive before it."""
    pad = "  " * level
    for entry in tree:
        if isinstance(entry, list):
            write_tree(req, entry, level + 1)
        elif isinstance(entry, tuple) and len(entry) == 2:
            directive, args = entry
            req.write("%s%s %s\n" % (pad, _e(directive), _e(args if args is not None else "")))
        else:
            req.write("%s%s\n" % (pad, _e(entry)))


def _error_log_path(req):
    fname = req.server.error_fname
    if not fname or fname.startswith("|") or fname.startswith("syslog"):
        return None
    return os.path.join(apache.server_root(), fname)


def _view_log(req):
    req.content_type = "text/plain; charset=utf-8"
    path = _error_log_path(req)
    if path is None:
        req.write("The error log (%r) is not a file.\n" % req.server.error_fname)
        return apache.OK
    lines = bounded_buffer(LOG_LINES)
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            for line in f:
                lines.append(line)
    except OSError as e:
        req.write("Cannot read the error log %s: %s\n" % (path, e))
        return apache.OK
    req.write("".join(lines.get_contents()))
    return apache.OK


def _importable(name):
    try:
        __import__(name)
        return "yes"
    except Exception as e:
        return "no (%s: %s)" % (type(e).__name__, e)


def _mpm_lines():
    out = []
    if apache.mpm_query(apache.AP_MPMQ_IS_THREADED):
        out.append(("Threaded MPM", "yes, max threads per process: %d"
                    % apache.mpm_query(apache.AP_MPMQ_MAX_THREADS)))
    if apache.mpm_query(apache.AP_MPMQ_IS_FORKED):
        out.append(("Forked MPM", "yes, max processes: %d"
                    % apache.mpm_query(apache.AP_MPMQ_MAX_DAEMONS)))
    return out


def _summary(req):
    log = _error_log_path(req)
    log_link = "<code>%s</code>" % _e(log or req.server.error_fname)
    if log:
        log_link += ' (<a href="%s?view_log=1">last %d lines</a>)' % (
            _e(urllib.parse.quote(req.uri)), LOG_LINES)
    rows = [("Apache version", _e(req.subprocess_env.get("SERVER_SOFTWARE", "")))]
    rows += [(k, _e(v)) for k, v in _mpm_lines()]
    rows += [
        ("Server root", "<code>%s</code>" % _e(apache.server_root())),
        ("Document root", "<code>%s</code>" % _e(req.document_root())),
        ("Error log", log_link),
        ("Python version", _e(sys.version)),
        ("Python path", "<br>\n".join("<code>%s</code>" % _e(p) for p in sys.path)),
        ("Interpreter name", "<code>%s</code>" % _e(req.interpreter)),
        ("mod_python.publisher available", _e(_importable("mod_python.publisher"))),
        ("mod_python.psp available", _e(_importable("mod_python.psp"))),
    ]
    req.write('<table border="1" cellpadding="3">\n')
    for k, v in rows:
        req.write("<tr><th align=\"left\">%s</th><td>%s</td></tr>\n" % (_e(k), v))
    req.write("</table>\n")


def handler(req):
    query = urllib.parse.parse_qs(req.args or "")
    if query.get("view_log", [""])[0] == "1":
        return _view_log(req)

    req.add_common_vars()
    req.content_type = "text/html; charset=utf-8"
    req.write("<!DOCTYPE html>\n<html><head><title>mod_python test page</title></head>"
              "<body>\n<h1>mod_python test page</h1>\n")
    req.write("<h2>General information</h2>\n")
    _summary(req)
    sections = (
        ("Request input headers (req.headers_in)", req.headers_in),
        ("Request environment (req.subprocess_env)", req.subprocess_env),
        ("Request configuration (req.get_config())", req.get_config()),
        ("Request options (req.get_options())", req.get_options()),
        ("Request notes (req.notes)", req.notes),
        ("Server configuration (req.server.get_config())", req.server.get_config()),
        ("Server options (req.server.get_options())", req.server.get_options()),
    )
    for title, table in sections:
        req.write("<h2>%s</h2>\n" % _e(title))
        write_table(req, table)
    req.write("<h2>Server configuration tree (apache.config_tree())</h2>\n<pre>\n")
    write_tree(req, apache.config_tree(), 0)
    req.write("</pre>\n</body></html>\n")
    return apache.OK
