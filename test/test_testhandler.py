"""mod_python.testhandler (mod_python 3.5's testhandler): the diagnostics page served by a
real httpd, with escaped values, and ?view_log=1 (last 100 lines of the
error log as text/plain)."""
import re

import pytest

pytestmark = pytest.mark.mpms("event", "prefork")

CONF = """
PythonOption server.level.option on
<Location /mpinfo>
    SetHandler mod_python
    PythonHandler mod_python.testhandler
    PythonOption test.option "<value & more>"
    PythonDebug On
</Location>
"""


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, name="testhandler")


def test_page(srv):
    r = srv.get("/mpinfo?x=1", headers={"X-Probe": "<b>probe&amp</b>"})
    assert r.status == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    t = r.text
    assert "<h1>mod_python test page</h1>" in t
    assert re.search(r"Apache/2\.4\.\d+", t)
    if srv.mpm == "prefork":
        assert "Forked MPM" in t and "Threaded MPM" not in t
    else:
        assert "Threaded MPM" in t
    assert srv.root in t                      # server root
    assert srv.docroot in t                   # document root
    assert "error_log" in t and "view_log=1" in t
    assert "3.1" in t                         # sys.version (3.11+)
    assert "127.0.0.1" in t                   # interpreter name
    assert "mod_python.publisher available" in t
    assert "mod_python.psp available" in t
    # headers_in, escaped
    assert "&lt;b&gt;probe&amp;amp&lt;/b&gt;" in t
    assert "<b>probe" not in t
    # subprocess_env after add_common_vars()
    assert "REMOTE_ADDR" in t and "HTTP_X_PROBE" in t and "SERVER_SOFTWARE" in t
    # options: the request's and the server's
    assert "test.option" in t and "&lt;value &amp; more&gt;" in t
    assert "server.level.option" in t
    # get_config(): PythonDebug
    assert "PythonDebug" in t
    # config tree, escaped
    assert "&lt;Location" in t and "/mpinfo&gt;" in t
    assert "PythonHandler mod_python.testhandler" in t
    srv.assert_no_crash()


def test_view_log(srv):
    marker = "testhandler-view-log-marker"
    srv.get("/no-such-file-" + marker)        # leaves a line in the error log
    assert srv.wait_log(marker)
    r = srv.get("/mpinfo?view_log=1")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert 0 < len(lines) <= 100
    assert marker in r.text
    # the last lines: everything the log had up to the request
    tail = srv.error_log().splitlines()
    assert lines[0] in tail[-200:]


def test_view_log_is_bounded(srv):
    for i in range(120):
        srv.get("/missing-%d" % i)
    r = srv.get("/mpinfo?view_log=1")
    assert len(r.text.splitlines()) == 100
