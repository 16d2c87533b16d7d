"""Every object used from two sub-interpreters at once under the event MPM
(many threads), plus a filter in each: no errors, no crash, and each
interpreter keeps its own module state."""
import json
import threading

import pytest


CONF = """
<Directory @DOCROOT@/a>
  SetHandler mod_python
  PythonInterpreter interp_a
  PythonHandler objects
  PythonOutputFilter objects::outputfilter UPPER_A
  SetOutputFilter UPPER_A
  PythonOption who a
</Directory>
<Directory @DOCROOT@/b>
  SetHandler mod_python
  PythonInterpreter interp_b
  PythonHandler objects
  PythonOutputFilter objects::outputfilter UPPER_B
  SetOutputFilter UPPER_B
  PythonOption who b
</Directory>
"""

OBJECTS = r'''
import json
from mod_python import apache

counter = 0

def outputfilter(filter):
    # the filter object, its request, and the interpreter it runs in
    assert filter.req.interpreter == apache.interpreter
    s = filter.read()
    while s:
        filter.write(s.replace(b"marker", b"MARKER"))
        s = filter.read()
    if s is None:
        filter.close()

def handler(req):
    global counter
    counter += 1
    t = apache.table({"a": "1"})
    t.add("a", "2")
    req.headers_out["X-Interp"] = req.interpreter
    req.notes["n"] = str(counter)
    c = req.connection
    s = req.server
    fi = apache.stat(req.filename or __file__, apache.APR_FINFO_NORM)
    hl = req.hlist
    out = {
        "interp": req.interpreter,
        "apache_interp": apache.interpreter,
        "who": req.get_options()["who"],
        "table": t.getall("a") if hasattr(t, "getall") else t["a"],
        "conn": [c.client_ip, c.local_ip, c.keepalives >= 0, c.notes is not None],
        "server": [s.server_hostname, s.is_virtual, s.timeout > 0,
                   dict(s.get_config()) is not None],
        "finfo": [fi.filetype, fi.size is not None, req.finfo.filetype],
        "hlist": [hl.handler, hl.directory is not None],
        "headers": req.headers_in.get("X-Test"),
        "counter": counter,
        "m": "marker",
    }
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK
'''


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files={"htdocs/a/objects.py": OBJECTS, "htdocs/b/objects.py": OBJECTS},
                 name="multi-interp")


def test_both_interpreters_concurrently(srv):
    errors, seen = [], {"a": 0, "b": 0}
    lock = threading.Lock()

    def client(which, n):
        for i in range(n):
            try:
                r = srv.get("/%s/objects.py" % which, headers={"X-Test": "v%d" % i})
            except Exception as e:          # pragma: no cover - reported below
                errors.append(repr(e))
                continue
            if r.status != 200:
                errors.append((which, r.status, r.text[:300]))
                continue
            d = json.loads(r.text)
            ok = (d["interp"] == d["apache_interp"] == "interp_" + which
                  and d["who"] == which and d["headers"] == "v%d" % i
                  and d["m"] == "MARKER" and r.headers.get("X-Interp") == d["interp"]
                  and d["hlist"][0] == "objects")
            if not ok:
                errors.append((which, d))
            with lock:
                seen[which] += 1

    threads = [threading.Thread(target=client, args=(w, 60))
               for w in ("a", "b") for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert seen == {"a": 480, "b": 480}


def test_module_state_is_per_interpreter(srv):
    a = json.loads(srv.get("/a/objects.py").text)
    b = json.loads(srv.get("/b/objects.py").text)
    assert a["interp"] == "interp_a" and b["interp"] == "interp_b"
    # each interpreter counts its own requests (children may split them,
    # but a counter never includes the other interpreter's hits)
    assert a["counter"] <= 481 and b["counter"] <= 481
