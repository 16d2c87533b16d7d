"""Core: interpreter selection (mod_python 3.5 manual: "Multiple Interpreters") and
PythonImport.  Name-based virtual hosts get separate interpreters named
after their ServerName; PythonInterpreter makes them share one; PerDirectory and
PerDirective naming.  Servers run a single child process so that module globals
count per interpreter.  Parametrised over the three MPMs."""
import json

import pytest

from harness import MPMS, SINGLE_CHILD

pytestmark = pytest.mark.mpms(*MPMS)

COUNT_PY = r'''
import json, sys
from mod_python import apache

counter = 0

def handler(req):
    global counter
    counter += 1
    req.content_type = "application/json"
    req.write(json.dumps({
        "req": req.interpreter,
        "apache": apache.interpreter,
        "count": counter,
        "imported_at_start": "startmod" in sys.modules,
        "startmod": getattr(sys.modules.get("startmod"), "STATE", None),
        "startfunc": getattr(sys.modules.get("startfunc"), "CALLED", None),
        "filename": req.filename,
    }))
    return apache.OK
'''

STARTMOD_PY = r'''
from mod_python import apache
STATE = "imported in " + apache.interpreter
apache.log_error("PYIMPORT-MARKER startmod " + apache.interpreter, apache.APLOG_NOTICE)
'''

STARTFUNC_PY = r'''
CALLED = None

def init():
    global CALLED
    from mod_python import apache
    CALLED = "init() in " + apache.interpreter
'''

BADIMPORT_PY = "raise RuntimeError('pythonimport-failure-marker')\n"

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
PythonImport startmod a.test
PythonImport startfunc::init a.test
PythonImport startmod shared_interp
PythonImport badimport b.test

<Directory @DOCROOT@>
    SetHandler mod_python
    PythonHandler count
</Directory>
<Directory @DOCROOT@/named>
    PythonInterpreter named_one
</Directory>
<Directory @DOCROOT@/perdir>
    PythonInterpPerDirectory On
    DirectorySlash Off
</Directory>
<Directory @DOCROOT@/perdirective>
    PythonInterpPerDirective On
    PythonHandler count
</Directory>
<Location /loc>
    SetHandler mod_python
    PythonInterpPerDirective On
    PythonHandler count
</Location>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName a.test
    DocumentRoot @DOCROOT@
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName b.test
    DocumentRoot @DOCROOT@
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName c.test
    DocumentRoot @DOCROOT@
    PythonInterpreter shared_interp
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName d.test
    DocumentRoot @DOCROOT@
    PythonInterpreter shared_interp
</VirtualHost>
'''

FILES = {
    "lib/count.py": COUNT_PY,
    "lib/startmod.py": STARTMOD_PY,
    "lib/startfunc.py": STARTFUNC_PY,
    "lib/badimport.py": BADIMPORT_PY,
    "htdocs/x.txt": "x\n",
    "htdocs/named/x.txt": "x\n",
    "htdocs/perdir/x.py": "x\n",
    "htdocs/perdir/subdir/foo.py": "x\n",
    "htdocs/perdirective/x.txt": "x\n",
    "htdocs/perdirective/sub/y.txt": "x\n",
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, mpm_config=SINGLE_CHILD, name="interp")


def info(srv, path, host):
    r = srv.get(path, headers={"Host": host})
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.text)


def test_vhost_interpreter_names(srv):
    for host in ("a.test", "b.test"):
        d = info(srv, "/x.txt", host)
        assert d["req"] == host
        assert d["apache"] == host
    for host in ("c.test", "d.test"):
        d = info(srv, "/x.txt", host)
        assert d["req"] == "shared_interp"
        assert d["apache"] == "shared_interp"


def test_vhosts_do_not_share_module_globals(srv):
    a1 = info(srv, "/x.txt", "a.test")["count"]
    b1 = info(srv, "/x.txt", "b.test")["count"]
    a2 = info(srv, "/x.txt", "a.test")["count"]
    a3 = info(srv, "/x.txt", "a.test")["count"]
    b2 = info(srv, "/x.txt", "b.test")["count"]
    assert (a2, a3) == (a1 + 1, a1 + 2)
    assert b2 == b1 + 1


def test_python_interpreter_shares_module_globals(srv):
    c1 = info(srv, "/x.txt", "c.test")["count"]
    d1 = info(srv, "/x.txt", "d.test")["count"]
    c2 = info(srv, "/x.txt", "c.test")["count"]
    assert d1 == c1 + 1
    assert c2 == c1 + 2


def test_python_interpreter_in_directory(srv):
    d = info(srv, "/named/x.txt", "a.test")
    assert d["req"] == "named_one"
    assert d["apache"] == "named_one"


def test_python_import_at_child_start(srv):
    d = info(srv, "/x.txt", "a.test")
    assert d["imported_at_start"] is True
    assert d["startmod"] == "imported in a.test"
    assert d["startfunc"] == "init() in a.test"
    d = info(srv, "/x.txt", "c.test")
    assert d["startmod"] == "imported in shared_interp"
    assert srv.log_contains("PYIMPORT-MARKER startmod a.test")
    assert srv.log_contains("PYIMPORT-MARKER startmod shared_interp")


def test_python_import_only_in_named_interpreter(srv):
    d = info(srv, "/x.txt", "b.test")
    assert d["imported_at_start"] is False
    assert d["startfunc"] is None


def test_python_import_failure_logged_not_fatal(srv):
    log = srv.error_log()
    assert "pythonimport-failure-marker" in log
    assert "badimport" in log
    assert info(srv, "/x.txt", "b.test")["req"] == "b.test"


@pytest.mark.parametrize("path,suffix", [
    ("/perdir/x.py", "/perdir/"),
    ("/perdir/subdir/foo.py", "/perdir/subdir/"),
    ("/perdir/subdir/", "/perdir/subdir/"),
    ("/perdir/subdir", "/perdir/subdir/"),
])
def test_interp_per_directory(srv, path, suffix):
    d = info(srv, path, "a.test")
    assert d["req"] == srv.docroot + suffix
    assert d["apache"] == srv.docroot + suffix


@pytest.mark.parametrize("path", ["/perdirective/x.txt", "/perdirective/sub/y.txt"])
def test_interp_per_directive(srv, path):
    d = info(srv, path, "a.test")
    assert d["req"] == srv.docroot + "/perdirective/"


def test_interp_per_directive_location(srv):
    # Location handler: directory is the Location path as written, and the
    # Location short-cut leaves req.filename unset.
    d = info(srv, "/loc/anything", "a.test")
    assert d["req"] == "/loc"
    assert d["filename"] is None


def test_no_crash(srv):
    srv.assert_no_crash()
