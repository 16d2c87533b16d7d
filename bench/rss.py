#!/usr/bin/python3
"""Memory of a child over many requests: RSS of the one httpd child (event
MPM) after a warm-up and again after at least N more requests (wrk), for
hello world (AutoReload On), the 50-helper handler and a 16 KiB POST, all
on our module.  Usage: bench/rss.sh [N]   (default 100000)
Not part of CI."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test"))
from harness import SINGLE_CHILD, Httpd   # noqa: E402
from handlers import HELLO, MANY, helper_files   # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
CONF = """
<Directory @DOCROOT@/on>
  SetHandler mod_python
  PythonHandler hello
  PythonAutoReload On
</Directory>
<Directory @DOCROOT@/many>
  SetHandler mod_python
  PythonHandler many
  PythonAutoReload On
</Directory>
<Directory @DOCROOT@/post>
  SetHandler mod_python
  PythonHandler post
</Directory>
"""
POST = """\
from mod_python import apache
def handler(req):
    req.write("%d\\n" % len(req.read()))
    return apache.OK
"""
LUA = """\
wrk.method = "POST"
wrk.body = string.rep("p", 16384)
"""


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def wrk(port, path, count, script=None):
    """Run wrk until at least count requests were answered."""
    done = 0
    while done < count:
        cmd = ["wrk", "-t1", "-c4", "-d5s"]
        if script:
            cmd += ["-s", script]
        out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)],
                             capture_output=True, text=True, check=True).stdout
        done += int(re.search(r"(\d+) requests in", out).group(1))
    return done


def main():
    files = {"htdocs/static.txt": "Hello, world!\n", "htdocs/on/hello.py": HELLO,
             "htdocs/many/many.py": MANY, "htdocs/post/post.py": POST}
    files.update(helper_files("htdocs/many"))
    srv = Httpd(CONF, files=files, mpm="event", mpm_config=SINGLE_CHILD["event"],
                name="bench-rss")
    srv.start()
    lua = os.path.join(srv.root, "post.lua")
    with open(lua, "w") as f:
        f.write(LUA)
    try:
        (child,) = srv.children()
        for label, path, script in (("hello, AutoReload On", "/on/x", None),
                                    ("50 helper modules, On", "/many/x", None),
                                    ("16 KiB POST", "/post/x", lua)):
            wrk(srv.port, path, 5000, script)            # warm-up
            before = rss_kib(child)
            n = wrk(srv.port, path, N, script)
            after = rss_kib(child)
            print("%-24s RSS %6d KiB -> %6d KiB after %d requests: %+d KiB"
                  % (label, before, after, n, after - before), flush=True)
        srv.assert_no_crash()
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
