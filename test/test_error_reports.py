"""Errors a person can act on: what the error log (and the PythonDebug page)
says when a handler fails, asserted line by line.

* A failure is logged once, as one block of log lines each carrying the
  block's tag, starting with the phase, the handler and the request.
* Frames of mod_python's dispatch machinery and of importlib are left out;
  one line says how many.  The user's frames, the exception and its chain
  stay.
* A missing handler module says where it was looked for (handler directory,
  sys.path of the interpreter) and points at PythonPath.
* A reload failure is logged once per change (MP0353) under PythonDebug Off,
  and once per request, by the request, under PythonDebug On.
* Every message about a request or a virtual host, the importer's notices
  included, goes to that virtual host's ErrorLog.
* A multi-line message is written one log line per line (httpd would turn
  the line ends into literal \\n), each with the message's tag.
"""
import os
import re
import time

import pytest

from harness import MPMS, SINGLE_CHILD

pytestmark = pytest.mark.mpms(*MPMS)

DEEP_PY = '''\
def handler(req):
    level1(req)
    return 0


def level1(req):
    level2(req)


def level2(req):
    level3(req)


def level3(req):
    raise ValueError("three frames deep")


def chained(req):
    try:
        raise KeyError("key")
    except KeyError as e:
        raise RuntimeError("while looking up") from e
'''

IMPORTS_MISSING_PY = '''\
import no_such_dependency_xyz


def handler(req):
    return 0
'''

LOGGER_PY = '''\
from mod_python import apache


def handler(req):
    req.log_error("MP9991: first\\nsecond\\n\\nthird\\n")
    req.log_error("alpha\\nbeta")
    req.server.log_error("MP9992: server one\\nserver two")
    req.connection.log_error("MP9993: conn one\\nconn two")
    apache.log_error("MP9994: main one\\nmain two", apache.APLOG_ERR, req.server)
    req.content_type = "text/plain"
    req.write("logged")
    return apache.OK
'''

FALLBACK_PY = '''\
import sys
from mod_python import apache


def fail(data):
    raise RuntimeError("cleanup-fails-%s" % data)


def handler(req):
    # The traceback module cannot be imported any more in this interpreter:
    # the C logger falls back to one line of its own.
    sys.modules["traceback"] = None
    req.register_cleanup(fail, req.args)
    req.content_type = "text/plain"
    req.write("ok")
    return apache.OK
'''

RELOAD_V1 = "from mod_python import apache\n\ndef handler(req):\n    req.write('v1')\n" \
            "    return apache.OK\n"
RELOAD_BROKEN = "def handler(req)\n    return 0\n"

SSI_PAGE = 'start <!--#python eval="1/0" --> end\n'

CONFIG = r'''
<Directory @DOCROOT@/deep>
    SetHandler mod_python
    PythonHandler deep
</Directory>
<Directory @DOCROOT@/deepdebug>
    SetHandler mod_python
    PythonDebug On
    PythonHandler deep
</Directory>
<Directory @DOCROOT@/chain>
    SetHandler mod_python
    PythonHandler deep::chained
</Directory>
<Directory @DOCROOT@/nomodule>
    SetHandler mod_python
    PythonHandler nosuch_handler_xyz
</Directory>
<Directory @DOCROOT@/nomodule_pp>
    SetHandler mod_python
    PythonPath "sys.path + ['@ROOT@/elsewhere']"
    PythonHandler nosuch_handler_xyz
</Directory>
<Directory @DOCROOT@/dep>
    SetHandler mod_python
    PythonHandler imports_missing
</Directory>
<Directory @DOCROOT@/syntax>
    SetHandler mod_python
    PythonHandler broken_syntax
</Directory>
<Directory @DOCROOT@/reload_off>
    SetHandler mod_python
    PythonDebug Off
    PythonHandler roff
</Directory>
<Directory @DOCROOT@/reload_on>
    SetHandler mod_python
    PythonDebug On
    PythonHandler ron
</Directory>
<Directory @DOCROOT@/logger>
    SetHandler mod_python
    PythonHandler logger
</Directory>
<Directory @DOCROOT@/fallback>
    SetHandler mod_python
    PythonInterpreter fallback_test
    PythonHandler fallback
</Directory>
<Directory @DOCROOT@/ssi>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
</Directory>

Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName vhost.test
    ErrorLog "@ROOT@/logs/vhost_error_log"
    DocumentRoot "@DOCROOT@"
    PythonImport vhost_import_missing vhost.test
    <Directory @DOCROOT@/vh>
        SetHandler mod_python
        PythonDebug On
        PythonHandler vhmod
    </Directory>
    <Directory @DOCROOT@/vhoff>
        SetHandler mod_python
        PythonDebug Off
        PythonHandler vhoffmod
    </Directory>
</VirtualHost>
'''

FILES = {
    "htdocs/deep/deep.py": DEEP_PY,
    "htdocs/deepdebug/deep.py": DEEP_PY,
    "htdocs/chain/deep.py": DEEP_PY,
    "htdocs/nomodule/.keep": "",
    "htdocs/nomodule_pp/.keep": "",
    "htdocs/dep/imports_missing.py": IMPORTS_MISSING_PY,
    "htdocs/syntax/broken_syntax.py": RELOAD_BROKEN,
    "htdocs/reload_off/roff.py": RELOAD_V1,
    "htdocs/reload_on/ron.py": RELOAD_V1,
    "htdocs/logger/logger.py": LOGGER_PY,
    "htdocs/fallback/fallback.py": FALLBACK_PY,
    "htdocs/ssi/error.shtml": SSI_PAGE,
    "htdocs/vh/vhmod.py": RELOAD_V1,
    "htdocs/vhoff/vhoffmod.py": RELOAD_V1,
}


@pytest.fixture(scope="module")
def srv(httpd):
    # one child: "logged once per change" is then exact
    return httpd(CONFIG, files=FILES, name="errrep", mpm_config=SINGLE_CHILD,
                 modules=("include",))


def tagged(text, tag):
    """The messages of the log lines tagged `tag`, in order."""
    out = []
    for line in text.splitlines():
        i = line.find("] %s: " % tag)
        if i >= 0:
            out.append(line[i + len(tag) + 4:])
    return out


def fetch(srv, path, wait_for, port=None, tag="MP0220"):
    """GET path; return (response, the block tagged `tag` it logged)."""
    mark = srv.log_mark()
    r = srv.get(path, port=port)
    assert srv.wait_log(wait_for, mark=mark), srv.log_since(mark)
    time.sleep(0.2)                      # the rest of the block
    return r, tagged(srv.log_since(mark), tag)


HIDDEN = re.compile(r"^\(\d+ frames? of mod_python and importlib not shown\)$")


# ------------------------------------------------------------- tracebacks

def test_missing_handler_module(srv):
    r, block = fetch(srv, "/nomodule/x", "to look elsewhere")
    assert r.status == 500
    docdir = os.path.join(srv.docroot, "nomodule", "")
    assert len(block) == 6, block
    assert block[0] == "PythonHandler nosuch_handler_xyz failed for GET /nomodule/x"
    assert HIDDEN.match(block[1]), block
    assert block[2] == "ModuleNotFoundError: No module named 'nosuch_handler_xyz'"
    assert block[3] == ("mod_python looked for module 'nosuch_handler_xyz' in the handler "
                        "directory %r, then in sys.path" % docdir)
    assert block[4].startswith("sys.path of interpreter '127.0.0.1': [%r, " % docdir)
    assert block[5] == ("to look elsewhere, add the directory with PythonPath, e.g. "
                        "PythonPath \"sys.path + ['/srv/app/lib']\", or use the packages "
                        "of a virtual environment with PythonVirtualEnv")
    log = srv.log_since(0)
    assert "apache.py" not in log and "<frozen importlib" not in log


def test_missing_handler_module_with_python_path(srv):
    r, block = fetch(srv, "/nomodule_pp/x", "to look elsewhere")
    assert r.status == 500
    assert block[0] == "PythonHandler nosuch_handler_xyz failed for GET /nomodule_pp/x"
    assert block[3] == ("mod_python looked for module 'nosuch_handler_xyz' in sys.path as "
                        "set by PythonPath sys.path + ['%s/elsewhere']" % srv.root)
    assert "%s/elsewhere'" % srv.root in block[4]


def test_missing_dependency_keeps_the_users_frame(srv):
    r, block = fetch(srv, "/dep/x", "to look elsewhere")
    path = os.path.join(srv.docroot, "dep", "imports_missing.py")
    assert block[0] == "PythonHandler imports_missing failed for GET /dep/x"
    assert HIDDEN.match(block[1]), block
    assert block[2:6] == [
        "Traceback (most recent call last):",
        '  File "%s", line 1, in <module>' % path,
        "    import no_such_dependency_xyz",
        "ModuleNotFoundError: No module named 'no_such_dependency_xyz'"]
    assert block[6].startswith("mod_python looked for module 'no_such_dependency_xyz' in "
                               "the handler directory")
    assert len(block) == 9, block


def test_syntax_error_at_first_import(srv):
    r, block = fetch(srv, "/syntax/x", "SyntaxError")
    assert r.status == 500
    path = os.path.join(srv.docroot, "syntax", "broken_syntax.py")
    assert block[0] == "PythonHandler broken_syntax failed for GET /syntax/x"
    assert HIDDEN.match(block[1]), block
    assert block[2] == '  File "%s", line 1' % path
    assert block[3] == "    def handler(req)"
    assert re.match(r"^ +\^$", block[4]), block
    assert block[5] == "SyntaxError: expected ':'"
    assert len(block) == 6, block


DEEP_LINES = [
    "Traceback (most recent call last):",
    '  File "{f}", line 2, in handler',
    "    level1(req)",
    '  File "{f}", line 7, in level1',
    "    level2(req)",
    '  File "{f}", line 11, in level2',
    "    level3(req)",
    '  File "{f}", line 15, in level3',
    '    raise ValueError("three frames deep")',
    "ValueError: three frames deep",
]


def test_exception_three_frames_deep(srv):
    r, block = fetch(srv, "/deep/x", "ValueError: three frames deep")
    assert r.status == 500
    f = os.path.join(srv.docroot, "deep", "deep.py")
    # a lone handler is called from C (src/dispatch.c): no frame of
    # mod_python's machinery to leave out, so no note saying so
    assert block == (["PythonHandler deep failed for GET /deep/x"]
                     + [l.format(f=f) for l in DEEP_LINES])
    assert "Traceback" not in r.text            # PythonDebug Off


def test_debug_page_shows_the_same_lines(srv):
    r, block = fetch(srv, "/deepdebug/x", "ValueError: three frames deep")
    assert r.status == 500
    f = os.path.join(srv.docroot, "deepdebug", "deep.py")
    lines = [l.format(f=f) for l in DEEP_LINES]
    assert block[1:] == lines
    expect = '\n<pre>\nMod_python error: "PythonHandler deep"\n\n%s\n</pre>\n' % \
        "\n".join(lines).replace('"', "&quot;")
    assert r.text == expect
    assert "apache.py" not in r.text and "importer.py" not in r.text


def test_chain_stays(srv):
    r, block = fetch(srv, "/chain/x", "RuntimeError: while looking up")
    f = os.path.join(srv.docroot, "chain", "deep.py")
    assert block[0] == "PythonHandler deep::chained failed for GET /chain/x"
    assert block[1:] == [
        "Traceback (most recent call last):",
        '  File "%s", line 20, in chained' % f,
        '    raise KeyError("key")',
        "KeyError: 'key'",
        "The above exception was the direct cause of the following exception:",
        "Traceback (most recent call last):",
        '  File "%s", line 22, in chained' % f,
        '    raise RuntimeError("while looking up") from e',
        "RuntimeError: while looking up"]


def test_ssi_error_logged_once(srv):
    r, block = fetch(srv, "/ssi/error.shtml", "ZeroDivisionError", tag="MP0222")
    assert r.status == 200
    assert "[an error occurred while processing this directive]" in r.text
    assert block[0] == ("#python element in %s failed for GET /ssi/error.shtml"
                        % os.path.join(srv.docroot, "ssi", "error.shtml"))
    assert block[-1] == "ZeroDivisionError: division by zero"
    log = srv.log_since(0)
    assert "MP0814" not in log
    assert log.count("ZeroDivisionError") == 1


# ------------------------------------------------------------- reloading

def test_reload_syntax_error_debug_off_logged_once_per_change(srv):
    path = os.path.join(srv.docroot, "reload_off", "roff.py")
    assert srv.get("/reload_off/x").text == "v1"
    mark = srv.log_mark()
    srv.write("htdocs/reload_off/roff.py", RELOAD_BROKEN)
    for _ in range(5):
        r = srv.get("/reload_off/x")
        assert r.status == 200 and r.text == "v1"      # the last good version serves
    assert srv.wait_log("SyntaxError", mark=mark)
    log = srv.log_since(mark)
    block = tagged(log, "MP0353")
    assert block == [
        "mod_python: re-import of module 'roff' from '%s' failed (changed: '%s'); the "
        "last good version keeps serving:" % (path, path),
        '  File "%s", line 1' % path,
        "    def handler(req)",
        block[3],
        "SyntaxError: expected ':'"], block
    assert re.match(r"^ +\^$", block[3])
    assert "MP0220" not in log and "\\n" not in log


def test_reload_syntax_error_debug_on_logged_once_per_request(srv):
    path = os.path.join(srv.docroot, "reload_on", "ron.py")
    assert srv.get("/reload_on/x").text == "v1"
    mark = srv.log_mark()
    srv.write("htdocs/reload_on/ron.py", RELOAD_BROKEN)
    r = srv.get("/reload_on/x")
    assert r.status == 500 and "SyntaxError" in r.text
    assert srv.wait_log("SyntaxError", mark=mark)
    time.sleep(0.2)
    log = srv.log_since(mark)
    block = tagged(log, "MP0220")
    assert block[0] == "PythonHandler ron failed for GET /reload_on/x"
    assert HIDDEN.match(block[1]), block
    assert block[2] == ("mod_python.importer.ReloadError: module 'ron' ('%s') failed to "
                        "re-import; until the file is fixed the previous version is kept:"
                        % path)
    assert block[3:5] == ['  File "%s", line 1' % path, "    def handler(req)"]
    assert block[-1] == "SyntaxError: expected ':'"
    assert log.count("SyntaxError") == 1 and "MP0353" not in log
    srv.write("htdocs/reload_on/ron.py", RELOAD_V1.replace("v1", "v2"))
    deadline = time.monotonic() + 10
    while srv.get("/reload_on/x").text != "v2":
        assert time.monotonic() < deadline


# ------------------------------------------------------- virtual hosts

def vhost_log(srv):
    try:
        with open(os.path.join(srv.root, "logs", "vhost_error_log"), encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_vhost_log(srv, text, since=0, timeout=10):
    deadline = time.monotonic() + timeout
    while text not in vhost_log(srv)[since:]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_vhost_messages_go_to_its_error_log(srv):
    main_mark = srv.log_mark()
    vmark = len(vhost_log(srv))
    # first import under PythonDebug On: MP0355
    assert srv.get("/vh/x", port=srv.port2).text == "v1"
    assert wait_vhost_log(srv, "MP0355", vmark)
    # a reload: MP0350
    srv.write("htdocs/vh/vhmod.py", RELOAD_V1.replace("v1", "v2"))
    deadline = time.monotonic() + 10
    while srv.get("/vh/x", port=srv.port2).text != "v2":
        assert time.monotonic() < deadline
    assert wait_vhost_log(srv, "MP0350", vmark)
    # a failed reload under PythonDebug Off: MP0353
    assert srv.get("/vhoff/x", port=srv.port2).text == "v1"
    srv.write("htdocs/vhoff/vhoffmod.py", RELOAD_BROKEN)
    assert srv.get("/vhoff/x", port=srv.port2).text == "v1"
    assert wait_vhost_log(srv, "MP0353", vmark)
    # a handler error: MP0220
    srv.write("htdocs/vh/vhmod.py", "def handler(req):\n    raise KeyError('vh-marker')\n")
    deadline = time.monotonic() + 10
    while srv.get("/vh/x", port=srv.port2).status != 500:
        assert time.monotonic() < deadline
    assert wait_vhost_log(srv, "vh-marker", vmark)
    vlog = vhost_log(srv)[vmark:]
    for tag in ("MP0355", "MP0350", "MP0353", "MP0220"):
        assert tag in vlog, vlog
    main = srv.log_since(main_mark)
    for text in ("vhmod", "vhoffmod", "vh-marker"):
        assert text not in main, main


def test_python_import_failure_in_vhost_log(srv):
    assert wait_vhost_log(srv, "MP0224")
    block = tagged(vhost_log(srv), "MP0224")
    assert block[0] == "PythonImport vhost_import_missing failed in interpreter 'vhost.test'"
    assert "ModuleNotFoundError: No module named 'vhost_import_missing'" in block
    assert "vhost_import_missing" not in srv.error_log()


# --------------------------------------------------------------- log.c

def test_multiline_messages_one_log_line_per_line(srv):
    mark = srv.log_mark()
    assert srv.get("/logger/x").text == "logged"
    assert srv.wait_log("main two", mark=mark)
    log = srv.log_since(mark)
    assert tagged(log, "MP9991") == ["first", "second", "third"]
    assert tagged(log, "MP9992") == ["server one", "server two"]
    assert tagged(log, "MP9993") == ["conn one", "conn two"]
    assert tagged(log, "MP9994") == ["main one", "main two"]
    assert re.search(r"\] alpha$", log, re.M) and re.search(r"\] beta$", log, re.M)
    assert "\\n" not in log


def test_fallback_line_when_tracebacks_cannot_be_formatted(srv):
    mark = srv.log_mark()
    n = 200
    for i in range(n):
        assert srv.get("/fallback/x?%d" % i).text == "ok"
    assert srv.wait_log("cleanup-fails-%d " % (n - 1), mark=mark)
    lines = tagged(srv.log_since(mark), "MP0400")
    assert len(lines) == n
    # each request's cleanup runs when its pool goes, after the response
    # went out: under a threaded MPM the next request's may come first
    assert ("python_cleanup: RuntimeError: cleanup-fails-0 "
            "(traceback unavailable)") in lines
    assert srv.get("/deep/x").status == 500        # the server still serves
