"""Process life cycle: child start line, banner, version check, graceful
restarts without leaks or crashes, the package outside httpd."""
import os
import shutil
import subprocess
import tempfile

import pytest

from harness import Httpd, MPMS, REPO, pylib_dir

HELLO = ("from mod_python import apache\n"
         "def handler(req):\n"
         "    req.write('hi')\n"
         "    return apache.OK\n")
CONF = """
<Directory @DOCROOT@>
  SetHandler mod_python
  PythonHandler hello
</Directory>
"""


def vmrss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.parametrize("mpm", MPMS)
def test_start_line_banner_and_graceful_restarts(mpm):
    s = Httpd(CONF, files={"htdocs/hello.py": HELLO}, mpm=mpm, name="life-" + mpm)
    s.start()
    try:
        r = s.get("/x")
        assert r.status == 200 and r.text == "hi"
        assert "mod_python/3.6.0 Python/3." in r.headers["Server"]
        log = s.error_log()
        assert "MP0104" in log and "Python 3." in log and "(prefix " in log
        parent = s.pid()
        rss = []
        for _ in range(8):
            s.graceful()
            assert s.get("/x").text == "hi"
            rss.append(vmrss_kb(parent))
        # the parent never runs Python: restarts do not make it grow
        assert rss[-1] - rss[1] < 2048, rss
        assert s.pid() == parent
        s.assert_no_crash()
    finally:
        s.stop()
    assert "exit signal" not in s.error_log()


def test_version_mismatch_logged_once_per_process():
    stage = tempfile.mkdtemp(prefix="mp-pylib-mismatch-")
    try:
        shutil.copytree(os.path.join(pylib_dir(), "mod_python"),
                        os.path.join(stage, "mod_python"))
        with open(os.path.join(stage, "mod_python", "version.py"), "w") as f:
            f.write('version = "0.0.1"\n')
        subprocess.run(["chmod", "-R", "a+rX", stage], check=True)
        conf = CONF + """
<VirtualHost *:@PORT@>
  ServerName other.test
  DocumentRoot @DOCROOT@
</VirtualHost>
"""
        s = Httpd(conf, files={"htdocs/hello.py": HELLO}, mpm="prefork",
                  env={"PYTHONPATH": stage}, name="life-mismatch")
        s.start()
        try:
            for host in ("127.0.0.1", "other.test", "127.0.0.1", "other.test"):
                assert s.get("/x", headers={"Host": host}).status == 200
            log = s.error_log()
            lines = [l for l in log.splitlines() if "MP0200" in l]
            assert lines and "expected '3.6.0', found '0.0.1'" in lines[0]
            pids = [l.split("[pid ")[1].split(":")[0] for l in lines]
            assert len(pids) == len(set(pids)), lines     # once per process
        finally:
            s.stop()
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def test_package_imports_outside_httpd():
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib" / "python"))
    p = subprocess.run(["/usr/bin/python3", "-c",
                        "import mod_python, mod_python.version as v; "
                        "print(mod_python.mp_version, v.version)"],
                       capture_output=True, text=True, env=env, cwd="/")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["3.6.0", "3.6.0"]
    p = subprocess.run(["/usr/bin/python3", "-c", "import mod_python.apache"],
                       capture_output=True, text=True, env=env, cwd="/")
    assert p.returncode != 0 and "_apache" in p.stderr


def test_c_and_python_versions_agree():
    with open(REPO / "include" / "mp_version.h") as f:
        c = f.read()
    with open(REPO / "lib" / "python" / "mod_python" / "version.py") as f:
        py = f.read()
    cver = c.split('MP_VERSION_STRING "')[1].split('"')[0]
    pyver = py.split('version = "')[1].split('"')[0]
    assert cver == pyver
    with open(REPO / "configure.ac") as f:
        assert "AC_INIT([mod_python], [%s])" % cver in f.read()
