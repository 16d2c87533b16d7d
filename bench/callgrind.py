#!/usr/bin/python3
"""Instructions per request, counted with callgrind (user space only).

Each server runs as `apache2 -X` (prefork, one process) under
`valgrind --tool=callgrind --dump-after=ap_process_connection`, so every
client connection ends in a dump of its own.  A workload is sent on
keep-alive connections of N1 and N2 requests; the cost of one request is
(Ir(N2) - Ir(N1)) / (N2 - N1), so start-up, connection set-up and whatever
a connection costs once cancel.  Each workload is measured REPEAT times
and the median reported with the spread of the estimates (a few tenths of
a percent, on an idle or a busy machine: instructions, not time; a window
that catches an interpreter's occasional work, such as a garbage
collection, stands out and the median leaves it aside).

Servers: a static file on an httpd without any Python module ("plain");
our module loaded with no Python configuration ("ours-bare") and with the
Python configuration below ("ours"); the same two for Debian's mod_python
3.5 (libapache2-mod-python, which bench/run.sh installs).

Workloads: static file; hello world with PythonAutoReload On and Off; a
handler importing 50 helper modules (On); reading a 16 KiB POST body;
writing 64 KiB; hello world in a directory with 30 PythonOption lines and
a PythonPath of 30 entries (reported as the difference to hello On).

Usage: bench/callgrind.sh [--only SERVER,...] [--n1 N] [--n2 N] [--repeat R] [--keep DIR]
Not part of CI; nothing here goes into tests.
"""
import argparse
import glob
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
from harness import HTTPD, SINGLE_CHILD, Httpd   # noqa: E402
from handlers import HELLO, MANY, helper_files   # noqa: E402

DEBIAN_SO = "/usr/lib/apache2/modules/mod_python.so"
OPTIONS = 30

MPM = SINGLE_CHILD["prefork"]
COMMON = """\
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
LogLevel warn
"""

POST = """\
from mod_python import apache
def handler(req):
    data = req.read()
    req.content_type = "text/plain"
    req.write("%d\\n" % len(data))
    return apache.OK
"""

WRITE = """\
from mod_python import apache
BODY = b"x" * 65536
def handler(req):
    req.content_type = "application/octet-stream"
    req.write(BODY)
    return apache.OK
"""


def python_conf():
    opts = "".join("  PythonOption bench.option%02d value%02d\n" % (i, i)
                   for i in range(OPTIONS))
    path = ", ".join(["'@DOCROOT@/opts'"] + ["'/nonexistent/bench/p%02d'" % i
                                             for i in range(1, OPTIONS)])
    blocks = []
    for d, mod, reload in (("on", "hello", "On"), ("off", "hello", "Off"),
                           ("manyon", "many", "On"), ("post", "post", "On"),
                           ("write", "write", "On")):
        blocks.append("<Directory @DOCROOT@/%s>\n  SetHandler mod_python\n"
                      "  PythonHandler %s\n  PythonAutoReload %s\n</Directory>\n"
                      % (d, mod, reload))
    blocks.append("<Directory @DOCROOT@/opts>\n  SetHandler mod_python\n"
                  "  PythonHandler hello_opts\n  PythonAutoReload On\n%s"
                  "  PythonPath \"sys.path + [%s]\"\n</Directory>\n" % (opts, path))
    return "".join(blocks)


def files():
    f = {"htdocs/static.txt": "Hello, world!\n",
         "htdocs/on/hello.py": HELLO, "htdocs/off/hello.py": HELLO,
         "htdocs/manyon/many.py": MANY, "htdocs/post/post.py": POST,
         "htdocs/write/write.py": WRITE, "htdocs/opts/hello_opts.py": HELLO}
    f.update(helper_files("htdocs/manyon"))
    return f


POST_BODY = b"p" * 16384

# name -> (method, path, body); the options case last: its PythonPath
# replaces sys.path for the whole interpreter.
WORKLOADS = (
    ("static", "GET", "/static.txt", None),
    ("hello On", "GET", "/on/x", None),
    ("hello Off", "GET", "/off/x", None),
    ("50 helpers On", "GET", "/manyon/x", None),
    ("16 KiB POST", "POST", "/post/x", POST_BODY),
    ("64 KiB write", "GET", "/write/x", None),
    ("30 options + 30 path", "GET", "/opts/x", None),
)

# server label -> (our module?, Debian's?, Python configuration?, short
# name: server roots, hence every path a request touches, are of one length)
SERVERS = {
    "plain": (False, False, False, "pl"),
    "ours-bare": (True, False, False, "ob"),
    "ours": (True, False, True, "ou"),
    "3.5-bare": (False, True, False, "tb"),
    "3.5": (False, True, True, "th"),
}


def make_server(label):
    ours, theirs, with_conf, short = SERVERS[label]
    conf = python_conf() if with_conf else ""
    if theirs:
        conf = "LoadModule python_module %s\n" % DEBIAN_SO + conf
    env = {"PYTHONPATH": ""} if theirs else {}
    return Httpd(conf, files=files(), mpm="prefork", mpm_config=MPM + COMMON,
                 name="cg-" + short,
                 load_python=ours, env=env)


def wait_port(port, proc, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("httpd under valgrind exited (rc=%s)" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("httpd under valgrind did not answer in %ds" % timeout)


def connection(port, method, path, body, n):
    """One keep-alive connection of n requests; the server dumps when it ends."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for _ in range(n):
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError("%s %s: %d %r" % (method, path, r.status, data[:300]))
    c.close()


def dumps(outdir):
    """Ir of each dump file, in dump order."""
    res = []
    for f in glob.glob(os.path.join(outdir, "cg.out*")):
        part, total = None, None
        with open(f, errors="replace") as fh:
            for line in fh:
                if line.startswith("part:"):
                    part = int(line.split()[1])
                elif line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
        if part is not None and total is not None:
            res.append((part, total))
    return [t for _, t in sorted(res)]


def measure(label, workloads, n1, n2, repeat, keep=None):
    srv = make_server(label)
    outdir = tempfile.mkdtemp(prefix="mp-cg-")
    os.chmod(outdir, 0o777)            # the child writes its dumps as www-data
    env = srv._env()
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--vgdb=no", "--dump-after=ap_process_connection",
         "--callgrind-out-file=%s/cg.out" % outdir, HTTPD, "-X", "-f", srv.conf_path],
        env=env, cwd=srv.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    plan = []            # (workload name, n) per connection, in order
    try:
        wait_port(srv.port, proc)
        plan.append((None, 0))          # wait_port's own connection
        for name, method, path, body in workloads:
            connection(srv.port, method, path, body, 20)        # warm-up
            plan.append((None, 20))
            for _ in range(repeat):
                for n in (n1, n2):
                    connection(srv.port, method, path, body, n)
                    plan.append((name, n))
        # a last connection so that the dump of the one before is complete
        connection(srv.port, "GET", "/static.txt", None, 1)
        plan.append((None, 1))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    irs = dumps(outdir)
    if len(irs) < len(plan):
        raise RuntimeError("%s: %d dumps for %d connections; valgrind said:\n%s\n%s"
                           % (label, len(irs), len(plan),
                              proc.stderr.read().decode(errors="replace")[-2000:],
                              srv.error_log()[-2000:]))
    if keep:
        # the dumps for callgrind_annotate, named after their connection
        os.makedirs(keep, exist_ok=True)
        files = sorted(glob.glob(os.path.join(outdir, "cg.out.*")),
                       key=lambda f: int(f.rsplit(".", 1)[1]))
        for i, ((name, n), f) in enumerate(zip(plan, files)):
            tag = (name or "other").replace(" ", "_").replace("+", "")
            shutil.copy(f, os.path.join(keep, "%s-%02d-%s-%d.out"
                                        % (label, i + 1, tag, n)))
    shutil.rmtree(outdir, ignore_errors=True)
    results = {}
    pending = {}
    for (name, n), ir in zip(plan, irs):
        if name is None:
            continue
        if n == n1:
            pending[name] = ir
        else:
            results.setdefault(name, []).append((ir - pending.pop(name)) / (n2 - n1))
    srv.stop()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default=",".join(SERVERS),
                    help="comma-separated servers: " + ", ".join(SERVERS))
    ap.add_argument("--n1", type=int, default=20)
    ap.add_argument("--n2", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", metavar="DIR",
                    help="keep each connection's dump in DIR (for callgrind_annotate)")
    args = ap.parse_args()
    labels = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in labels:
        if s not in SERVERS:
            sys.exit("unknown server %r (have: %s)" % (s, ", ".join(SERVERS)))
        if SERVERS[s][1] and not os.path.exists(DEBIAN_SO):
            sys.exit("Debian's mod_python 3.5 is missing: run bench/callgrind.sh")
    table = {}
    for label in labels:
        wl = WORKLOADS if SERVERS[label][2] else WORKLOADS[:1]
        t0 = time.monotonic()
        res = measure(label, wl, args.n1, args.n2, args.repeat, args.keep)
        for name, vals in res.items():
            m = statistics.median(vals)
            spread = (max(vals) - min(vals)) / m * 100 if m else 0.0
            table[(label, name)] = m
            print("%-12s %-22s %9.0f Ir/request  (%s; spread %.2f%%)"
                  % (label, name, m, ", ".join("%.0f" % v for v in vals), spread),
                  flush=True)
        print("%-12s (%.0f s)" % (label, time.monotonic() - t0), flush=True)
    print("\nIr per request (callgrind, apache2 -X prefork, (Ir(N2)-Ir(N1))/(N2-N1), "
          "N1=%d N2=%d, median of %d)" % (args.n1, args.n2, args.repeat))
    cols = [s for s in ("plain", "ours-bare", "ours", "3.5-bare", "3.5") if s in labels]
    print("| workload | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, _, _, _ in WORKLOADS:
        cells = []
        for c in cols:
            v = table.get((c, name))
            cells.append("%.1fk" % (v / 1000) if v is not None else "")
        if any(cells):
            print("| %s | %s |" % (name, " | ".join(cells)))
    for c in ("ours", "3.5"):
        a, b = table.get((c, "30 options + 30 path")), table.get((c, "hello On"))
        if a is not None and b is not None:
            print("%s: 30 options + 30 path cost %+.0f Ir over hello On" % (c, a - b))


if __name__ == "__main__":
    main()
