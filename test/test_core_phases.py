"""Core: every request-phase handler directive runs, in httpd order, with the
stacking rules of the mod_python 3.5 manual ("Overview of a Request Handler").
Parametrised over the three MPMs (one server per MPM)."""
import base64
import uuid

import pytest

from harness import MPMS

pytestmark = pytest.mark.mpms(*MPMS)

PHASES_PY = r'''
from mod_python import apache

def _active(req):
    return "X-Trace" in req.headers_in

def _rec(req, name):
    if _active(req):
        req.notes["trace"] = req.notes.get("trace", "") + name + ","

# --- server level: PythonInitHandler (post-read-request time) -------------
def init_srv(req):
    _rec(req, "init_srv")
    return apache.OK

# --- PostReadRequest: DECLINED and OK continue -------------------------------
def prr_a(req):
    _rec(req, "prr_a")
    return apache.DECLINED

def prr_b(req):
    _rec(req, "prr_b")
    if req.headers_in.get("X-PRR-Status"):
        return int(req.headers_in["X-PRR-Status"])
    return apache.OK

def prr_c(req):
    _rec(req, "prr_c")
    return apache.OK

# --- Trans: run-first, only DECLINED continues -------------------------------
def trans_a(req):
    _rec(req, "trans_a")
    return apache.DECLINED

def trans_b(req):
    _rec(req, "trans_b")
    if req.uri.startswith("/claimed/"):
        req.filename = "@DOCROOT@/phases/claimed.txt"
        return apache.OK
    return apache.DECLINED

def trans_c(req):
    _rec(req, "trans_c")
    return apache.DECLINED

# --- header parser: DECLINED and OK continue ---------------------------------
def hp_a(req):
    _rec(req, "hp_a")
    return apache.DECLINED

def hp_b(req):
    _rec(req, "hp_b")
    return apache.OK

def init_dir(req):
    _rec(req, "init_dir")
    return apache.OK

# --- access: DECLINED and OK continue ----------------------------------------
def access_a(req):
    _rec(req, "access_a")
    return apache.OK

def access_b(req):
    _rec(req, "access_b")
    if req.headers_in.get("X-Deny"):
        return apache.HTTP_FORBIDDEN
    return apache.DECLINED

# --- authen: DECLINED -> next, OK -> stop -------------------------------------
def authen_decl(req):
    _rec(req, "authen_decl")
    return apache.DECLINED

def authen_ok(req):
    _rec(req, "authen_ok")
    if req.headers_in.get("X-Unauth"):
        return apache.HTTP_UNAUTHORIZED
    if req.headers_in.get("X-NoUser"):
        return apache.OK
    req.user = "tracer"
    return apache.OK

def authen_never(req):
    _rec(req, "authen_never")
    return apache.OK

# --- authz: first -------------------------------------------------------------
def authz_decl(req):
    _rec(req, "authz_decl")
    return apache.DECLINED

def authz_ok(req):
    _rec(req, "authz_ok:" + str(req.user))
    return apache.OK

def authz_never(req):
    _rec(req, "authz_never")
    return apache.OK

# --- type: first --------------------------------------------------------------
def type_decl(req):
    _rec(req, "type_decl")
    return apache.DECLINED

def type_ok(req):
    _rec(req, "type_ok")
    req.content_type = "text/x-phases"
    return apache.OK

def type_never(req):
    _rec(req, "type_never")
    return apache.OK

# --- fixup: DECLINED and OK continue ------------------------------------------
def fix_a(req):
    _rec(req, "fix_a")
    return apache.DECLINED

def fix_b(req):
    _rec(req, "fix_b")
    return apache.OK

def fix_c(req):
    _rec(req, "fix_c")
    return apache.OK

# --- content ------------------------------------------------------------------
def handler(req):
    _rec(req, "handler")
    req.write(req.notes.get("trace", "") + "|phase=" + str(req.phase))
    return apache.OK

# --- log: all run ---------------------------------------------------------------
def log_a(req):
    _rec(req, "log_a")
    return apache.DECLINED

def log_b(req):
    _rec(req, "log_b")
    if _active(req):
        apache.log_error("TRACE-LOG %s %s phase=%s" % (req.headers_in["X-Id"],
                         req.notes.get("trace", ""), req.phase), apache.APLOG_NOTICE)
    return apache.OK

def cleanuphandler(req):
    if _active(req):
        apache.log_error("TRACE-CLEANUP %s %s" % (req.headers_in["X-Id"],
                         req.notes.get("trace", "")), apache.APLOG_NOTICE)
    return apache.OK
'''

STACK_PY = r'''
from mod_python import apache

def h_ok(req):
    req.headers_out.add("X-Ran", "h_ok")
    return apache.OK

def h_ok2(req):
    req.headers_out.add("X-Ran", "h_ok2")
    req.content_type = "text/plain"
    req.write("stacked")
    return apache.OK

def h_decl(req):
    req.headers_out.add("X-Ran", "h_decl")
    return apache.DECLINED

def h_404(req):
    req.headers_out.add("X-Ran", "h_404")
    return apache.HTTP_NOT_FOUND

def h_never(req):
    req.headers_out.add("X-Ran", "h_never")
    req.write("NEVER")
    return apache.OK
'''

STATIC = "static file body\n"

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
PythonInitHandler phases::init_srv
PythonPostReadRequestHandler phases::prr_a phases::prr_b
PythonPostReadRequestHandler phases::prr_c
PythonTransHandler phases::trans_a phases::trans_b phases::trans_c

<Directory @DOCROOT@/phases>
    SetHandler mod_python
    AuthType Python
    AuthName phases
    Require valid-user
    PythonHeaderParserHandler phases::hp_a phases::hp_b
    PythonAccessHandler phases::access_a phases::access_b
    PythonAuthenHandler phases::authen_decl phases::authen_ok phases::authen_never
    PythonAuthzHandler phases::authz_decl phases::authz_ok phases::authz_never
    PythonTypeHandler phases::type_decl phases::type_ok phases::type_never
    PythonFixupHandler phases::fix_a phases::fix_b phases::fix_c
    PythonHandler phases::handler
    PythonLogHandler phases::log_a phases::log_b
    PythonCleanupHandler phases
</Directory>

# Same chain with the stock Basic scheme (mod_auth_basic is loaded, as on any
# Debian server): the Python authen handler must still get the request.
<Directory @DOCROOT@/basic>
    SetHandler mod_python
    AuthType Basic
    AuthName basic
    Require valid-user
    PythonAuthenHandler phases::authen_decl phases::authen_ok phases::authen_never
    PythonAuthzHandler phases::authz_decl phases::authz_ok phases::authz_never
    PythonHandler phases::handler
</Directory>

# A directory-level PythonInitHandler runs at header-parser time, before the
# header parser handlers (the intended behaviour; 3.5 never ran it for main requests).
<Directory @DOCROOT@/initdir>
    SetHandler mod_python
    PythonInitHandler phases::init_dir
    PythonHeaderParserHandler phases::hp_a phases::hp_b
    PythonHandler phases::handler
</Directory>

<Directory @DOCROOT@/stack>
    SetHandler mod_python
</Directory>
<Directory @DOCROOT@/stack/ok>
    PythonHandler stack::h_ok stack::h_ok2 stack::h_never
</Directory>
<Directory @DOCROOT@/stack/decl>
    PythonHandler stack::h_ok stack::h_decl stack::h_never
</Directory>
<Directory @DOCROOT@/stack/err>
    PythonHandler stack::h_ok stack::h_404 stack::h_never
</Directory>
# Two PythonHandler lines in one section accumulate.
<Directory @DOCROOT@/stack/twolines>
    PythonHandler stack::h_ok
    PythonHandler stack::h_ok2
</Directory>
'''

FILES = {
    "lib/phases.py": PHASES_PY,
    "lib/stack.py": STACK_PY,
    "htdocs/phases/x.txt": "x\n",
    "htdocs/phases/claimed.txt": "claimed\n",
    "htdocs/basic/x.txt": "x\n",
    "htdocs/initdir/x.txt": "x\n",
    "htdocs/stack/ok/x.txt": STATIC,
    "htdocs/stack/decl/x.txt": STATIC,
    "htdocs/stack/err/x.txt": STATIC,
    "htdocs/stack/twolines/x.txt": STATIC,
    "htdocs/plain.txt": STATIC,
}

FULL_CHAIN = ("init_srv,prr_a,prr_b,prr_c,trans_a,trans_b,trans_c,"
              "hp_a,hp_b,access_a,access_b,authen_decl,authen_ok,"
              "authz_decl,authz_ok:tracer,type_decl,type_ok,fix_a,fix_b,fix_c,handler,")


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, modules=("auth_basic", "authz_user"), name="phases")


def traced(srv, path, **extra):
    rid = uuid.uuid4().hex[:12]
    headers = {"X-Trace": "1", "X-Id": rid}
    headers.update(extra)
    return rid, srv.get(path, headers=headers)


def test_all_phases_in_order(srv):
    mark = srv.log_mark()
    rid, r = traced(srv, "/phases/x.txt")
    assert r.status == 200, (r, srv.log_since(mark))
    assert r.text == FULL_CHAIN + "|phase=PythonHandler"
    assert r.headers["Content-Type"].startswith("text/x-phases")


def test_type_handler_runs(srv):
    # PythonTypeHandler: type_decl declines, type_ok sets the content type and
    # returns OK (run-first: type_never must not run).
    rid, r = traced(srv, "/phases/x.txt")
    assert r.status == 200
    assert "type_decl,type_ok,fix_a" in r.text
    assert "type_never" not in r.text
    assert r.headers["Content-Type"].startswith("text/x-phases")


def test_log_handlers_run_after_content(srv):
    mark = srv.log_mark()
    rid, r = traced(srv, "/phases/x.txt")
    assert r.status == 200
    trace = r.text.split("|")[0]
    assert trace.endswith(",handler,")
    expect = "TRACE-LOG %s %slog_a,log_b, phase=PythonLogHandler" % (rid, trace)
    assert srv.wait_log(expect, mark=mark), srv.log_since(mark)


def test_cleanup_handler_runs_last(srv):
    mark = srv.log_mark()
    rid, r = traced(srv, "/phases/x.txt")
    assert r.status == 200
    trace = r.text.split("|")[0]
    expect = "TRACE-CLEANUP %s %slog_a,log_b," % (rid, trace)
    assert srv.wait_log(expect, mark=mark), srv.log_since(mark)


def test_untraced_request_unaffected(srv):
    r = srv.get("/plain.txt")
    assert r.status == 200
    assert r.text == STATIC


def test_postread_error_status_aborts(srv):
    rid, r = traced(srv, "/phases/x.txt", **{"X-PRR-Status": "403"})
    assert r.status == 403
    assert "prr_c" not in r.text


def test_trans_handler_claims_translation(srv):
    # trans_b sets req.filename and returns OK: trans_c must not run, and the
    # rest of the request proceeds with the Directory config of that file.
    rid, r = traced(srv, "/claimed/anything")
    assert r.status == 200, r
    assert r.text.startswith("init_srv,prr_a,prr_b,prr_c,trans_a,trans_b,hp_a,")
    assert "trans_c" not in r.text


def test_access_handler_denies(srv):
    rid, r = traced(srv, "/phases/x.txt", **{"X-Deny": "1"})
    assert r.status == 403


def test_authen_handler_401(srv):
    rid, r = traced(srv, "/phases/x.txt", **{"X-Unauth": "1"})
    assert r.status == 401


def test_authen_ok_without_user_is_500(srv):
    mark = srv.log_mark()
    rid, r = traced(srv, "/phases/x.txt", **{"X-NoUser": "1"})
    assert r.status == 500
    assert "After PythonAuthenHandler req->user is NULL" in srv.log_since(mark)


def test_authen_with_basic_auth_type(srv):
    cred = base64.b64encode(b"someone:secret").decode()
    mark = srv.log_mark()
    rid, r = traced(srv, "/basic/x.txt", Authorization="Basic " + cred)
    assert r.status == 200, (r, srv.log_since(mark))
    assert r.text.startswith("init_srv,prr_a,prr_b,prr_c,trans_a,trans_b,trans_c,"
                             "authen_decl,authen_ok,authz_decl,authz_ok:tracer,handler,")


def test_authen_basic_401_challenge(srv):
    # A 401 from the Python authen handler (credentials present, handler
    # refuses them) gets the Basic challenge added (as httpd's own authentication
    # modules do).
    cred = base64.b64encode(b"someone:secret").decode()
    mark = srv.log_mark()
    rid, r = traced(srv, "/basic/x.txt", Authorization="Basic " + cred, **{"X-Unauth": "1"})
    assert r.status == 401, (r, srv.log_since(mark))
    assert r.headers.get("WWW-Authenticate", "") == 'Basic realm="basic"'


def test_directory_init_handler_runs_before_header_parser(srv):
    rid, r = traced(srv, "/initdir/x.txt")
    assert r.status == 200, r
    assert r.text.startswith("init_srv,prr_a,prr_b,prr_c,trans_a,trans_b,trans_c,"
                             "init_dir,hp_a,hp_b,")
    assert r.text.count("init_srv") == 1


def test_handler_stack_ok_continues(srv):
    r = srv.get("/stack/ok/x.txt")
    assert r.status == 200
    # h_never's header comes after h_ok2 wrote (and so sent) the headers
    assert r.headers.get_all("X-Ran") == ["h_ok", "h_ok2"]
    assert r.text == "stackedNEVER"


def test_handler_stack_declined_stops(srv):
    # h_decl returns DECLINED: the stack stops there, httpd falls back to its
    # default handler which sends the static file.
    r = srv.get("/stack/decl/x.txt")
    assert r.status == 200
    assert r.text == STATIC
    assert r.headers.get_all("X-Ran") == ["h_ok", "h_decl"]


def test_handler_stack_error_stops(srv):
    r = srv.get("/stack/err/x.txt")
    assert r.status == 404
    assert "NEVER" not in r.text


def test_handler_lines_accumulate(srv):
    r = srv.get("/stack/twolines/x.txt")
    assert r.status == 200
    assert r.text == "stacked"


def test_no_crash(srv):
    srv.assert_no_crash()
