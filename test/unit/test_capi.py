"""mod_python's C interface for other modules (include/mod_python.h),
used by a test-only module (test/unit/capi_client.c) in a real httpd."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))

from harness import Httpd  # noqa: E402

SO = os.path.join(REPO, "build", "test", "unit", "capi_client.so")

CONF = """
LoadModule capi_client_module %s
<Directory @DOCROOT@>
  SetHandler mp-capi-test
  PythonFixupHandler fix
</Directory>
"""

FIX = """\
from mod_python import apache
def fixuphandler(req):
    req.marker = "set-by-python"
    return apache.OK
"""


@pytest.fixture(scope="module")
def srv():
    p = subprocess.run(["make", "-s", "-f", "Makefile", "-f", "test/unit/unit.mk",
                        "build/test/unit/capi_client.so"],
                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 0, p.stdout.decode()
    s = Httpd(CONF % SO, files={"htdocs/fix.py": FIX}, mpm="event", name="capi")
    s.start()
    yield s
    s.assert_no_crash()
    s.stop()


def test_shared_request_object_and_wrappers(srv):
    # the fixup ran in the vhost's interpreter ("127.0.0.1"); acquiring the
    # same interpreter gives the same request object
    r = srv.get("/x?127.0.0.1")
    assert r.status == 200
    assert r.text == "marker=set-by-python interp=127.0.0.1 host=127.0.0.1 ip=127.0.0.1"


def test_other_interpreter_gets_its_own_object(srv):
    r = srv.get("/x?other_interp")
    assert r.status == 200
    assert r.text.startswith("marker=<error> interp=other_interp ")


def test_main_interpreter_and_many_threads(srv):
    import threading
    bad = []

    def go():
        for _ in range(30):
            r = srv.get("/x")
            if r.status != 200 or "interp=main_interpreter" not in r.text:
                bad.append((r.status, r.text))

    ts = [threading.Thread(target=go) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not bad, bad[:3]
