"""Core: errors in handlers and PythonDebug (mod_python 3.5 manual: PythonDebug).  A
raising handler gives 500; the traceback goes to the client only with PythonDebug
On, and always to the error log; import failures are 500 + logged; the server keeps
serving afterwards.  Parametrised over the three MPMs."""
import pytest

from harness import MPMS

pytestmark = pytest.mark.mpms(*MPMS)

BOOM_PY = r'''
from mod_python import apache

def handler(req):
    raise ValueError("boom-" + req.uri.rsplit("/", 1)[-1])

def ok(req):
    req.content_type = "text/plain"
    req.write("fine")
    return apache.OK

def fixup_boom(req):
    raise KeyError("fixup-boom")
'''

BROKEN_SYNTAX_PY = "def handler(req)\n    return 0\n"
BROKEN_IMPORT_PY = "raise RuntimeError('import-time-failure-marker')\n"

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"

<Directory @DOCROOT@/on>
    SetHandler mod_python
    PythonDebug On
    PythonHandler boom
</Directory>
<Directory @DOCROOT@/off>
    SetHandler mod_python
    PythonDebug Off
    PythonHandler boom
</Directory>
<Directory @DOCROOT@/unset>
    SetHandler mod_python
    PythonHandler boom
</Directory>
<Directory @DOCROOT@/fine>
    SetHandler mod_python
    PythonHandler boom::ok
</Directory>
<Directory @DOCROOT@/fixup>
    PythonDebug On
    PythonFixupHandler boom::fixup_boom
</Directory>
<Directory @DOCROOT@/syntax>
    SetHandler mod_python
    PythonDebug On
    PythonHandler broken_syntax
</Directory>
<Directory @DOCROOT@/importerr>
    SetHandler mod_python
    PythonDebug Off
    PythonHandler broken_import
</Directory>
<Directory @DOCROOT@/nomodule>
    SetHandler mod_python
    PythonHandler no_such_module_xyz
</Directory>
'''

FILES = {
    "lib/boom.py": BOOM_PY,
    "lib/broken_syntax.py": BROKEN_SYNTAX_PY,
    "lib/broken_import.py": BROKEN_IMPORT_PY,
    "htdocs/fixup/static.txt": "static\n",
}
for d in ("on", "off", "unset", "fine", "syntax", "importerr", "nomodule"):
    FILES["htdocs/%s/.keep" % d] = ""


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="errors")


def test_debug_on_traceback_in_body_and_log(srv):
    mark = srv.log_mark()
    r = srv.get("/on/one")
    assert r.status == 500
    assert "Traceback" in r.text
    assert "ValueError: boom-one" in r.text
    assert 'Mod_python error: "PythonHandler boom"' in r.text
    assert r.headers["Content-Type"].startswith("text/html")
    log = srv.log_since(mark)
    assert "ValueError: boom-one" in log
    assert "PythonHandler boom" in log


@pytest.mark.parametrize("where", ["off", "unset"])
def test_debug_off_no_traceback_in_body(srv, where):
    mark = srv.log_mark()
    r = srv.get("/%s/two" % where)
    assert r.status == 500
    assert "Traceback" not in r.text
    assert "boom-two" not in r.text
    log = srv.log_since(mark)
    assert "ValueError: boom-two" in log
    assert "Traceback" in log


def test_error_in_fixup_phase(srv):
    mark = srv.log_mark()
    r = srv.get("/fixup/static.txt")
    assert r.status == 500
    assert "fixup-boom" in r.text
    assert "PythonFixupHandler" in srv.log_since(mark)


def test_syntax_error_module(srv):
    mark = srv.log_mark()
    r = srv.get("/syntax/x")
    assert r.status == 500
    assert "SyntaxError" in r.text
    assert "SyntaxError" in srv.log_since(mark)


def test_import_time_exception(srv):
    mark = srv.log_mark()
    r = srv.get("/importerr/x")
    assert r.status == 500
    assert "import-time-failure-marker" not in r.text
    assert "import-time-failure-marker" in srv.log_since(mark)


def test_import_time_exception_repeats(srv):
    # A module that failed to import is not left half-imported: the next
    # request fails the same way (no AttributeError on a broken module).
    mark = srv.log_mark()
    r = srv.get("/importerr/y")
    assert r.status == 500
    assert "import-time-failure-marker" in srv.log_since(mark)


def test_missing_module(srv):
    mark = srv.log_mark()
    r = srv.get("/nomodule/x")
    assert r.status == 500
    assert "no_such_module_xyz" in srv.log_since(mark)


def test_server_keeps_serving(srv):
    for _ in range(5):
        assert srv.get("/on/x").status == 500
        r = srv.get("/fine/x")
        assert r.status == 200
        assert r.text == "fine"
    srv.assert_no_crash()
