#!/usr/bin/python3
"""Soak: steady load while a handler module is rewritten and sessions churn.

    /usr/bin/python3 test/stress/soak.py [--minutes 10] [--conns 64]
        [--rewrite-ms 100] [--warmup 120] [--mpm event] [--module PATH]

Against a real httpd on 127.0.0.1 (the test harness), event MPM by default,
with two fixed children (no recycling), `--conns` keep-alive clients run for
`--minutes`:

* /v runs a handler module that a writer thread rewrites every
  `--rewrite-ms` ms with an increasing VERSION (PythonAutoReload On), by
  turns replaced atomically (rename) and saved in place (truncate + write);
  each client checks the versions it sees never go back, on one connection
  and across its successive connections;
* /s uses a FileSession (a private 0700 directory owned by www-data): each
  client increments a counter in its own session and checks it comes back
  one higher, and starts a new session every 50 session requests.

Passes when: no 5xx, no crash marker in the error log, the same child
processes at the end as after the warm-up (none died or was replaced), no
version going back, every session counter as expected, and every child's RSS
at the end within --rss-slack kB of its RSS after --warmup seconds (samples
are printed).  Exit status 0 on pass, 1 on failure.
"""
import argparse
import os
import pwd
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from load import Load, finish, parse_args, rss_kb  # noqa: E402

VERSIONED = r'''
from mod_python import apache

VERSION = %d

def handler(req):
    req.content_type = "text/plain"
    req.write("v=%%d" %% VERSION)
    return apache.OK
'''

SESSIONS = r'''
from mod_python import apache, Session

def handler(req):
    sess = Session.Session(req)
    n = sess.get("n", 0) + 1
    sess["n"] = n
    sess.save()
    req.content_type = "text/plain"
    req.write("n=%d new=%d" % (n, sess.is_new()))
    return apache.OK
'''

CONFIG = r'''
LogLevel info
PythonPath "sys.path+['@ROOT@/lib']"
PythonAutoReload On
<Location /v>
    SetHandler mod_python
    PythonHandler soakver
</Location>
<Location /s>
    SetHandler mod_python
    PythonHandler soaksess
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.database_directory @ROOT@/sess
</Location>
'''

MPM_CONFIG = """\
StartServers 2
ServerLimit 2
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 128
MinSpareThreads 1
MaxSpareThreads 128
MaxConnectionsPerChild 0
"""

NEW_SESSION_EVERY = 50   # session requests per session


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


class Checks:
    def __init__(self, session_every):
        self.session_every = session_every
        self.lock = threading.Lock()
        self.back_conn = []      # (worker, previous, seen) on one connection
        self.back_worker = []    # across a worker's successive connections
        self.session_bad = []
        self.max_version = 0
        self.sessions = 0

    def next_request(self, w):
        w["n"] = w.get("n", 0) + 1
        if self.session_every and w["n"] % self.session_every == 0:
            w["path"] = "/s"
            hdrs = {"Cookie": "pysid=" + w["sid"]} if w.get("sid") else {}
            return "GET", "/s", hdrs
        w["path"] = "/v"
        return "GET", "/v", {}

    def check(self, w, resp, body):
        if resp.status != 200:
            return
        text = body.decode("latin-1")
        if w["path"] == "/v":
            self._version(w, int(text.split("=", 1)[1]))
        else:
            self._session(w, resp, text)

    def _version(self, w, v):
        with self.lock:
            self.max_version = max(self.max_version, v)
            if v < w.get("last_v", 0):
                rec = (w["index"], w["last_v"], v)
                if w.get("last_v_conn") == w["connection"]:
                    self.back_conn.append(rec)
                else:
                    self.back_worker.append(rec)
        w["last_v"] = v
        w["last_v_conn"] = w["connection"]

    def _session(self, w, resp, text):
        m = re.fullmatch(r"n=(\d+) new=(\d)", text)
        cookie = resp.getheader("Set-Cookie") or ""
        c = re.search(r"pysid=([0-9a-zA-Z]+)", cookie)
        n = int(m.group(1)) if m else -1
        with self.lock:
            if not w.get("sid"):
                if n != 1 or not c:
                    self.session_bad.append((w["index"], "new session", text, cookie))
                else:
                    self.sessions += 1
            elif n != w["sess_n"] + 1:
                self.session_bad.append((w["index"], "expected %d" % (w["sess_n"] + 1),
                                         text))
        if c and not w.get("sid"):
            w["sid"] = c.group(1)
        w["sess_n"] = n
        if n >= NEW_SESSION_EVERY:
            w["sid"] = None


class Writer(threading.Thread):
    """Rewrites lib/soakver.py every period with VERSION+1; odd versions by
    rename, even ones in place."""

    def __init__(self, srv, period):
        super().__init__(daemon=True)
        self.path = os.path.join(srv.root, "lib", "soakver.py")
        self.period = period
        self.version = 1
        self.halt = threading.Event()

    def write(self, v):
        data = (VERSIONED % v).encode()
        if v % 2:
            tmp = self.path + ".tmp~"
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.path)
        else:
            with open(self.path, "r+b") as f:
                f.truncate(0)
                f.write(data)

    def run(self):
        due = time.monotonic()
        while True:
            due += self.period
            if self.halt.wait(max(0.0, due - time.monotonic())):
                return
            self.version += 1
            self.write(self.version)


def child_rss(srv):
    return {p: rss_kb(p) for p in sorted(srv.children())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--rewrite-ms", type=float, default=100.0,
                    help="rewrite period of the handler module (0: never)")
    ap.add_argument("--session-every", type=int, default=4,
                    help="one request in this many uses the session (0: none)")
    ap.add_argument("--warmup", type=float, default=120.0,
                    help="seconds of load before the reference RSS is taken")
    ap.add_argument("--rss-slack", type=int, default=4096,
                    help="allowed child RSS growth (kB) from warm-up to the end")
    ap.add_argument("--mpm", default="event")
    args = parse_args(ap)

    t0 = time.monotonic()
    failures = []
    srv = harness.Httpd(CONFIG, files={"lib/soaksess.py": SESSIONS,
                                       "lib/soakver.py": VERSIONED % 1},
                        mpm=args.mpm, mpm_config=MPM_CONFIG, name="soak")
    sess = os.path.join(srv.root, "sess")
    os.mkdir(sess, 0o700)
    www = pwd.getpwnam("www-data")
    os.chown(sess, www.pw_uid, www.pw_gid)
    srv.start()
    log("httpd %s on port %d, root %s, module %s"
        % (args.mpm, srv.port, srv.root, harness.MP_MODULE))
    checks = Checks(args.session_every)
    writer = Writer(srv, args.rewrite_ms / 1000.0)
    end = time.monotonic() + args.minutes * 60
    load = Load(srv.port, args.conns, checks.next_request, checks.check,
                deadline=end).start()
    if args.rewrite_ms > 0:
        writer.start()
    samples = [(0, child_rss(srv))]
    warm = None
    next_sample = time.monotonic() + 30
    while time.monotonic() < end:
        time.sleep(1)
        if time.monotonic() >= next_sample:
            next_sample += 30
            t = int(time.monotonic() - (end - args.minutes * 60))
            rss = child_rss(srv)
            samples.append((t, rss))
            if warm is None and t >= args.warmup:
                warm = (t, rss)
            st = load.snapshot()
            log("t=%ds version %d, answers %s, conn errors %s, child RSS %s"
                % (t, writer.version, st["status"], st["conn_errors"], rss))
    load.stop()
    writer.halt.set()
    if writer.is_alive():
        writer.join()
    final = child_rss(srv)
    samples.append(("end", final))
    r = srv.get("/v")
    last_answer = r.text if r.status == 200 else "status %d" % r.status
    srv.stop()

    # ------------------------------------------------------------ verdict
    text = srv.error_log()
    crashes = srv.crash_lines()
    st = load.snapshot()
    five = sum(n for s, n in st["status"].items() if s >= 500)
    growth = {}
    if warm is None:
        failures.append("run shorter than the warm-up")
    else:
        for pid, kb in warm[1].items():
            if pid not in final or final[pid] is None:
                failures.append("child %d (alive after warm-up) gone at the end" % pid)
            else:
                growth[pid] = final[pid] - kb
        if set(final) != set(warm[1]):
            failures.append("children changed: %s -> %s" % (sorted(warm[1]), sorted(final)))
        for pid, g in growth.items():
            if g > args.rss_slack:
                failures.append("child %d RSS grew %d kB after warm-up" % (pid, g))
    if five:
        failures.append("%d 5xx answers" % five)
    if crashes:
        failures.append("%d crash lines in the error log" % len(crashes))
    if checks.back_conn or checks.back_worker:
        failures.append("versions went back: %d on one connection, %d across connections"
                        % (len(checks.back_conn), len(checks.back_worker)))
    if checks.session_bad:
        failures.append("%d wrong session answers" % len(checks.session_bad))
    if last_answer != "v=%d" % writer.version:
        failures.append("after the run /v answered %r, last version written %d"
                        % (last_answer, writer.version))
    print()
    print("== soak (%s MPM, %d connections, %.1f min, rewrite every %g ms) =="
          % (args.mpm, args.conns, args.minutes, args.rewrite_ms))
    print("answers:               %s" % st["status"])
    print("connection errors:     %s" % st["conn_errors"])
    print("5xx:                   %d" % five)
    print("versions written:      %d (last answer %r, highest seen by clients %d)"
          % (writer.version, last_answer, checks.max_version))
    print("versions going back:   %d on one connection, %d across connections%s"
          % (len(checks.back_conn), len(checks.back_worker),
             "".join("\n    worker %d: %d then %d" % b
                     for b in (checks.back_conn + checks.back_worker)[:10])))
    print("sessions created:      %d; wrong session answers %d%s"
          % (checks.sessions, len(checks.session_bad),
             "".join("\n    %r" % (b,) for b in checks.session_bad[:10])))
    print("child RSS (kB):        %s" % "; ".join(
        "t=%ss %s" % (t, " ".join("%d:%s" % kv for kv in r.items())) for t, r in samples))
    if warm is not None:
        print("child RSS warm->end:   %s" % ", ".join(
            "pid %d %s -> %s kB (%+d)" % (p, warm[1][p], final.get(p), g)
            for p, g in growth.items()))
    return finish(22, text, crashes, load, t0, failures)


if __name__ == "__main__":
    sys.exit(main())
