"""A request body that cannot be read (the client closes before
Content-Length bytes, a broken chunked encoding, a client too slow for
RequestReadTimeout, over LimitRequestBody): req.read()/readline()/
readlines(), wsgi.input and FieldStorage raise apache.SERVER_RETURN with
the status httpd maps the failure to (400, 408, 413), so a handler that does
not catch it answers that status, not 500; one log line (MP0530) says why;
the exception is also an OSError (3.5 raised IOError), and the server keeps
serving.  Raw sockets send the broken bodies.  Run under each MPM."""
import pytest

from harness import MPMS

pytestmark = pytest.mark.mpms(*MPMS)

BODY_PY = r'''
from mod_python import apache, util

def t_read(req):
    req.read()

def t_readn(req):
    while req.read(7):
        pass

def t_readline(req):
    while req.readline():
        pass

def t_readlines(req):
    req.readlines()

def t_form(req):
    util.FieldStorage(req)

def t_catch(req):
    try:
        req.read()
        return "no error"
    except OSError as e:
        first = e
    try:
        req.read(1)
        again = "no error"
    except apache.SERVER_RETURN as e:
        again = e.args
    req.log_error("CAUGHT %s %r args=%r sr=%s again=%r" % (
        type(first).__name__, str(first), first.args,
        isinstance(first, apache.SERVER_RETURN), again), apache.APLOG_NOTICE)
    return "caught"

def handler(req):
    name = req.uri.rsplit("/", 1)[-1]
    fn = globals().get("t_" + name)
    if fn is None:
        return apache.HTTP_NOT_FOUND
    res = fn(req)
    req.content_type = "text/plain"
    req.write("handler finished: %s" % res)
    return apache.OK
'''

WSGI_PY = r'''
def application(environ, start_response):
    data = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"read %d" % len(data)]
'''

CONFIG = r"""
PythonPath "sys.path+['@ROOT@/lib']"
<Directory @DOCROOT@/app>
    SetHandler mod_python
    PythonHandler bodytest
</Directory>
<Location /app/lim>
    LimitRequestBody 100
</Location>
<Location /wsgi>
    SetHandler mod_python
    PythonHandler mod_python.wsgi
    PythonOption mod_python.wsgi.application wsgiapp::application
</Location>
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
    DocumentRoot "@DOCROOT@"
    RequestReadTimeout header=20 body=1
</VirtualHost>
"""

FILES = {"lib/bodytest.py": BODY_PY, "lib/wsgiapp.py": WSGI_PY, "htdocs/app/.keep": ""}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, modules=("reqtimeout",), name="body")


def raw(srv, data, port=None, close=True):
    """Send data, half-close (the client is done) and return the answer."""
    return srv.raw(data, port=port, half_close=close)


def short_body(path):
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
            b"urlencoded\r\nContent-Length: 1000\r\n\r\n" % path.encode() + b"a=1&b=2\n" * 3)


def broken_chunked(path):
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
            b"urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
            % path.encode() + b"8\r\na=1&b=2\n\r\nzz-not-hex\r\n")


def status_of(resp):
    assert resp.startswith(b"HTTP/1.1 "), resp[:300]
    return int(resp[9:12])


def check_still_serving(srv):
    resp = raw(srv, b"POST /app/read HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    b"Connection: close\r\n\r\nabc")
    assert status_of(resp) == 200 and b"handler finished: None" in resp, resp
    srv.assert_no_crash()


@pytest.mark.parametrize("kind,what", [
    ("cut", "read"), ("cut", "readn"), ("cut", "readline"), ("cut", "readlines"),
    ("cut", "form"), ("chunked", "read"), ("chunked", "readline"), ("chunked", "form"),
])
def test_cut_or_broken_body_answers_400(srv, kind, what):
    body = short_body if kind == "cut" else broken_chunked
    mark = srv.log_mark()
    resp = raw(srv, body("/app/" + what))
    assert status_of(resp) == 400, resp[:300]
    assert b"handler finished" not in resp
    log = srv.log_since(mark)
    assert "MP0530" in log and "answering 400" in log and "Traceback" not in log, log
    if body is short_body:
        assert "ended before Content-Length bytes" in log, log
    check_still_serving(srv)


def test_over_limit_answers_413(srv):
    req = (b"POST /app/lim/readline HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"\r\n" + b"64\r\n" + b"x" * 100 + b"\r\n" + b"64\r\n" + b"y" * 100 + b"\r\n0\r\n\r\n")
    mark = srv.log_mark()
    resp = raw(srv, req)
    assert status_of(resp) == 413, resp[:300]
    assert b"handler finished" not in resp
    assert "Traceback" not in srv.log_since(mark)
    check_still_serving(srv)


def test_wsgi_input_truncated_answers_400(srv):
    mark = srv.log_mark()
    resp = raw(srv, short_body("/wsgi/app"))
    assert status_of(resp) == 400, resp[:300]
    log = srv.log_since(mark)
    assert "MP0530" in log, log
    check_still_serving(srv)


def test_caught_error_is_an_oserror_and_repeats(srv):
    mark = srv.log_mark()
    resp = raw(srv, short_body("/app/catch"))
    assert status_of(resp) == 200 and b"handler finished: caught" in resp, resp
    line = srv.wait_log("CAUGHT", mark=mark)
    assert line
    log = srv.log_since(mark)
    assert ("CAUGHT RequestBodyError 'Request body unreadable: it ended before "
            "Content-Length bytes (the client closed the connection?)' args=(400,) "
            "sr=True again=(400,)") in log, log


def test_client_too_slow_answers_408(srv):
    # RequestReadTimeout body=1 on the second port: the client sends part of
    # the body and then nothing (the socket stays open) until httpd answers
    mark = srv.log_mark()
    resp = raw(srv, short_body("/app/read"), port=srv.port2, close=False)
    assert status_of(resp) == 408, resp[:300]
    log = srv.log_since(mark)
    assert "MP0530" in log and "timed out" in log and "answering 408" in log, log
    check_still_serving(srv)
