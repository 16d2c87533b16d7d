"""Core: handler-line grammar (module, module::object, dotted objects with class
instantiation, '| .ext') and handler return values (OK, DECLINED, DONE, HTTP
codes, SERVER_RETURN, non-int results).  Parametrised over the three MPMs."""
import pytest

from harness import MPMS

pytestmark = pytest.mark.mpms(*MPMS)

GRAM_PY = r'''
from mod_python import apache

def _say(req, what):
    req.content_type = "text/plain"
    req.write(what + " ext=" + str(req.extension))
    return apache.OK

def handler(req):
    return _say(req, "default-object")

def named(req):
    return _say(req, "named")

def plain(req):
    return _say(req, "plain")

def for_py(req):
    return _say(req, "for_py")

def for_tgz(req):
    return _say(req, "for_tgz")

def for_other(req):
    return _say(req, "for_other")

class Greeter:
    instances = 0
    def __init__(self, req):
        self.uri = req.uri
        Greeter.instances += 1
    def meth(self, req):
        return _say(req, "Greeter.meth uri=" + self.uri)

class Plain:
    def __init__(self, arg):
        self.arg = arg

class _Inner:
    def func(self, req):
        return _say(req, "inner.func")

class _Outer:
    pass

outer = _Outer()
outer.inner = _Inner()
'''

PKG_SUB_PY = r'''
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("pkg.sub.handler")
    return apache.OK

def other(req):
    req.content_type = "text/plain"
    req.write("pkg.sub.other")
    return apache.OK
'''

RET_PY = r'''
from mod_python import apache

def handler(req):
    what = req.args or ""
    if what == "ok":
        req.content_type = "text/plain"
        req.write("ok-body")
        return apache.OK
    if what == "declined":
        return apache.DECLINED
    if what == "done":
        req.content_type = "text/plain"
        req.write("done-body")
        return apache.DONE
    if what == "404":
        return apache.HTTP_NOT_FOUND
    if what == "410":
        return apache.HTTP_GONE
    if what == "302":
        req.headers_out["Location"] = "http://127.0.0.1/elsewhere"
        return apache.HTTP_MOVED_TEMPORARILY
    if what == "500":
        return apache.HTTP_INTERNAL_SERVER_ERROR
    if what == "sr403":
        raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
    if what == "sr_ok_201":
        raise apache.SERVER_RETURN(apache.OK, 201)
    if what == "sr_done_202":
        req.status = 202
        req.content_type = "text/plain"
        req.write("sr-done")
        raise apache.SERVER_RETURN(apache.DONE)
    if what == "sr_ok_stack":
        raise apache.SERVER_RETURN(apache.OK)
    if what == "sr_empty":
        raise apache.SERVER_RETURN()
    if what == "true":
        return True
    if what == "none":
        return None
    if what == "str":
        return "OK"
    if what == "float":
        return 0.0
    if what == "huge":
        return 2 ** 70
    if what == "big32":
        return 2 ** 32          # (int) truncation would make this OK
    if what == "neg40":
        return -2 ** 40
    if what == "sr_huge":
        raise apache.SERVER_RETURN(2 ** 70)
    if what == "status_ok":
        req.status = apache.HTTP_ACCEPTED
        req.content_type = "text/plain"
        req.write("accepted")
        return apache.OK
    return apache.HTTP_BAD_REQUEST

def after(req):
    req.content_type = "text/plain"
    req.write("after-ran")
    return apache.OK
'''

STATIC = "static ret file\n"

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"

<Directory @DOCROOT@/g>
    SetHandler mod_python
</Directory>
<Directory @DOCROOT@/g/default>
    PythonHandler gram
</Directory>
<Directory @DOCROOT@/g/named>
    PythonHandler gram::named
</Directory>
<Directory @DOCROOT@/g/cls>
    PythonHandler gram::Greeter.meth
</Directory>
<Directory @DOCROOT@/g/dotted>
    PythonHandler gram::outer.inner.func
</Directory>
<Directory @DOCROOT@/g/classobj>
    PythonHandler gram::Plain
</Directory>
<Directory @DOCROOT@/g/pkg>
    PythonHandler pkg.sub
</Directory>
<Directory @DOCROOT@/g/pkgobj>
    PythonHandler pkg.sub::other
</Directory>
<Directory @DOCROOT@/g/ext>
    PythonHandler gram::plain
    PythonHandler gram::for_py | .py
    PythonHandler gram::for_tgz | .tar.gz
    PythonHandler gram::for_other | .one .two
</Directory>
<Directory @DOCROOT@/g/missing>
    PythonHandler gram::no_such_object
</Directory>

<Directory @DOCROOT@/ret>
    SetHandler mod_python
    PythonHandler ret
</Directory>
<Directory @DOCROOT@/ret/stack>
    PythonHandler ret ret::after
</Directory>
'''

FILES = {
    "lib/gram.py": GRAM_PY,
    "lib/pkg/__init__.py": "",
    "lib/pkg/sub.py": PKG_SUB_PY,
    "lib/ret.py": RET_PY,
    "htdocs/ret/static.txt": STATIC,
    "htdocs/ret/stack/static.txt": STATIC,
}
for d in ("default", "named", "cls", "dotted", "classobj", "pkg", "pkgobj", "ext", "missing"):
    FILES["htdocs/g/%s/.keep" % d] = ""


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="dispatch")


# ------------------------------------------------------------------ grammar

def test_module_only_uses_default_object(srv):
    r = srv.get("/g/default/x")
    assert r.status == 200, r
    assert r.text == "default-object ext=None"


def test_module_and_object(srv):
    r = srv.get("/g/named/x")
    assert r.status == 200, r
    assert r.text == "named ext=None"


def test_class_method_instantiates_class(srv):
    r = srv.get("/g/cls/y")
    assert r.status == 200, r
    assert r.text == "Greeter.meth uri=/g/cls/y ext=None"


def test_dotted_object_path(srv):
    r = srv.get("/g/dotted/z")
    assert r.status == 200, r
    assert r.text == "inner.func ext=None"


def test_class_as_handler_fails_int_check(srv):
    mark = srv.log_mark()
    r = srv.get("/g/classobj/z")
    assert r.status == 500
    assert "gram::Plain" in srv.log_since(mark)


def test_dotted_module_name(srv):
    r = srv.get("/g/pkg/x")
    assert r.status == 200, r
    assert r.text == "pkg.sub.handler"
    r = srv.get("/g/pkgobj/x")
    assert r.status == 200, r
    assert r.text == "pkg.sub.other"


@pytest.mark.parametrize("path,expect", [
    ("/g/ext/a.py", "for_py ext=.py"),
    ("/g/ext/a.txt", "plain ext=None"),
    ("/g/ext/noext", "plain ext=None"),
    ("/g/ext/a.tar.gz", "for_tgz ext=.tar.gz"),
    ("/g/ext/a.py.txt", "plain ext=None"),      # extension is after the FIRST dot
    ("/g/ext/a.PY", "plain ext=None"),          # case-sensitive
    ("/g/ext/a.one", "for_other ext=.one"),
    ("/g/ext/a.two", "for_other ext=.two"),
])
def test_extension_selection(srv, path, expect):
    r = srv.get(path)
    assert r.status == 200, r
    assert r.text == expect


def test_missing_object_is_500_and_logged(srv):
    mark = srv.log_mark()
    r = srv.get("/g/missing/x")
    assert r.status == 500
    log = srv.log_since(mark)
    assert "no_such_object" in log
    assert "contains no" in log


# ------------------------------------------------------------ return values

def test_return_ok(srv):
    r = srv.get("/ret/x?ok")
    assert r.status == 200
    assert r.text == "ok-body"


def test_return_declined_falls_back_to_default_handler(srv):
    r = srv.get("/ret/static.txt?declined")
    assert r.status == 200
    assert r.text == STATIC


def test_return_done(srv):
    r = srv.get("/ret/x?done")
    assert r.status == 200
    assert r.text == "done-body"


@pytest.mark.parametrize("code", [404, 410, 500])
def test_return_http_code(srv, code):
    r = srv.get("/ret/x?%d" % code)
    assert r.status == code


def test_return_redirect_with_location(srv):
    r = srv.get("/ret/x?302")
    assert r.status == 302
    assert r.headers["Location"] == "http://127.0.0.1/elsewhere"


def test_status_set_and_ok(srv):
    r = srv.get("/ret/x?status_ok")
    assert r.status == 202
    assert r.text == "accepted"


def test_server_return_status(srv):
    r = srv.get("/ret/x?sr403")
    assert r.status == 403


def test_server_return_result_and_status(srv):
    r = srv.get("/ret/x?sr_ok_201")
    assert r.status == 201


def test_server_return_done(srv):
    r = srv.get("/ret/x?sr_done_202")
    assert r.status == 202
    assert r.text == "sr-done"


def test_server_return_ok_continues_stack(srv):
    r = srv.get("/ret/stack/x?sr_ok_stack")
    assert r.status == 200
    assert r.text == "after-ran"


def test_server_return_without_argument_is_500(srv):
    r = srv.get("/ret/x?sr_empty")
    assert r.status == 500


@pytest.mark.parametrize("what", ["true", "none", "str", "float"])
def test_non_int_return_is_500_and_logged(srv, what):
    mark = srv.log_mark()
    r = srv.get("/ret/x?" + what)
    assert r.status == 500
    log = srv.log_since(mark)
    assert "PythonHandler" in log and "ret" in log, log


@pytest.mark.parametrize("what", ["huge", "big32", "neg40", "sr_huge"])
def test_out_of_range_int_return_is_500_and_logged(srv, what):
    mark = srv.log_mark()
    r = srv.get("/ret/x?" + what)
    assert r.status == 500, r
    log = srv.log_since(mark)
    assert "MP0430" in log and "PythonHandler ret returned an int out of range" in log, log
    assert srv.get("/ret/x?ok").status == 200


def test_server_still_serves(srv):
    r = srv.get("/ret/x?ok")
    assert r.status == 200
    srv.assert_no_crash()
