"""Directive parsing and merging of src/config.c, checked without Python.

Builds test/unit/confdump.c (a stand-in python_module that links only
build/src/config.o and dumps the effective configuration as text) and runs
it in a real httpd through the harness.
"""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

from harness import Httpd  # noqa: E402

SO = os.path.join(REPO, "build", "test", "unit", "confdump.so")


@pytest.fixture(scope="module")
def confdump():
    p = subprocess.run(["make", "-s", "-f", "Makefile", "-f", "test/unit/unit.mk",
                        "build/test/unit/confdump.so"], cwd=REPO,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 0, p.stdout.decode()
    return SO


CONF = """
LoadModule python_module {so}
PythonDebug On
PythonInterpPerDirectory On
PythonOption topopt 1
PythonOption shared top
PythonOption empty
PythonPath "sys.path+['/x']"
PythonImport m1 i1
PythonImport m2::f i2
PythonConnectionHandler c1 c2
PythonOptimize on
PythonInitHandler topinit
PythonHandler top | .top

<Directory "@DOCROOT@">
    SetHandler confdump
    PythonHandler a b
    PythonHandler "c::d"
    PythonHandler x y | .py .tar.gz
    PythonHandler x2 | .py
    PythonHandlerModule hm | .hm
    PythonOption shared dir
    PythonDebug Off
    PythonOutputFilter f::out MyFilter
    PythonInputFilter g
</Directory>
<Directory "@DOCROOT@/sub">
    PythonHandler subh
    <Files "*.txt">
        PythonFixupHandler fx
    </Files>
</Directory>
<Directory ~ "/rx[0-9]">
    PythonAccessHandler rxh
</Directory>
<Directory "@DOCROOT@/w*">
    PythonAccessHandler wh
</Directory>
<Directory "@DOCROOT@/ht">
    AllowOverride All
</Directory>
<Location /loc>
    SetHandler confdump
    PythonHandler loch
    PythonInterpreter locinterp
</Location>
<LocationMatch "^/lm">
    SetHandler confdump
    PythonAccessHandler lmh
</LocationMatch>
<Location /plainloc>
    SetHandler confdump
    PythonOption fromloc 1
</Location>

Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
    PythonImport vm vi
    PythonOption vopt 1
    PythonConnectionHandler vc
    PythonAutoReload Off
    <Directory "@DOCROOT@/v">
        PythonInterpPerDirective On
    </Directory>
</VirtualHost>
"""

FILES = {
    "htdocs/x.py": "",
    "htdocs/a.tar.gz": "",
    "htdocs/noext": "",
    "htdocs/f.hm": "",
    "htdocs/sub/s.py": "",
    "htdocs/sub/t.txt": "",
    "htdocs/rx1/r.txt": "",
    "htdocs/wab/w.txt": "",
    "htdocs/ht/.htaccess": "PythonHandler hth\nPythonOption z 9\n"
                           "<Files q.txt>\nPythonLogHandler hq\n</Files>\n",
    "htdocs/ht/h.txt": "",
    "htdocs/ht/q.txt": "",
    "htdocs/v/v.txt": "",
}


@pytest.fixture(scope="module")
def srv(confdump):
    s = Httpd(CONF.format(so=confdump), files=FILES, load_python=False, name="confdump")
    s.start()
    yield s
    s.stop()


def dump(srv, path, port=None):
    r = srv.get(path, port=port)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return r.text.splitlines()


def lists(lines, key):
    pre = "list %s: " % key
    return [l[len(pre):] for l in lines if l.startswith(pre)]


def names(lines, key):
    return [l.split(" ", 1)[0] for l in lists(lines, key)]


def test_accumulate_and_ext(srv):
    d = srv.docroot
    lines = dump(srv, "/noext")
    assert names(lines, "PythonHandler") == ["a", "b", '"c::d"']
    entry = lists(lines, "PythonHandler")[0]
    assert "dir=%s/ " % os.path.realpath(d) in entry
    assert "fn=0 re=0 loc=0 silent=0" in entry
    assert names(lines, "ext:PythonHandler.py") == ["x", "y", "x2"]
    assert names(lines, "ext:PythonHandler.tar.gz") == ["x", "y"]
    assert names(lines, "ext:PythonHandler.top") == ["top"]
    # PythonHandlerModule: 12 silent phases, not the connection phase
    for ph in ("PythonPostReadRequestHandler", "PythonTransHandler", "PythonInitHandler",
               "PythonCleanupHandler", "PythonHandler"):
        assert "ext:%s.hm" % ph in "\n".join(lines)
    assert "ext:PythonConnectionHandler.hm" not in "\n".join(lines)
    assert "silent=1" in lists(lines, "ext:PythonLogHandler.hm")[0]
    assert "effective PythonHandler ext=(null) first=a" in lines
    assert "extension=(null)" in lines


def test_ext_selection(srv):
    lines = dump(srv, "/x.py")
    assert "effective PythonHandler ext=.py first=x" in lines
    lines = dump(srv, "/a.tar.gz")
    assert "extension=.tar.gz" in lines
    assert "effective PythonHandler ext=.tar.gz first=x" in lines


def test_directives_and_options(srv):
    lines = dump(srv, "/noext")
    assert "directive PythonDebug=0" in lines
    assert "directive PythonInterpPerDirectory=1" in lines
    assert "directive PythonPath=sys.path+['/x']" in lines
    assert "option shared=dir" in lines
    assert "option topopt=1" in lines
    assert "option empty=" in lines
    assert "flags autoreload=-1 debug=0 pdb=-1 perdir=1 perdirective=-1" in lines
    # server tables: top level only; PerDirectory never
    assert "srvdirective PythonDebug=1" in lines
    assert not any(l.startswith("srvdirective PythonInterpPerDirectory") for l in lines)
    assert "srvoption shared=top" in lines
    assert "srvoption empty=" in lines
    assert "connection c1 dir=(null)" in lines and "connection c2 dir=(null)" in lines
    assert lines.index("import m1 i1") < lines.index("import m2::f i2")
    assert "optimize=1 effective=1" in lines
    assert "lookup 6 -1" in lines
    assert names(lines, "PythonInitHandler") == ["topinit"]
    assert "list PythonInitHandler: topinit dir=(null)" in "\n".join(lines)


def test_filters(srv):
    lines = dump(srv, "/noext")
    out = lists(lines, "out:myfilter")
    assert len(out) == 1 and out[0].startswith("f::out dir=%s/" % os.path.realpath(srv.docroot))
    assert names(lines, "in:g") == ["g"]


def test_subdir_replaces_but_ext_inherited(srv):
    lines = dump(srv, "/sub/s.py")
    assert names(lines, "PythonHandler") == ["subh"]
    assert "effective PythonHandler ext=.py first=x" in lines
    lines = dump(srv, "/sub/t.txt")
    fx = lists(lines, "PythonFixupHandler")
    assert len(fx) == 1 and "dir=%s/sub/ " % os.path.realpath(srv.docroot) in fx[0]
    assert "effective PythonHandler ext=(null) first=subh" in lines


def test_regex_and_fnmatch_resolution(srv):
    d = os.path.realpath(srv.docroot)
    lines = dump(srv, "/rx1/r.txt")
    rx = lists(lines, "PythonAccessHandler")
    assert len(rx) == 1
    assert "rxh dir=/rx[0-9] fn=0 re=1" in rx[0]
    assert rx[0].endswith("resolved=%s/rx1/" % d)
    lines = dump(srv, "/wab/w.txt")
    wh = lists(lines, "PythonAccessHandler")
    assert "fn=1 re=0" in wh[0]
    assert wh[0].endswith("resolved=%s/wab/" % d)


def test_htaccess(srv):
    d = os.path.realpath(srv.docroot)
    lines = dump(srv, "/ht/h.txt")
    h = lists(lines, "PythonHandler")
    assert len(h) == 1 and h[0].startswith("hth dir=%s/ht/ " % d)
    assert "option z=9" in lines
    assert "config_dir=%s/ht/" % d in lines
    lines = dump(srv, "/ht/q.txt")
    q = lists(lines, "PythonLogHandler")
    assert len(q) == 1 and q[0].startswith("hq dir=%s/ht/ " % d)


def test_location(srv):
    lines = dump(srv, "/loc/anything")
    h = lists(lines, "PythonHandler")
    assert len(h) == 1 and h[0].startswith("loch dir=/loc fn=0 re=0 loc=1")
    assert "d_is_location=1" in lines
    assert "interpreter=locinterp" in lines
    assert "directive PythonInterpreter=locinterp" in lines
    assert not any(l.startswith("srvdirective PythonInterpreter") for l in lines)
    lines = dump(srv, "/lm/x")
    h = lists(lines, "PythonAccessHandler")
    assert len(h) == 1 and "lmh dir=^/lm fn=0 re=1 loc=1" in h[0]
    assert "d_is_location=1" in lines
    # a Location without handler directives resets d_is_location
    lines = dump(srv, "/plainloc/x")
    assert "d_is_location=0" in lines
    assert "config_dir=/plainloc" in lines


def test_vhost(srv):
    lines = dump(srv, "/v/v.txt", port=srv.port2)
    assert "import vm vi" in lines
    assert not any(l.startswith("import m1") for l in lines)
    assert "srvoption vopt=1" in lines and "srvoption topopt=1" in lines
    assert "srvdirective PythonAutoReload=0" in lines
    assert "srvdirective PythonDebug=1" in lines
    assert "connection vc dir=(null)" in lines
    assert not any(l.startswith("connection c1") for l in lines)
    assert "flags autoreload=0 debug=0 pdb=-1 perdir=1 perdirective=1" in lines


BAD = [
    ("PythonTransHandler x | .py",
     'PythonTransHandler does not accept "| .ext" syntax.'),
    ("PythonPostReadRequestHandler x|.py",
     'PythonPostReadRequestHandler does not accept "| .ext" syntax.'),
    ("PythonOptimize maybe", "PythonOptimize must be On or Off, not 'maybe'"),
    ("PythonHandler | .py", "PythonHandler requires at least one handler"),
    ("PythonHandlerModule", "PythonHandlerModule requires at least one handler"),
]


@pytest.mark.parametrize("line,msg", BAD)
def test_bad_config(confdump, line, msg):
    s = Httpd("LoadModule python_module %s\n%s\n" % (confdump, line),
              load_python=False, name="confbad")
    rc, out = s.configtest()
    assert rc != 0
    assert msg in out
