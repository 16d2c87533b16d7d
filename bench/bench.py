#!/usr/bin/python3
"""Throughput of mod_python handlers, measured with wrk, in one run:

* a static file on an httpd of its own without any Python module (the
  reference, ratio 1.0), same MPM and settings;
* our module: hello world with PythonAutoReload On and Off, and the same
  handler importing 50 helper modules (On and Off);
* Debian's mod_python 3.5 (libapache2-mod-python) with the same handlers
  in its own httpd, same MPM and settings.

Results are printed as requests/second and as ratios.  Not part of CI;
timings never go into tests.  Usage: bench/run.sh [seconds] [connections] [rounds]

On a shared machine the throughput of one case drifts by 10-20% from one
minute to the next, far more than the differences measured here.  So the
cases run in rounds, each round in a rotated order (no case is always the
one after the static file, or always first); every ratio is taken within a
round (case / static file of the same round, ours / 3.5 of the same round),
and the median over the rounds is reported.  Requests/second are reported
as medians too, for reference.
"""
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
from harness import Httpd   # noqa: E402
from handlers import HELLO, MANY, helper_files   # noqa: E402

DEBIAN_SO = "/usr/lib/apache2/modules/mod_python.so"
DEBIAN_PKG = "/usr/lib/python3/dist-packages/mod_python"
DURATION = int(sys.argv[1]) if len(sys.argv) > 1 else 5
CONNS = int(sys.argv[2]) if len(sys.argv) > 2 else 32
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 9

MPM = """\
StartServers 2
ServerLimit 2
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 32
MaxSpareThreads 64
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
LogLevel warn
"""

def conf(autoreload_default="On"):
    return """
<Directory @DOCROOT@/on>
  SetHandler mod_python
  PythonHandler hello
  PythonAutoReload On
</Directory>
<Directory @DOCROOT@/off>
  SetHandler mod_python
  PythonHandler hello
  PythonAutoReload Off
</Directory>
<Directory @DOCROOT@/manyon>
  SetHandler mod_python
  PythonHandler many
  PythonAutoReload On
</Directory>
<Directory @DOCROOT@/manyoff>
  SetHandler mod_python
  PythonHandler many
  PythonAutoReload Off
</Directory>
"""


def files():
    f = {"htdocs/static.txt": "Hello, world!\n"}
    for d in ("on", "off"):
        f["htdocs/%s/hello.py" % d] = HELLO
    for d in ("manyon", "manyoff"):
        f["htdocs/%s/many.py" % d] = MANY
        f.update(helper_files("htdocs/" + d))
    return f


def wrk(port, path, seconds):
    url = "http://127.0.0.1:%d%s" % (port, path)
    out = subprocess.run(["wrk", "-t2", "-c%d" % CONNS, "-d%ds" % seconds, url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(errors.group(1)) if errors else 0


STATIC = "static file (httpd without mod_python)"
# (label, numerator, denominator): ratios taken within each round.
PAIRS = (
    ("ours hello On / 3.5 hello On", "ours: hello, AutoReload On",
     "mod_python 3.5: hello, AutoReload On"),
    ("ours hello Off / 3.5 hello Off", "ours: hello, AutoReload Off",
     "mod_python 3.5: hello, AutoReload Off"),
    ("ours 50 helpers On / 3.5", "ours: 50 helper modules, On",
     "mod_python 3.5: 50 helper modules, On"),
    ("ours On / Off (hello)", "ours: hello, AutoReload On", "ours: hello, AutoReload Off"),
    ("ours On / Off (50 helpers)", "ours: 50 helper modules, On",
     "ours: 50 helper modules, Off"),
)


def main():
    if not os.path.exists(DEBIAN_SO) or not os.path.isdir(DEBIAN_PKG):
        sys.exit("Debian's mod_python 3.5 is missing: apt-get install libapache2-mod-python")
    plain = Httpd("", files={"htdocs/static.txt": "Hello, world!\n"}, mpm="event",
                  mpm_config=MPM, name="bench-plain", load_python=False)
    ours = Httpd(conf(), files=files(), mpm="event", mpm_config=MPM, name="bench-ours")
    # Debian's module: its own .so, its own package from dist-packages (no PYTHONPATH).
    theirs = Httpd("LoadModule python_module %s\n" % DEBIAN_SO + conf(), files=files(),
                   mpm="event", mpm_config=MPM, name="bench-35", load_python=False,
                   env={"PYTHONPATH": ""})
    cases = (
        (STATIC, plain, "/static.txt"),
        ("ours: hello, AutoReload On", ours, "/on/x"),
        ("ours: hello, AutoReload Off", ours, "/off/x"),
        ("ours: 50 helper modules, On", ours, "/manyon/x"),
        ("ours: 50 helper modules, Off", ours, "/manyoff/x"),
        ("mod_python 3.5: hello, AutoReload On", theirs, "/on/x"),
        ("mod_python 3.5: hello, AutoReload Off", theirs, "/off/x"),
        ("mod_python 3.5: 50 helper modules, On", theirs, "/manyon/x"),
        ("mod_python 3.5: 50 helper modules, Off", theirs, "/manyoff/x"))
    for label, srv, path in cases:
        if not srv.running:
            srv.start()
        r = srv.get(path)
        if r.status != 200:
            sys.exit("%s: %s answers %d:\n%s" % (label, path, r.status, srv.error_log()[-3000:]))
        wrk(srv.port, path, 2)          # warm-up: every thread has served Python
    runs = {label: [] for label, _, _ in cases}
    for n in range(ROUNDS):
        k = n % len(cases)
        for label, srv, path in cases[k:] + cases[:k]:
            rps, errors = wrk(srv.port, path, DURATION)
            if errors:
                sys.exit("%s: %d non-2xx responses" % (label, errors))
            runs[label].append(rps)
            print("round %d  %-42s %10.0f req/s" % (n + 1, label, rps), flush=True)
    for s in (plain, ours, theirs):
        s.assert_no_crash()
        s.stop()

    def ratio(a, b):
        per_round = [x / y for x, y in zip(runs[a], runs[b])]
        return statistics.median(per_round), min(per_round), max(per_round)

    print()
    for label, _, _ in cases:
        print("%-42s %10.0f req/s (median of %d)"
              % (label, statistics.median(runs[label]), ROUNDS))
    print("\nratios, each taken within a round; median [min-max] of %d rounds"
          " (wrk -t2 -c%d -d%ds, event MPM, 2 x 32 threads):" % (ROUNDS, CONNS, DURATION))
    for label, _, _ in cases[1:]:
        print("  %-42s %.2f [%.2f-%.2f] of the static file" % ((label,) + ratio(label, STATIC)))
    for label, a, b in PAIRS:
        print("  %-42s %.2f [%.2f-%.2f]" % ((label,) + ratio(a, b)))


if __name__ == "__main__":
    main()
