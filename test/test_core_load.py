"""Core: concurrency and graceful restarts with mod_python loaded (event MPM).

* 64 parallel clients for a few seconds: every response 200 with the right
  body, no crash in the error log.
* Two graceful restarts while clients run: no crash, no 5xx, no wrong
  body, no timeout (a request may fail with a connection reset while the
  restart happens); afterwards the server answers Python requests and a
  second load run sees no error at all.
"""
import http.client
import threading
import time

import pytest


WORK_PY = r'''
import threading
from mod_python import apache

_lock = threading.Lock()
hits = 0

def handler(req):
    global hits
    with _lock:
        hits += 1
    opts = req.get_options()
    n = int(req.args or "0")
    req.content_type = "text/plain"
    req.headers_out["X-Echo"] = str(n)
    req.write("%s:%d:%s" % (opts.get("tag"), n, "x" * (n % 97)))
    return apache.OK
'''

FIXUP_PY = r'''
from mod_python import apache

def fixuphandler(req):
    req.notes["fixed"] = "1"
    return apache.OK
'''

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
<Directory @DOCROOT@/w>
    SetHandler mod_python
    PythonOption tag load
    PythonFixupHandler fixup
    PythonHandler work
</Directory>
'''

FILES = {
    "lib/work.py": WORK_PY,
    "lib/fixup.py": FIXUP_PY,
    "htdocs/w/x.txt": "x\n",
}

CLIENTS = 64
DURATION = 5.0


def expected_body(n):
    return "load:%d:%s" % (n, "x" * (n % 97))


def client_loop(port, stop, results, errors, tid, keepalive):
    """Request loop of one client.  A keep-alive connection that httpd closed
    between two requests (it does so under load, also without mod_python)
    shows up as RemoteDisconnected/ConnectionReset on the next request; like
    any HTTP client we then retry once on a fresh connection.  Failures on a
    fresh connection are recorded."""
    i = 0
    conn = None
    reused = False
    while not stop.is_set():
        n = tid * 100000 + i
        i += 1
        for attempt in (0, 1):
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    reused = False
                headers = {} if keepalive else {"Connection": "close"}
                conn.request("GET", "/w/x.txt?%d" % n, headers=headers)
                resp = conn.getresponse()
                body = resp.read().decode()
                ok = (resp.status == 200 and body == expected_body(n)
                      and resp.getheader("X-Echo") == str(n))
                results.append((time.monotonic(), resp.status, ok))
                if not keepalive or resp.will_close:
                    conn.close()
                    conn = None
                else:
                    reused = True
                break
            except (ConnectionError, http.client.RemoteDisconnected,
                    http.client.BadStatusLine) as e:
                was_reused = reused
                conn.close()
                conn = None
                if was_reused and attempt == 0:
                    continue          # stale keep-alive connection: retry
                errors.append((time.monotonic(), repr(e)))
                break
            except Exception as e:   # timeouts and anything else: always a failure
                errors.append((time.monotonic(), "UNEXPECTED " + repr(e)))
                if conn is not None:
                    conn.close()
                conn = None
                break
    if conn is not None:
        conn.close()


def run_clients(port, duration, during=None):
    stop = threading.Event()
    results, errors = [], []
    threads = [threading.Thread(target=client_loop,
                                args=(port, stop, results, errors, t, t % 2 == 0))
               for t in range(CLIENTS)]
    for t in threads:
        t.start()
    windows = []
    try:
        if during is not None:
            windows = during()
        else:
            time.sleep(duration)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    return results, errors, windows


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="load")


def test_parallel_clients(srv):
    assert srv.get("/w/x.txt?1").text == expected_body(1)
    results, errors, _ = run_clients(srv.port, DURATION)
    assert not errors, errors[:10]
    assert results, "no requests completed"
    bad = [r for r in results if not r[2]]
    assert not bad, "%d of %d responses wrong, e.g. %r" % (len(bad), len(results), bad[:5])
    srv.assert_no_crash()


def test_graceful_restart_under_load(srv):
    old = set()

    def restarts():
        time.sleep(1.0)
        for _ in range(2):
            old.update(srv.children())
            srv.graceful()
            time.sleep(1.0)
        return []

    results, errors, _ = run_clients(srv.port, None, during=restarts)
    assert results, "no requests completed"
    five = [r for r in results if r[1] >= 500]
    assert not five, "5xx responses during graceful restart: %r" % five[:5]
    wrong = [r for r in results if not r[2]]
    assert not wrong, "wrong responses: %r" % wrong[:5]
    unexpected = [e for e in errors if e[1].startswith("UNEXPECTED")]
    assert not unexpected, unexpected[:5]
    # connection-level errors (reset/closed) are tolerated while restarting

    r = srv.get("/w/x.txt?7")
    assert r.status == 200
    assert r.text == expected_body(7)

    # steady state once the old generations have finished and exited
    # (until then one of them may still close a connection): no errors at all
    deadline = time.monotonic() + 60
    while any(srv._alive(p) for p in old) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in old if srv._alive(p)], "old children did not exit"
    results, errors, _ = run_clients(srv.port, 2.0)
    assert results, "no requests completed after the restarts"
    assert not errors, errors[:10]
    assert all(r[2] for r in results)
    srv.assert_no_crash()
