"""The typed API stays true: every attribute and method of the live request,
connection, server, table, filter, finfo and hlist objects, of `_apache` and
of `mod_python.apache`, read inside a real httpd, appears in the stubs
(lib/python/_apache-stubs/__init__.pyi, lib/python/mod_python/apache.pyi)
and nothing else does; the special methods the stubs declare exist."""
import ast
import json

import pytest

from harness import REPO

STUBS_APACHE = REPO / "lib" / "python" / "_apache-stubs" / "__init__.pyi"
STUBS_MODULE = REPO / "lib" / "python" / "mod_python" / "apache.pyi"

# name of the stub class -> how the handler reaches a live object of it
OBJECTS = {"mp_request": "req", "mp_conn": "req.connection", "mp_server": "req.server",
           "mp_table": "req.headers_in", "mp_finfo": "req.finfo", "mp_hlist": "req.hlist"}

PROBE_PY = r'''
import json, types
import _apache
from mod_python import apache

OBJECTS = %r

def names(o):
    return sorted(n for n in dir(o) if not n.startswith("__"))

def dunders(o):
    return sorted(n for n in dir(type(o)) if n.startswith("__"))

def handler(req):
    out = {"objects": {}, "dunders": {}}
    for cls, expr in OBJECTS.items():
        o = eval(expr, {"req": req})
        out["objects"][cls] = names(o)
        out["dunders"][cls] = dunders(o)
    out["_apache"] = names(_apache)
    out["apache"] = sorted(n for n in names(apache) if not n.startswith("_")
                           and not isinstance(getattr(apache, n), types.ModuleType))
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK

def outfilter(filter):
    """Replaces the response with the names of the filter object."""
    data = filter.read()
    while data:
        data = filter.read()
    if data is None:
        filter.write(json.dumps({"names": names(filter), "dunders": dunders(filter)}))
        filter.close()
''' % (OBJECTS,)

CONFIG = r'''
<Directory @DOCROOT@/app>
    SetHandler mod_python
    PythonHandler probe
</Directory>
<Directory @DOCROOT@/filtered>
    PythonOutputFilter probe::outfilter PROBEFILTER
    SetOutputFilter PROBEFILTER
    PythonPath "sys.path + ['@DOCROOT@/app']"
</Directory>
'''


@pytest.fixture(scope="module")
def live(httpd):
    srv = httpd(CONFIG, files={"htdocs/app/probe.py": PROBE_PY,
                               "htdocs/filtered/page.txt": "some text\n"}, name="stubs")
    r = srv.get("/app/x")
    assert r.status == 200, srv.error_log()[-3000:]
    f = srv.get("/filtered/page.txt")
    assert f.status == 200, srv.error_log()[-3000:]
    d = json.loads(r.body)
    filt = json.loads(f.body)
    d["objects"]["mp_filter"] = filt["names"]
    d["dunders"]["mp_filter"] = filt["dunders"]
    return d


def stub_module(path):
    """({class: (names, dunders)}, module-level names) of a stub file.
    Module-level names are what it defines or re-exports (`import x as x`);
    private aliases (`_T = TypeVar(...)`) are not names of the module."""
    tree = ast.parse(path.read_text(), str(path))
    classes, names = {}, set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
            classes[node.name] = ({m for m in members if not m.startswith("__")},
                                  {m for m in members if m.startswith("__")})
            names.add(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name)
                         and not t.id.startswith("_"))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname for a in node.names if a.asname == a.name)
    return classes, names


def test_stubs_parse():
    for path in (STUBS_APACHE, STUBS_MODULE):
        compile(path.read_text(), str(path), "exec", ast.PyCF_ONLY_AST)
    assert (REPO / "lib" / "python" / "mod_python" / "py.typed").exists()


@pytest.mark.parametrize("cls", sorted(OBJECTS) + ["mp_filter"])
def test_object_matches_stub(live, cls):
    classes, _ = stub_module(STUBS_APACHE)
    stub_names, stub_dunders = classes[cls]
    have = set(live["objects"][cls])
    assert sorted(have - stub_names) == [], "live %s attributes missing from the stub" % cls
    assert sorted(stub_names - have) == [], "stub %s attributes the object lacks" % cls
    assert sorted(stub_dunders - set(live["dunders"][cls])) == [], \
        "special methods the stub of %s declares but the type lacks" % cls


def test_apache_builtin_matches_stub(live):
    _, stub = stub_module(STUBS_APACHE)
    have = set(live["_apache"])
    assert sorted(have - stub) == [], "_apache names missing from the stubs"
    assert sorted(stub - have) == [], "names in the _apache stubs that _apache lacks"


def test_apache_module_matches_stub(live):
    _, stub = stub_module(STUBS_MODULE)
    stub = {n for n in stub if not n.startswith("_")}
    have = set(live["apache"])
    assert sorted(have - stub) == [], "mod_python.apache names missing from apache.pyi"
    assert sorted(stub - have) == [], "names in apache.pyi that mod_python.apache lacks"
