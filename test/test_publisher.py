"""mod_python.publisher against a real httpd.

URL -> module/object mapping (AddHandler and SetHandler), form arguments
from the query string and POST bodies, traversal and its security rules,
what each kind of return value publishes, __auth__/__access__ (module,
instance, function body, nested functions), autoreload of published pages
and non-ASCII output and page sources.
"""
import base64
import os
import threading
import urllib.parse

import pytest

from harness import SINGLE_CHILD

CONF = """
<Directory @DOCROOT@/pub>
  AddHandler mod_python .py
  PythonHandler mod_python.publisher
  PythonDebug On
</Directory>
<Directory @DOCROOT@/set>
  SetHandler mod_python
  PythonHandler mod_python.publisher
  PythonDebug On
</Directory>
<Directory @DOCROOT@/quiet>
  AddHandler mod_python .py
  PythonHandler mod_python.publisher
  PythonDebug Off
</Directory>
<Directory @DOCROOT@/frozen>
  AddHandler mod_python .py
  PythonHandler mod_python.publisher
  PythonAutoReload Off
</Directory>
<Directory @DOCROOT@/ext>
  SetHandler mod_python
  PythonHandler mod_python.publisher | .pub
</Directory>
<Directory @DOCROOT@/other>
  AddHandler mod_python .pyx
  PythonHandler mod_python.publisher
</Directory>
"""

TESTS_PY = r'''
import re
import os.path
from mod_python import apache

_SECRET_PASSWORD = "root"
__ANSWER = 42


def index(req):
    return "index ok"


def hello(req, name="world", count=None):
    return "hello %s %s" % (name, count)


def echo(req, **kw):
    return repr(sorted((k, str(v)) for k, v in kw.items() if k != "req"))


def multi(req, a):
    return repr(a)


def none(req):
    return None


def writes(req):
    req.write("direct ")
    req.write("write")


def raw(req):
    return b"\x00\xffraw"


def number(req):
    return 42


def a_list(req):
    return ["a", 1]


def html(req):
    return "<html><body>x</body></HTML >\n"


def html_start(req):
    return "<!DOCTYPE html>\n<p>x"


def json(req):
    req.content_type = "application/json"
    return '{"a": 1}'


def latin(req):
    req.content_type = "text/plain; charset=iso-8859-1"
    return "caf\u00e9"


def unicode(req):
    return "h\u00e9llo \u20ac \U0001F600"


def gen(req):
    for i in range(10):
        yield str(i)


def gen_html(req):
    yield "<html><body>"
    yield b"mixed "
    yield None
    yield 7
    yield "</body></html>"


def returns_callable(req):
    return lambda req, name="x": "inner " + name


def fail(req):
    raise ValueError("published function failed")


def status(req):
    raise apache.SERVER_RETURN(apache.HTTP_NOT_IMPLEMENTED)


def method(req):
    return req.method


class Child:
    label = "child label"

    def page(self, req, x="0"):
        return "child page " + x


class Thing:
    def __init__(self):
        self.name = "thing"
        self.child = Child()

    def traverse(self, req):
        return "traversable instance ok"

    def __call__(self, req):
        return "callable instance ok"

    def _hidden(self, req):
        return "hidden"


class Meta(type):
    pass


class WithMeta(metaclass=Meta):
    pass


instance = Thing()
InstanceTest = Thing
text = "plain attribute"
test_dict = {"a": 1}
test_dict_keys = test_dict.keys
joiner = os.path.join
generator = (str(i) for i in range(3))
'''

SET_INDEX_PY = r'''
def index(req):
    return "test 1 ok"


def foobar(req):
    return "test 2 ok"


class _X:
    def y(self, req):
        return "index x.y"


x = _X()
'''

SET_TESTS_PY = r'''
def index(req):
    return "tests index"


def f(req):
    return "tests f"


def path(req):
    return req.filename
'''

MODAUTH_PY = r'''
__auth_realm__ = "Members"
__auth__ = {"spam": "eggs", "ham": "jam"}
__access__ = ["spam"]


def index(req):
    return "module auth ok"
'''

AUTH_PY = r'''
import functools
from mod_python import apache


def _check(req, user, passwd):
    return user == "spam" and passwd == "eggs"


def public(req):
    return "public ok"


def nested(req):
    __auth_realm__ = "Nested Realm"

    def __auth__(req, user, password):
        test_globals = public
        req.notes["auth_called"] = "1"
        return user == "spam" and password == "eggs"

    def __access__(req, user):
        req.notes["access_called"] = "1"
        return 1

    assert req.notes.get("auth_called") == "1"
    assert req.notes.get("access_called") == "1"
    return "nested ok"


def nested_dict(req):
    __auth__ = {"spam": "eggs", "ham": "jam"}
    __access__ = ("spam",)
    return "nested dict ok"


def nested_global(req):
    __auth__ = _check
    return "nested global ok"


def nested_lambda(req):
    __auth__ = lambda req, user, passwd: (user, passwd) == ("j\u00fcrgen", "gr\u00fc\u00df")
    return "nested lambda ok"


def nested_closure(req):
    secret = "eggs"

    def __auth__(req, user, passwd):
        return passwd == secret
    return "never"


def nested_twice(req):
    __access__ = ["spam"]
    __access__ = ["ham"]
    return "never"


def nested_finally(req):
    try:
        pass
    finally:
        __access__ = ["spam"]
    return "finally ok"


def realm_odd(req):
    __auth_realm__ = 'Z\u00fcrich "HQ"\r\nX-Injected: 1 \u20ac'
    __auth__ = {"spam": "eggs"}
    return "odd realm ok"


def nested_false(req):
    __auth__ = False
    return "never"


def access_only(req):
    __access__ = False
    return "never"


def attr_auth(req):
    return "attr auth ok"


attr_auth.__auth__ = {"spam": "eggs"}


def _decorate(func):
    @functools.wraps(func)
    def wrapper(req):
        return "decorated " + func(req)
    return wrapper


@_decorate
def decorated(req):
    __auth__ = {"spam": "eggs"}
    return "ok"


class _Methods:
    def method(self, req):
        def __auth__(req, user, password):
            return user == "spam" and password == "eggs"
        return "method nested ok"


methods = _Methods()


class _Guarded:
    __auth_realm__ = "Instance Realm"

    def __auth__(self, req, user, passwd):
        return (user, passwd) in (("spam", "eggs"), ("ham", "jam"))

    def __access__(self, req, user):
        return user == "spam"

    def page(self, req):
        return "guarded page"


guarded = _Guarded()


class _Open:
    __auth__ = {"spam": "eggs"}

    def page(self, req):
        return "open page"


opened = _Open()
'''

FILES = {
    "htdocs/pub/tests.py": TESTS_PY,
    "htdocs/pub/modauth.py": MODAUTH_PY,
    "htdocs/pub/auth.py": AUTH_PY,
    "htdocs/pub/utf8page.py": 'def index(req):\n    return "\u00fcn\u00efc\u00f6d\u00e9 \u20ac"\n',
    "htdocs/pub/latin1page.py": "# -*- coding: latin-1 -*-\ndef index(req):\n"
                                "    return 'caf\xe9'\n".encode("latin-1"),
    "htdocs/pub/reloaded.py": "def index(req):\n    return 'version 1'\n",
    "htdocs/set/index.py": SET_INDEX_PY,
    "htdocs/set/tests.py": SET_TESTS_PY,
    "htdocs/quiet/page.py": "def index(req):\n    return None\n"
                            "def broken(req):\n    raise KeyError('boom')\n",
    "htdocs/frozen/page.py": "def index(req):\n    return 'frozen 1'\n",
    "htdocs/other/page.pyx": "def index(req):\n    return 'pyx extension'\n",
    "htdocs/ext/page.py": "def index(req):\n    return 'ext ' + req.extension\n"
                          "def form(req, a=None):\n    return '%s %s' % (a, req.form.getfirst('a'))\n",
    "htdocs/other/page.py": "def index(req):\n    return 'page.py for .pyx'\n",
}


@pytest.fixture(scope="module")
def srv(httpd):
    # one child process: "a child that loaded the page keeps it" is then
    # deterministic for the PythonAutoReload Off test
    return httpd(CONF, files=FILES, name="publisher", mpm_config=SINGLE_CHILD)


def basic(user, passwd, encoding="utf-8"):
    token = base64.b64encode(("%s:%s" % (user, passwd)).encode(encoding)).decode("ascii")
    return {"Authorization": "Basic " + token}


def ok(srv, path, **kw):
    r = srv.request(kw.pop("method", "GET"), path, **kw)
    assert r.status == 200, (path, r.status, r.text[-3000:], srv.error_log()[-3000:])
    return r


# ---------------------------------------------------------------- mapping

def test_index_defaults(srv):
    assert ok(srv, "/pub/tests.py").text == "index ok"
    assert ok(srv, "/pub/tests.py/").text == "index ok"
    assert ok(srv, "/pub/tests.py/index").text == "index ok"
    assert ok(srv, "/pub/tests.py/hello/").text == "hello world None"


def test_sethandler_mapping(srv):
    assert ok(srv, "/set/").text == "test 1 ok"
    assert ok(srv, "/set/foobar").text == "test 2 ok"
    assert ok(srv, "/set/tests").text == "tests index"
    assert ok(srv, "/set/tests.py").text == "tests index"
    assert ok(srv, "/set/tests/f").text == "tests f"
    assert ok(srv, "/set/tests.py/f").text == "tests f"
    assert ok(srv, "/set/x/y").text == "index x.y"
    assert ok(srv, "/set/x.y").text == "index x.y"
    assert ok(srv, "/set/tests/path").text == os.path.join(srv.docroot, "set", "tests.py")
    assert srv.get("/set/nothing").status == 404


def test_addhandler_extension_is_stripped(srv):
    # page.pyx -> module page.py (AddHandler extensions are stripped)
    assert ok(srv, "/other/page.pyx").text == "page.py for .pyx"


def test_handler_extension_is_stripped(srv):
    # PythonHandler mod_python.publisher .pub: page.pub -> page.py
    assert ok(srv, "/ext/page.pub").text == "ext .pub"
    assert ok(srv, "/ext/page.pub/form?a=1").text == "1 1"


def test_method_not_allowed(srv):
    r = srv.request("PUT", "/pub/tests.py/index", body=b"x")
    assert r.status == 405
    allow = r.headers.get("Allow", "")
    for m in ("GET", "POST", "HEAD"):
        assert m in allow
    assert ok(srv, "/pub/tests.py/method", method="POST", body=b"",
              headers={"Content-Type": "application/x-www-form-urlencoded"}).text == "POST"


def test_missing_module_and_object(srv):
    assert srv.get("/pub/nosuch.py").status == 404
    assert srv.get("/pub/tests.py/nosuch").status == 404
    assert srv.get("/pub/tests.py/instance/nosuch").status == 404
    assert srv.get("/pub/tests.py/a..b").status == 404


# ------------------------------------------------------------- arguments

def test_query_arguments(srv):
    assert ok(srv, "/pub/tests.py/hello?name=bob&count=3").text == "hello bob 3"
    assert ok(srv, "/pub/tests.py/hello?name=bob&unknown=1").text == "hello bob None"
    assert ok(srv, "/pub/tests.py/hello?name=").text == "hello  None"
    assert ok(srv, "/pub/tests.py/hello?q=tea&p=2&name=x").text == "hello x None"
    assert ok(srv, "/pub/tests.py/multi?a=1&a=2").text == "['1', '2']"
    q = urllib.parse.urlencode({"name": "j\u00fcrgen \u20ac"})
    assert ok(srv, "/pub/tests.py/hello?" + q).text == "hello j\u00fcrgen \u20ac None"


def test_kwargs_receive_everything(srv):
    assert ok(srv, "/pub/tests.py/echo?x=1&y=2").text == "[('x', '1'), ('y', '2')]"


def test_post_urlencoded(srv):
    body = urllib.parse.urlencode({"name": "p\u00f6st", "count": "5"}).encode()
    r = ok(srv, "/pub/tests.py/hello", method="POST", body=body,
           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.text == "hello p\u00f6st 5"
    r = ok(srv, "/pub/tests.py/hello?count=9", method="POST", body=b"name=both",
           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.text == "hello both 9"


def test_post_multipart(srv):
    b = "----mpboundary"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nmulti\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"count\"\r\n\r\n8\r\n"
            "--%s--\r\n" % (b, b, b)).encode()
    r = ok(srv, "/pub/tests.py/hello", method="POST", body=body,
           headers={"Content-Type": "multipart/form-data; boundary=" + b})
    assert r.text == "hello multi 8"


# ------------------------------------------------------------- traversal

def test_traversal_into_instances(srv):
    assert ok(srv, "/pub/tests.py/instance").text == "callable instance ok"
    assert ok(srv, "/pub/tests.py/instance/traverse").text == "traversable instance ok"
    assert ok(srv, "/pub/tests.py/instance/name").text == "thing"
    assert ok(srv, "/pub/tests.py/instance/child/page?x=5").text == "child page 5"
    assert ok(srv, "/pub/tests.py/instance/child/label").text == "child label"
    assert ok(srv, "/pub/tests.py/instance.child.page").text == "child page 0"
    assert ok(srv, "/pub/tests.py/text").text == "plain attribute"


@pytest.mark.parametrize("path", [
    "/pub/tests.py/_SECRET_PASSWORD",
    "/pub/tests.py/__ANSWER",
    "/pub/tests.py/re",                       # a module
    "/pub/tests.py/re/compile",               # traversal into a module
    "/pub/tests.py/InstanceTest",             # a class
    "/pub/tests.py/InstanceTest/traverse",    # traversal into a class
    "/pub/tests.py/WithMeta",                 # a class with a metaclass
    "/pub/tests.py/Meta",
    "/pub/tests.py/index/__code__",
    "/pub/tests.py/hello/x",                  # functions are not traversable
    "/pub/tests.py/instance/traverse/__func__",
    "/pub/tests.py/instance/traverse/x",      # nor are methods
    "/pub/tests.py/instance/_hidden",
    "/pub/tests.py/instance/__call__",
    "/pub/tests.py/test_dict/keys",           # builtin method
    "/pub/tests.py/test_dict_keys",
    "/pub/tests.py/text/upper",
    "/pub/tests.py/apache",
    "/set/_X/y",
])
def test_forbidden(srv, path):
    r = srv.get(path)
    assert r.status == 403, (path, r.status, r.text[-2000:])


def test_forbidden_is_logged(srv):
    mark = srv.log_mark()
    assert srv.get("/pub/tests.py/_SECRET_PASSWORD").status == 403
    assert srv.get("/pub/tests.py/re").status == 403
    assert srv.get("/pub/tests.py/hello/x").status == 403
    log = srv.log_since(mark)
    assert "MP0391: Cannot traverse _SECRET_PASSWORD" in log
    assert "starts with an underscore" in log
    assert "MP0393: Cannot publish re" in log
    assert "MP0392: Cannot traverse x" in log


def test_imported_function_is_published(srv):
    # 3.5 rule: any function found in the module is callable by URL
    assert srv.get("/pub/tests.py/joiner").status == 500   # join() needs args


# ----------------------------------------------------------- return types

def test_none_publishes_nothing(srv):
    mark = srv.log_mark()
    r = ok(srv, "/pub/tests.py/none")
    assert r.body == b""
    assert srv.wait_log("MP0390: mod_python.publisher: nothing to publish.", mark=mark)


def test_none_quiet_without_debug(srv):
    mark = srv.log_mark()
    assert ok(srv, "/quiet/page.py").body == b""
    assert ok(srv, "/pub/tests.py").text == "index ok"
    assert "nothing to publish" not in srv.log_since(mark)


def test_function_writing_itself(srv):
    assert ok(srv, "/pub/tests.py/writes").text == "direct write"


def test_bytes_published_as_is(srv):
    r = ok(srv, "/pub/tests.py/raw")
    assert r.body == b"\x00\xffraw"
    assert r.headers["Content-Type"] == "text/plain"


def test_other_values_as_str(srv):
    assert ok(srv, "/pub/tests.py/number").text == "42"
    assert ok(srv, "/pub/tests.py/a_list").text == "['a', 1]"
    assert ok(srv, "/pub/tests.py/test_dict").text == "{'a': 1}"


def test_content_type_detection(srv):
    r = ok(srv, "/pub/tests.py/html")
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    r = ok(srv, "/pub/tests.py/html_start")
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    r = ok(srv, "/pub/tests.py/index")
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    r = ok(srv, "/pub/tests.py/json")
    assert r.headers["Content-Type"] == "application/json"
    assert r.text == '{"a": 1}'


def test_charset_of_page_content_type(srv):
    r = ok(srv, "/pub/tests.py/latin")
    assert r.headers["Content-Type"] == "text/plain; charset=iso-8859-1"
    assert r.body == b"caf\xe9"


def test_non_ascii_output(srv):
    r = ok(srv, "/pub/tests.py/unicode")
    assert r.body == "h\u00e9llo \u20ac \U0001F600".encode("utf-8")
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_non_ascii_page_sources(srv):
    r = ok(srv, "/pub/utf8page.py")
    assert r.body == "\u00fcn\u00efc\u00f6d\u00e9 \u20ac".encode("utf-8")
    r = ok(srv, "/pub/latin1page.py")
    assert r.body == "caf\u00e9".encode("utf-8")


def test_generators(srv):
    assert ok(srv, "/pub/tests.py/gen").text == "0123456789"
    r = ok(srv, "/pub/tests.py/gen_html")
    assert r.text == "<html><body>mixed 7</body></html>"
    assert r.headers["Content-Type"].startswith("text/html")


def test_callable_result_is_called(srv):
    assert ok(srv, "/pub/tests.py/returns_callable?name=y").text == "inner y"


def test_head(srv):
    g = ok(srv, "/pub/tests.py/unicode")
    h = srv.request("HEAD", "/pub/tests.py/unicode")
    assert h.status == 200
    assert h.body == b""
    assert h.headers["Content-Type"] == g.headers["Content-Type"]
    if "Content-Length" in g.headers:
        assert h.headers.get("Content-Length") == g.headers["Content-Length"]


def test_errors(srv):
    r = srv.get("/pub/tests.py/fail")
    assert r.status == 500 and "published function failed" in r.text   # PythonDebug On
    assert srv.get("/quiet/page.py/broken").status == 500
    assert srv.get("/pub/tests.py/status").status == 501


# ------------------------------------------------------------------ auth

def test_module_auth(srv):
    r = srv.get("/pub/modauth.py")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Members"'
    assert ok(srv, "/pub/modauth.py", headers=basic("spam", "eggs")).text == "module auth ok"
    r = srv.get("/pub/modauth.py", headers=basic("spam", "wrong"))
    assert r.status == 401
    assert "Members" in r.headers["WWW-Authenticate"]
    # right password, but not in __access__
    assert srv.get("/pub/modauth.py", headers=basic("ham", "jam")).status == 403
    assert srv.get("/pub/modauth.py", headers=basic("nobody", "x")).status == 401


def test_bad_authorization_header(srv):
    for value in ("Basic !!!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                  'Digest username="Mufasa", realm="x", nonce="y"'):
        r = srv.get("/pub/modauth.py", headers={"Authorization": value})
        assert r.status == 400, (value, r.status)
    # an unprotected object ignores whatever credentials come along
    r = srv.get("/pub/auth.py/public",
                headers={"Authorization": 'Digest username="Mufasa", realm="x"'})
    assert r.status == 200 and r.text == "public ok"


def test_nested_auth_in_function(srv):
    r = srv.get("/pub/auth.py/nested")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Nested Realm"'
    assert ok(srv, "/pub/auth.py/nested", headers=basic("spam", "eggs")).text == "nested ok"
    r = srv.get("/pub/auth.py/nested", headers=basic("spam", "bacon"))
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Nested Realm"'


def test_nested_auth_in_method(srv):
    assert srv.get("/pub/auth.py/methods/method").status == 401
    r = ok(srv, "/pub/auth.py/methods/method", headers=basic("spam", "eggs"))
    assert r.text == "method nested ok"


def test_nested_dict_and_access(srv):
    r = srv.get("/pub/auth.py/nested_dict")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="unknown"'
    assert ok(srv, "/pub/auth.py/nested_dict", headers=basic("spam", "eggs")).text == \
        "nested dict ok"
    assert srv.get("/pub/auth.py/nested_dict", headers=basic("ham", "jam")).status == 403
    assert srv.get("/pub/auth.py/nested_dict", headers=basic("spam", "jam")).status == 401


def test_nested_global_and_lambda(srv):
    assert srv.get("/pub/auth.py/nested_global").status == 401
    assert ok(srv, "/pub/auth.py/nested_global", headers=basic("spam", "eggs")).text == \
        "nested global ok"
    creds = ("j\u00fcrgen", "gr\u00fc\u00df")
    assert ok(srv, "/pub/auth.py/nested_lambda", headers=basic(*creds)).text == \
        "nested lambda ok"
    assert ok(srv, "/pub/auth.py/nested_lambda",
              headers=basic(*creds, encoding="latin-1")).text == "nested lambda ok"
    assert srv.get("/pub/auth.py/nested_lambda", headers=basic("spam", "eggs")).status == 401


def test_nested_constants(srv):
    assert srv.get("/pub/auth.py/nested_false", headers=basic("spam", "eggs")).status == 401
    assert srv.get("/pub/auth.py/access_only").status == 403
    assert srv.get("/pub/auth.py/access_only", headers=basic("spam", "eggs")).status == 403


def test_nested_closure_refused(srv):
    mark = srv.log_mark()
    r = srv.get("/pub/auth.py/nested_closure", headers=basic("spam", "eggs"))
    assert r.status == 500
    assert "MP0395" in srv.log_since(mark)
    assert "closure" in srv.log_since(mark)


def test_realm_quoting(srv):
    r = srv.get("/pub/auth.py/realm_odd")
    assert r.status == 401
    assert "X-Injected" not in r.headers
    raw = r.headers["WWW-Authenticate"].encode("latin-1")
    assert raw == 'Basic realm="Z\u00fcrich \\"HQ\\"  X-Injected: 1 \u20ac"'.encode("utf-8")


def test_nested_ambiguous_refused(srv):
    mark = srv.log_mark()
    r = srv.get("/pub/auth.py/nested_twice", headers=basic("spam", "eggs"))
    assert r.status == 500
    assert "2 different values" in srv.log_since(mark)


def test_nested_in_finally(srv):
    # 3.12+ compiles a finally body twice: the same value twice is fine
    assert srv.get("/pub/auth.py/nested_finally").status == 403
    assert srv.get("/pub/auth.py/nested_finally", headers=basic("ham", "x")).status == 403
    assert ok(srv, "/pub/auth.py/nested_finally", headers=basic("spam", "x")).text == \
        "finally ok"


def test_function_attribute_auth(srv):
    assert srv.get("/pub/auth.py/attr_auth").status == 401
    assert ok(srv, "/pub/auth.py/attr_auth", headers=basic("spam", "eggs")).text == \
        "attr auth ok"


def test_decorated_function_auth(srv):
    assert srv.get("/pub/auth.py/decorated").status == 401
    assert ok(srv, "/pub/auth.py/decorated", headers=basic("spam", "eggs")).text == \
        "decorated ok"


def test_instance_auth(srv):
    r = srv.get("/pub/auth.py/guarded/page")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"] == 'Basic realm="Instance Realm"'
    assert ok(srv, "/pub/auth.py/guarded/page", headers=basic("spam", "eggs")).text == \
        "guarded page"
    assert srv.get("/pub/auth.py/guarded/page", headers=basic("ham", "jam")).status == 403
    assert srv.get("/pub/auth.py/opened/page").status == 401
    assert ok(srv, "/pub/auth.py/opened/page", headers=basic("spam", "eggs")).text == \
        "open page"


def test_auth_failure_logged(srv):
    mark = srv.log_mark()
    assert srv.get("/pub/modauth.py", headers=basic("spam", "wrong")).status == 401
    assert "MP0398" in srv.log_since(mark)


# ------------------------------------------------------------- reloading

def test_autoreload_after_edit(srv):
    assert ok(srv, "/pub/reloaded.py").text == "version 1"
    srv.write("htdocs/pub/reloaded.py",
              "def index(req):\n    return 'version 2'\n\ndef extra(req):\n    return 'extra'\n")
    assert ok(srv, "/pub/reloaded.py").text == "version 2"
    assert ok(srv, "/pub/reloaded.py/extra").text == "extra"
    # edit in place (same inode)
    path = os.path.join(srv.docroot, "pub", "reloaded.py")
    with open(path, "w") as f:
        f.write("def index(req):\n    return 'version 3'\n")
    assert ok(srv, "/pub/reloaded.py").text == "version 3"
    assert srv.get("/pub/reloaded.py/extra").status == 404


def test_autoreload_broken_page_keeps_last_good(srv):
    srv.write("htdocs/pub/fragile.py", "def index(req):\n    return 'good'\n")
    assert ok(srv, "/pub/fragile.py").text == "good"
    srv.write("htdocs/pub/fragile.py", "def index(req):\n    return 'bad'\n  oops\n")
    r = srv.get("/pub/fragile.py")
    assert r.status == 500
    assert "SyntaxError" in r.text or "IndentationError" in r.text
    assert ok(srv, "/quiet/page.py").body == b""
    srv.write("htdocs/pub/fragile.py", "def index(req):\n    return 'fixed'\n")
    assert ok(srv, "/pub/fragile.py").text == "fixed"


def test_autoreload_off(srv):
    assert ok(srv, "/frozen/page.py").text == "frozen 1"
    srv.write("htdocs/frozen/page.py", "def index(req):\n    return 'frozen 2'\n")
    assert ok(srv, "/frozen/page.py").text == "frozen 1"


def test_new_page_appears(srv):
    assert srv.get("/pub/later.py").status == 404
    srv.write("htdocs/pub/later.py", "def index(req):\n    return 'later'\n")
    assert ok(srv, "/pub/later.py").text == "later"


def test_concurrent_first_load(srv):
    srv.write("htdocs/pub/busy.py", "import time\nCOUNT = [0]\ntime.sleep(0.2)\n"
              "def index(req):\n    return 'busy %d' % len(COUNT)\n")
    results = []

    def worker():
        r = srv.get("/pub/busy.py")
        results.append((r.status, r.text))

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(200, "busy 1")] * 16


def test_no_crash(srv):
    srv.assert_no_crash()
