#!/usr/bin/python3
"""Restart storm: graceful restarts under load, then full stop/start cycles.

    /usr/bin/python3 test/stress/storm.py [--gracefuls 1000] [--cycles 100]
        [--conns 32] [--mpm event] [--budget 5400] [--module PATH]

Against a real httpd on 127.0.0.1 (the test harness), event MPM by default,
with Python handlers in two interpreters, a fixup handler, an output filter
and a PythonImport, while `--conns` keep-alive clients send requests:

1. `--gracefuls` graceful restarts (SIGUSR1 to the parent), each one waited
   for in the error log ("resuming normal operations") before the next, then
   a random pause of 0-0.2 s; with `--pace N` also until N more answers
   came back (at most 10 s), so that every generation serves requests;
2. `--cycles` full stop/start cycles (SIGTERM, wait for every process of
   the server to exit, start again), the load still running.

Passes when: no crash marker in the error log (child exit signals,
"Fatal Python error", segfaults, sanitizer lines), every graceful and every
start completed, no child had to be SIGKILLed (children still there 3 s
into a stop are counted as slow exits), no 5xx answer, and the parent's RSS
after the last graceful is within --rss-slack kB of its RSS after the first
--warmup gracefuls (start / warm / end figures are printed).  Exit status 0
on pass, 1 on failure; the whole run is bounded by --budget seconds.
"""
import argparse
import os
import random
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from load import Load, finish, parse_args, rss_kb  # noqa: E402

HANDLERS = r'''
import os
from mod_python import apache

HITS = 0

def fixup(req):
    req.notes["fixup"] = "1"
    return apache.OK

def handler(req):
    global HITS
    HITS += 1
    req.content_type = "text/plain"
    req.write("pid=%d hits=%d interp=%s fixup=%s\n"
              % (os.getpid(), HITS, req.interpreter, req.notes.get("fixup")))
    return apache.OK

def upper(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    if s is None:
        filter.close()
'''

STARTUP = r'''
import os
STARTED = os.getpid()
'''

CONFIG = r'''
LogLevel info
PythonPath "sys.path+['@ROOT@/lib']"
PythonImport startup storm_a
PythonOutputFilter storm::upper STORMUP
<Location /a>
    SetHandler mod_python
    PythonInterpreter storm_a
    PythonFixupHandler storm::fixup
    PythonHandler storm
</Location>
<Location /b>
    SetHandler mod_python
    PythonInterpreter storm_b
    PythonHandler storm
    SetOutputFilter STORMUP
</Location>
'''

# Room for old generations to finish while new ones start.
MPM_CONFIG = """\
StartServers 2
ServerLimit 16
ThreadLimit 32
ThreadsPerChild 16
MaxRequestWorkers 64
MinSpareThreads 16
MaxSpareThreads 64
MaxConnectionsPerChild 0
"""

RESUMED = "resuming normal operations"
GRACEFUL_SEEN = "Doing graceful restart"
# httpd re-sends SIGTERM to children still there 3 s into a stop (AH00045,
# a slow exit: reported) and SIGKILLs them at 9 s (AH00046: a hang, fails).
SLOW_EXIT = "AH00045"
HUNG_MARKERS = ("AH00046", "sending a SIGKILL", "could not be killed", "AH00048")


def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def wait_log(srv, text, mark, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.log_since(mark):
            return True
        time.sleep(0.02)
    return False


def all_gone(srv, pids, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(srv._alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def stop_cycle(srv, timeout):
    """SIGTERM the parent; True if every process of the server exited by
    itself within timeout (else they are killed and False returned)."""
    pids = set(srv._our_pids())
    parent = srv.pid()
    if parent:
        pids.add(parent)
        os.kill(parent, signal.SIGTERM)
    clean = all_gone(srv, pids, timeout)
    srv.stop()          # marks it stopped; kills anything left over
    return clean


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gracefuls", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--mpm", default="event")
    ap.add_argument("--pace", type=int, default=0,
                    help="after each graceful, wait (up to 10 s) until this many "
                         "more answers arrived, so every generation serves load")
    ap.add_argument("--warmup", type=int, default=10,
                    help="gracefuls before the reference RSS is taken")
    ap.add_argument("--rss-slack", type=int, default=2048,
                    help="allowed parent RSS growth (kB) from warm to end")
    ap.add_argument("--budget", type=float, default=5400.0,
                    help="seconds for the whole run")
    args = parse_args(ap)

    t0 = time.monotonic()
    deadline = t0 + args.budget
    failures = []
    srv = harness.Httpd(CONFIG, files={"lib/storm.py": HANDLERS, "lib/startup.py": STARTUP},
                        mpm=args.mpm, mpm_config=MPM_CONFIG, name="storm")
    srv.start()
    log("httpd %s on port %d, root %s, module %s"
        % (args.mpm, srv.port, srv.root, harness.MP_MODULE))
    paths = ["/a", "/b"]
    load = Load(srv.port, args.conns,
                lambda w: ("GET", random.choice(paths), {}),
                deadline=deadline + 60).start()
    time.sleep(2)
    parent = srv.pid()
    rss = {"start": rss_kb(parent)}
    log("parent pid %d, RSS %s kB" % (parent, rss["start"]))

    # ------------------------------------------------------------ gracefuls
    done = 0
    unpaced = 0
    samples = []
    for i in range(1, args.gracefuls + 1):
        if time.monotonic() > deadline:
            failures.append("budget exhausted after %d gracefuls" % done)
            break
        mark = srv.log_mark()
        os.kill(parent, signal.SIGUSR1)
        if not wait_log(srv, RESUMED, mark, 60):
            failures.append("graceful %d: no '%s' within 60 s" % (i, RESUMED))
            break
        if srv.pid() != parent or not srv._alive(parent):
            failures.append("graceful %d: parent %d gone" % (i, parent))
            break
        done = i
        if args.pace:
            target = load.total() + args.pace
            until = time.monotonic() + 10
            while load.total() < target and time.monotonic() < until:
                time.sleep(0.01)
            if load.total() < target:
                unpaced += 1
        if i == args.warmup:
            rss["warm"] = rss_kb(parent)
        if i % 50 == 0 or i == args.gracefuls:
            r = rss_kb(parent)
            samples.append((i, r))
            log("graceful %d: parent RSS %s kB, children %d, answers %s, conn errors %s"
                % (i, r, len(srv.children()), load.snapshot()["status"],
                   sum(load.snapshot()["conn_errors"].values())))
        time.sleep(random.uniform(0, 0.2))
    time.sleep(2)
    rss["end"] = rss_kb(parent)
    try:
        r = srv.get("/a")
        if r.status != 200:
            failures.append("after the gracefuls /a answered %d" % r.status)
    except Exception as e:      # noqa: BLE001 -- reported as a failure
        failures.append("after the gracefuls /a failed: %r" % e)
    n_graceful_log = srv.error_log().count(GRACEFUL_SEEN)
    graceful_stats = load.snapshot()
    log("gracefuls done: %d (log shows %d), parent RSS start %s / after %d %s / end %s kB"
        % (done, n_graceful_log, rss["start"], args.warmup, rss.get("warm"), rss["end"]))
    if done != args.gracefuls:
        failures.append("only %d of %d gracefuls completed" % (done, args.gracefuls))
    if rss.get("warm") and rss["end"] and rss["end"] - rss["warm"] > args.rss_slack:
        failures.append("parent RSS grew %d kB from graceful %d to the end"
                        % (rss["end"] - rss["warm"], args.warmup))

    # ------------------------------------------------------------ stop/start
    cycles = 0
    start_rss = []
    stop_times = []
    for i in range(1, args.cycles + 1):
        if time.monotonic() > deadline:
            failures.append("budget exhausted after %d stop/start cycles" % cycles)
            break
        t = time.monotonic()
        if not stop_cycle(srv, 30):
            failures.append("cycle %d: server still there 30 s after SIGTERM" % i)
        stop_times.append(time.monotonic() - t)
        try:
            srv.start()
        except harness.HttpdError as e:
            failures.append("cycle %d: start failed: %s" % (i, str(e)[:500]))
            break
        if i in (1, args.cycles):
            time.sleep(1)
            start_rss.append((i, rss_kb(srv.pid())))
        cycles = i
        if i % 10 == 0:
            log("cycle %d: answers %s" % (i, load.snapshot()["status"]))
    load.stop()
    if srv.running:
        srv.stop()

    # ------------------------------------------------------------ verdict
    text = srv.error_log()
    crashes = srv.crash_lines()
    hung = [l for l in text.splitlines() if any(m in l for m in HUNG_MARKERS)]
    slow = text.count(SLOW_EXIT)
    stats = load.snapshot()
    five = sum(n for s, n in stats["status"].items() if s >= 500)
    if crashes:
        failures.append("%d crash lines in the error log" % len(crashes))
    if hung:
        failures.append("%d children had to be killed" % len(hung))
    if five:
        failures.append("%d 5xx answers" % five)
    print()
    print("== restart storm (%s MPM, %d connections) ==" % (args.mpm, args.conns))
    print("gracefuls completed:      %d of %d (error log: %d 'Doing graceful restart')"
          % (done, args.gracefuls, n_graceful_log))
    print("parent RSS (kB):          start %s, after %d gracefuls %s, end %s"
          % (rss["start"], args.warmup, rss.get("warm"), rss["end"]))
    print("parent RSS samples:       %s" % " ".join("%d:%s" % s for s in samples))
    print("answers during gracefuls: %s; connection errors %s"
          % (graceful_stats["status"], graceful_stats["conn_errors"]))
    if args.pace:
        print("paced:                    %d answers after each graceful; %d gracefuls "
              "got fewer within 10 s" % (args.pace, unpaced))
    print("stop/start cycles:        %d of %d; stop time max %.1f s; parent RSS after "
          "start %s" % (cycles, args.cycles, max(stop_times or [0]),
                        ", ".join("cycle %d: %s kB" % s for s in start_rss)))
    print("answers in total:         %s; connection errors %s"
          % (stats["status"], stats["conn_errors"]))
    return finish(25, text, crashes, load, t0, failures, [
        ("children SIGKILLed", "%d (slow exits, SIGTERM re-sent after 3 s: %d)"
         % (len(hung), slow))])


if __name__ == "__main__":
    sys.exit(main())
