"""mp_request methods other than body I/O (mod_python 3.5 manual: "Request
Methods", filters): add_handler into the running and into later phases, per-request
filters, register_cleanup, internal_redirect, configuration views, CGI
variables, authentication helpers, logging at every level, conditional
requests and the small httpd wrappers."""
import base64
import gzip
import json
import os
import time

import pytest

from harness import Httpd, json_call_handler

MTEST_PY = r'''
import json
import os
from mod_python import apache

def _tmp(req, name):
    return os.path.join(os.path.dirname(req.document_root()), "tmp", name)

def fixup(req):
    return apache.OK

# ---------------------------------------------------------- add_handler
def t_add_current(req):
    req.add_handler("PythonHandler", "mtest::second")
    req.add_handler("PythonHandler", "mtest::third", req.document_root() + "/app/../app")
    req.write("first|")
    return apache.OK

def second(req):
    req.write("second:%s:%s|" % (req.phase, req.hlist.handler))
    return apache.OK

def third(req):
    req.write("third:%s" % req.hlist.directory)
    return apache.OK

def t_add_later(req):
    req.add_handler("PythonLogHandler", "mtest::logh")
    req.add_handler("PythonFixupHandler", "mtest::never")   # already ran: no effect
    req.write("added")
    return apache.OK

def logh(req):
    req.log_error("LOGH ran for %s in %s" % (req.uri, req.phase), apache.APLOG_NOTICE)
    return apache.OK

def never(req):
    req.log_error("NEVER ran", apache.APLOG_NOTICE)
    return apache.OK

def t_add_bad(req):
    out = {}
    for phase in ("PythonBogus", "PythonCleanupHandler", "PythonConnectionHandler", "handler"):
        try:
            req.add_handler(phase, "mtest::x")
            out[phase] = "ok"
        except IndexError as e:
            out[phase] = "IndexError: %s" % e
    try:
        req.add_handler("PythonHandler")
    except TypeError:
        out["missing"] = "TypeError"
    return out

# ------------------------------------------------------------- filters
def upper_filter(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    if s is None:
        filter.close()

def phase_filter(filter):
    # add_handler is allowed from a filter (no phase running): goes to the
    # request's dynamic list
    if not getattr(filter.req, "_added", False):
        filter.req._added = True
        filter.req.add_handler("PythonLogHandler", "mtest::logh")
    filter.pass_on()

def t_out_filter(req):
    req.register_output_filter("UPPER", "mtest::upper_filter")
    req.add_output_filter("UPPER")
    req.write("hello filter")
    return apache.OK

def t_in_filter(req):
    req.register_input_filter("INUP", "mtest::upper_filter")
    req.add_input_filter("INUP")
    return {"body": req.read().decode()}

def t_httpd_filter(req):
    req.add_output_filter("DEFLATE")
    req.content_type = "text/plain"
    req.write("z" * 5000)
    return apache.OK

def t_filter_add_handler(req):
    req.register_output_filter("PHASEF", "mtest::phase_filter")
    req.add_output_filter("PHASEF")
    req.write("via filter")
    return apache.OK

# ------------------------------------------------------------ cleanups
def _cb(req):
    with open(_tmp(req, "cleanup.txt"), "w") as f:
        f.write("uri=%s" % req.uri)

def _cb_data(data):
    with open(data[0], "w") as f:
        f.write(data[1])

def _bad_cb(data):
    raise ValueError("cleanup failed on purpose")

def t_cleanup(req):
    req.register_cleanup(_cb, req)
    req.register_cleanup(_cb_data, (_tmp(req, "cleanup2.txt"), "data ok"))
    req.register_cleanup(callable=_bad_cb)
    try:
        req.register_cleanup("not callable")
        bad = "accepted"
    except ValueError as e:
        bad = str(e)
    return {"bad": bad}

# ---------------------------------------------------- internal redirect
def t_redir(req):
    req.notes["from"] = "redir"
    req.internal_redirect("/app/target?x=1")
    return apache.OK

def t_target(req):
    p = req.prev
    return {"uri": req.uri, "args": req.args,
            "prev_uri": p.uri if p else None,
            "prev_note": p.notes.get("from") if p else None,
            "same": p is not None and p.next is req and req.prev is p}

def t_redir_none(req):
    try:
        req.internal_redirect(None)
    except TypeError:
        return {"none": "TypeError"}
    return {"none": "accepted"}

# ------------------------------------------------------ config, options
def t_config(req):
    c = req.get_config()
    o = req.get_options()
    return {"config": dict(c), "options": dict(o), "same_config": c is req.get_config(),
            "same_options": o is req.get_options(), "types": [type(c).__name__,
                                                               type(o).__name__]}

# ---------------------------------------------------------- CGI vars
def t_cgi(req):
    req.add_cgi_vars()
    return dict(req.subprocess_env)

def t_common(req):
    req.add_common_vars()
    return dict(req.subprocess_env)

# ------------------------------------------------------------- misc
def t_misc(req):
    return {"auth_name": req.auth_name(), "auth_type": req.auth_type(),
            "construct_url": req.construct_url("/foo?x"),
            "document_root": req.document_root(),
            "exts": req.get_addhandler_exts(),
            "nolookup": req.get_remote_host(apache.REMOTE_NOLOOKUP),
            "nolookup_ip": req.get_remote_host(apache.REMOTE_NOLOOKUP, 1),
            "host": req.get_remote_host(apache.REMOTE_HOST),
            "default": req.get_remote_host(),
            "is_https": req.is_https(),
            "ssl_var": req.ssl_var_lookup("SSL_PROTOCOL"),
            "send_http_header": req.send_http_header(),
            "wsgi_callables": [callable(req.build_wsgi_env),
                               callable(req.wsgi_start_response)]}

def t_requires(req):
    return {"requires": list(req.requires())}

def t_basic(req):
    pw = req.get_basic_auth_pw()
    return {"pw": pw, "user": req.user}

def t_allow(req):
    req.allow_methods(["GET", "PUT", "FOOBAR"])
    req.allow_methods(("PROPFIND",), 0)
    # extension methods are kept in allowed_methods; httpd lists them in
    # Allow only when M_INVALID is allowed too
    req.err_headers_out["X-Ext"] = ",".join(req.allowed_methods)
    return apache.HTTP_METHOD_NOT_ALLOWED

def t_allow_bad(req):
    out = {}
    for arg in (5, None):
        try:
            req.allow_methods(arg)
            out[repr(arg)] = "ok"
        except TypeError as e:
            out[repr(arg)] = str(e)
    req.allow_methods([])
    return out

def t_log(req):
    req.log_error("EMERG-MSG", apache.APLOG_EMERG)
    req.log_error("NOTICE-MSG", apache.APLOG_NOTICE)
    req.log_error("DEFAULT-MSG")
    req.log_error(message="DEBUG-MSG", level=apache.APLOG_DEBUG)
    req.log_error(None)
    return {"logged": True}

def t_cond(req):
    req.update_mtime(1000000000.0)
    req.update_mtime(5.0)          # earlier: ignored
    req.set_last_modified()
    req.set_etag()
    rc = req.meets_conditions()
    if rc != apache.OK:
        return rc
    req.write("mtime=%r" % req.mtime)
    return apache.OK

def t_lookup(req):
    root = os.path.dirname(req.document_root())
    out = {}
    for name, path in (("same_dir", "mtest.py"),
                       ("absolute", os.path.join(req.document_root(), "app", "mtest.py")),
                       ("denied", os.path.join(root, "lib", "anything.py")),
                       ("bytes", os.fsencode(os.path.join(root, "lib", "x.py")))):
        out[name] = req.lookup_file(path)
    try:
        req.lookup_file("a\0b")
        out["nul"] = "no error"
    except ValueError:
        out["nul"] = "ValueError"
    return out

def t_clen(req):
    req.set_content_length(5)
    c = req.clength
    req.write("12345")
    try:
        req.set_content_length(-1)
    except ValueError:
        pass
    return apache.OK if c == 5 else apache.HTTP_INTERNAL_SERVER_ERROR
''' + json_call_handler(2)

LATE_PY = r'''
from mod_python import apache

def late_fixup(req):
    req.add_handler("PythonHandler", "latetest::late_handler")
    req.add_handler("PythonHandler", "latetest::late_second")
    return apache.OK

def late_handler(req):
    req.write("late:%s:%s|" % (req.phase, req.hlist.handler))
    return apache.OK

def late_second(req):
    req.write("second")
    return apache.OK
'''

CONFIG = r"""
<Directory @DOCROOT@/app>
    SetHandler mod_python
    PythonHandler mtest
    PythonFixupHandler mtest::fixup
    PythonDebug On
    PythonOption opt_a 1
    PythonOption opt_b ""
    PythonOption opt_c ""
    PythonOption opt_d 4
    PythonOption opt_e
    AuthType Basic
    AuthName "test realm"
    AddHandler mod_python .py .psp
    Require ip 127.0.0.1
    Require user joe
    <Limit POST>
        Require user bob
    </Limit>
</Directory>
<Directory @DOCROOT@/late>
    SetHandler mod_python
    PythonFixupHandler latetest::late_fixup
</Directory>
"""

FILES = {"htdocs/app/mtest.py": MTEST_PY, "htdocs/late/latetest.py": LATE_PY}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, modules=("authz_user", "deflate"), name="reqmeth")


def getj(srv, path, **kw):
    r = srv.get(path, **kw)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.body)


def wait_file(path, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return f.read()
        time.sleep(0.05)
    return None


def test_add_handler_to_current_phase(srv):
    r = srv.get("/app/add_current")
    assert r.status == 200, srv.error_log()[-3000:]
    assert r.body.decode() == ("first|second:PythonHandler:mtest::second|third:%s/app/"
                               % srv.docroot)


def test_add_handler_to_later_phase(srv):
    mark = srv.log_mark()
    r = srv.get("/app/add_later")
    assert r.status == 200 and r.body == b"added"
    assert srv.wait_log("LOGH ran for /app/add_later in PythonLogHandler", mark=mark)
    assert "NEVER ran" not in srv.log_since(mark)


def test_add_handler_from_fixup_creates_content_handlers(srv):
    r = srv.get("/late/x")
    assert r.status == 200, srv.error_log()[-3000:]
    assert r.body == b"late:PythonHandler:latetest::late_handler|second"


def test_add_handler_invalid_phase(srv):
    d = getj(srv, "/app/add_bad")
    assert d["PythonBogus"] == "IndexError: Invalid phase: PythonBogus"
    assert d["PythonCleanupHandler"] == "IndexError: Invalid phase: PythonCleanupHandler"
    assert d["PythonConnectionHandler"].startswith("IndexError")
    assert d["handler"].startswith("IndexError")
    assert d["missing"] == "TypeError"


def test_add_handler_from_filter(srv):
    mark = srv.log_mark()
    r = srv.get("/app/filter_add_handler")
    assert r.status == 200 and r.body == b"via filter", srv.error_log()[-3000:]
    assert srv.wait_log("LOGH ran for /app/filter_add_handler in PythonLogHandler", mark=mark)


def test_registered_output_filter(srv):
    r = srv.get("/app/out_filter")
    assert r.status == 200, srv.error_log()[-3000:]
    assert r.body == b"HELLO FILTER"


def test_registered_input_filter(srv):
    r = srv.post("/app/in_filter", body=b"abc def")
    assert r.status == 200, srv.error_log()[-3000:]
    assert json.loads(r.body) == {"body": "ABC DEF"}


def test_add_httpd_output_filter(srv):
    r = srv.get("/app/httpd_filter", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(r.body) == b"z" * 5000


def test_register_cleanup(srv):
    tmp = os.path.join(srv.root, "tmp")
    for n in ("cleanup.txt", "cleanup2.txt"):
        if os.path.exists(os.path.join(tmp, n)):
            os.unlink(os.path.join(tmp, n))
    mark = srv.log_mark()
    d = getj(srv, "/app/cleanup")
    assert d == {"bad": "first argument must be a callable object"}
    assert wait_file(os.path.join(tmp, "cleanup.txt")) == "uri=/app/cleanup"
    assert wait_file(os.path.join(tmp, "cleanup2.txt")) == "data ok"
    assert srv.wait_log("python_cleanup: Error calling cleanup object", mark=mark)
    assert srv.wait_log("ValueError: cleanup failed on purpose", mark=mark)
    srv.assert_no_crash()


def test_internal_redirect(srv):
    d = getj(srv, "/app/redir")
    assert d == {"uri": "/app/target", "args": "x=1", "prev_uri": "/app/redir",
                 "prev_note": "redir", "same": True}


def test_internal_redirect_none(srv):
    assert getj(srv, "/app/redir_none") == {"none": "TypeError"}


def test_get_config_and_options(srv):
    d = getj(srv, "/app/config")
    assert d["config"].get("PythonDebug") == "1"
    # empty PythonOption values mean "unset": hidden, including two in a row
    assert d["options"] == {"opt_a": "1", "opt_d": "4"}
    assert d["same_config"] and d["same_options"]
    assert d["types"] == ["mp_table", "mp_table"]


def test_add_cgi_vars_with_path_info(srv):
    env = getj(srv, "/app/cgi/extra/path?q=1")
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["QUERY_STRING"] == "q=1"
    assert env["REQUEST_URI"] == "/app/cgi/extra/path"
    assert env["SCRIPT_NAME"] == "/app/cgi"
    assert env["PATH_INFO"] == "/extra/path"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["DOCUMENT_ROOT"] == srv.docroot
    assert env["HTTP_HOST"].startswith("127.0.0.1")


def test_add_cgi_vars_without_path_info(srv):
    env = getj(srv, "/app/cgi")
    assert env["SCRIPT_NAME"] == "/app/cgi"
    assert "PATH_INFO" not in env
    assert env["QUERY_STRING"] == ""


def test_add_common_vars(srv):
    env = getj(srv, "/app/common", headers={"X-Test": "yes"})
    assert env["HTTP_X_TEST"] == "yes"
    assert env["SERVER_PORT"] == str(srv.port)
    assert "GATEWAY_INTERFACE" not in env


def test_misc_methods(srv):
    d = getj(srv, "/app/misc")
    assert d["auth_name"] == "test realm" and d["auth_type"] == "Basic"
    assert d["construct_url"] == "http://127.0.0.1:%d/foo?x" % srv.port
    assert d["document_root"] == srv.docroot
    assert sorted(d["exts"].split()) == ["psp", "py"] and d["exts"].endswith(" ")
    assert d["nolookup"] == "127.0.0.1"
    assert d["nolookup_ip"] == ["127.0.0.1", 1]
    assert d["host"] is None              # HostnameLookups Off
    assert d["default"] == "127.0.0.1"
    assert d["is_https"] == 0 and d["ssl_var"] is None
    assert d["send_http_header"] is None
    assert d["wsgi_callables"] == [True, True]


def test_requires(srv):
    assert getj(srv, "/app/requires") == {"requires": ["ip 127.0.0.1", "user joe"]}
    r = srv.post("/app/requires", body=b"")
    assert json.loads(r.body) == {"requires": ["ip 127.0.0.1", "user joe", "user bob"]}


def test_get_basic_auth_pw(srv):
    cred = base64.b64encode("joe:s\u00e9cret".encode("latin-1")).decode()
    d = getj(srv, "/app/basic", headers={"Authorization": "Basic " + cred})
    assert d == {"pw": "s\u00e9cret", "user": "joe"}
    assert getj(srv, "/app/basic") == {"pw": None, "user": None}
    # no "user:" part: httpd hands back an empty password (no crash)
    assert getj(srv, "/app/basic", headers={"Authorization": "Basic !!!"})["pw"] in ("", None)
    assert getj(srv, "/app/basic", headers={"Authorization": "Digest x"})["pw"] is None


def test_allow_methods(srv):
    r = srv.get("/app/allow")
    assert r.status == 405
    allow = [m.strip() for m in r.headers["Allow"].split(",")]
    for m in ("GET", "PUT", "PROPFIND"):
        assert m in allow, allow
    assert r.headers["X-Ext"] == "FOOBAR"
    d = getj(srv, "/app/allow_bad")
    assert d == {"5": "First argument must be a sequence",
                 "None": "First argument must be a sequence"}


def test_log_error_levels(srv):
    mark = srv.log_mark()
    assert getj(srv, "/app/log") == {"logged": True}
    log = srv.log_since(mark)
    lines = log.splitlines()

    def level_of(msg):
        for l in lines:
            if msg in l:
                return l.split("] [", 2)[1].split("]")[0]
        return None

    assert level_of("EMERG-MSG") == "python:emerg"
    assert level_of("NOTICE-MSG") == "python:notice"
    assert level_of("DEFAULT-MSG") == "python:error"
    assert level_of("DEBUG-MSG") == "python:debug"
    assert "[client 127.0.0.1:" in [l for l in lines if "EMERG-MSG" in l][0]


def test_conditional_request(srv):
    r = srv.get("/app/cond")
    assert r.status == 200 and r.body == b"mtime=1000000000.0"
    assert r.headers["Last-Modified"] == "Sun, 09 Sep 2001 01:46:40 GMT"
    assert "ETag" in r.headers
    r = srv.get("/app/cond", headers={"If-Modified-Since": "Mon, 10 Sep 2001 00:00:00 GMT"})
    assert r.status == 304
    r = srv.get("/app/cond", headers={"If-Modified-Since": "Sat, 08 Sep 2001 00:00:00 GMT"})
    assert r.status == 200


def test_lookup_file(srv):
    d = getj(srv, "/app/lookup")
    assert d == {"same_dir": 0, "absolute": 0, "denied": 403, "bytes": 403,
                 "nul": "ValueError"}, srv.error_log()[-2000:]


def test_set_content_length(srv):
    r = srv.get("/app/clen")
    assert r.status == 200 and r.body == b"12345"
    assert r.headers["Content-Length"] == "5"


def test_no_crash(srv):
    srv.assert_no_crash()


class NoMimeHttpd(Httpd):
    """The base config without mod_mime (and its TypesConfig)."""

    def _load_lines(self):
        # each module is "<IfModule !x_module>\n  LoadModule ...\n</IfModule>"
        out, block = [], []
        for line in super()._load_lines().split("\n"):
            block.append(line)
            if line.startswith("<IfModule") or line.startswith("  LoadModule"):
                continue
            if not any("mod_mime.so" in l for l in block):
                out.extend(block)
            block = []
        return "\n".join(out + block)

    def base_config(self):
        return "\n".join(l for l in super().base_config().split("\n")
                         if not l.startswith("TypesConfig"))


def test_get_addhandler_exts_without_mod_mime(mp_module):
    s = NoMimeHttpd("""
<Directory @DOCROOT@/app>
    SetHandler mod_python
    PythonHandler mtest
</Directory>
""", files=FILES, name="nomime")
    s.start()
    try:
        r = s.get("/app/misc")
        assert r.status == 200, s.error_log()[-3000:]
        assert json.loads(r.body)["exts"] == ""
        assert "mod_mime.so" not in open(s.conf_path).read()
        s.assert_no_crash()
    finally:
        s.stop()
