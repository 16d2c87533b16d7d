"""Load client for the stress scripts: N threads, each on its own keep-alive
connection to 127.0.0.1, counting what came back.  Loopback only, bounded:
every thread stops when stop() is called or its deadline passes.

A request that fails at the connection level (reset while a graceful restart
closes idle keep-alive connections, refused while the server is stopped) is
counted as a connection error and retried on a fresh connection after a short
pause; it is not a server answer.  Every answer is counted by status, and
the `check` callback may record more (e.g. versions seen).
"""
import http.client
import os
import signal
import sys
import threading
import time
from collections import Counter

import harness


class Load:
    def __init__(self, port, nconn, next_request, check=None, deadline=None,
                 timeout=60.0):
        """next_request(worker) -> (method, path, headers); check(worker,
        response, body) is called with every answer (may raise nothing)."""
        self.port = port
        self.nconn = nconn
        self.next_request = next_request
        self.check = check
        self.deadline = deadline
        self.timeout = timeout
        self.lock = threading.Lock()
        self.status = Counter()
        self.conn_errors = Counter()
        self.bad = []              # first few 5xx answers, for the report
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(nconn)]
        self.state = [dict(index=i) for i in range(nconn)]   # per-worker scratch

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(self.timeout + 5)

    def total(self):
        with self.lock:
            return sum(self.status.values())

    def snapshot(self):
        with self.lock:
            return dict(status=dict(self.status), conn_errors=dict(self.conn_errors))

    def _connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def _run(self, i):
        worker = self.state[i]
        conn = None
        while not self._stop.is_set():
            if self.deadline is not None and time.monotonic() > self.deadline:
                break
            if conn is None:
                conn = self._connect()
                worker["connection"] = worker.get("connection", 0) + 1
            method, path, headers = self.next_request(worker)
            try:
                conn.request(method, path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
            except (OSError, http.client.HTTPException) as e:
                with self.lock:
                    self.conn_errors[type(e).__name__] += 1
                conn.close()
                conn = None
                self._stop.wait(0.05)
                continue
            with self.lock:
                self.status[resp.status] += 1
                if resp.status >= 500 and len(self.bad) < 20:
                    self.bad.append((path, resp.status, body[:300]))
            if self.check is not None:
                self.check(worker, resp, body)
            if resp.will_close:
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


def parse_args(ap):
    """Add --module, parse, and make SIGTERM end the run through SystemExit
    (so the harness still stops httpd)."""
    ap.add_argument("--module", help="mod_python.so to load (default: the harness's)")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    if args.module:
        harness.MP_MODULE = os.path.abspath(args.module)
    return args


def finish(width, text, crashes, load, t0, failures, extra=()):
    """Print the lines both scripts end with (crash lines, Fatal Python
    error count, `extra` (label, value) lines, 5xx samples, elapsed time,
    RESULT) with labels padded to width; returns the exit status."""
    def line(label, value):
        print("%-*s %s" % (width, label + ":", value))
    line("crash lines", "%d%s" % (len(crashes), "".join("\n    " + l for l in crashes[:20])))
    line("Fatal Python error", text.count("Fatal Python error"))
    for label, value in extra:
        line(label, value)
    for b in load.bad[:5]:
        line("5xx sample", repr(b))
    line("elapsed", "%.0f s" % (time.monotonic() - t0))
    print("RESULT: %s" % ("PASS" if not failures else "FAIL: " + "; ".join(failures)))
    return 0 if not failures else 1


def rss_kb(pid):
    """Resident set size of pid in kB (None if it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
