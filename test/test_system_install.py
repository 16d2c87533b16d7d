"""`make install` into the machine's real paths (default prefix /usr/local),
`a2enmod python`, a graceful restart of the system apache2 (run on a free
loopback port with a config of this test that includes
/etc/apache2/mods-enabled), a handler in a <Directory> serving; then
`a2dismod python`, `make uninstall`, and the machine is as before:
/etc/apache2, /usr/local, httpd's module directory, apache2's state markers
and dpkg's database.

Where Debian's libapache2-mod-python owns mods-available/python.load, the
install leaves it (and everything of that package) alone, says how to
switch, and `dpkg -V libapache2-mod-python` stays silent."""
import os
import shutil
import subprocess
import time

import pytest

import harness
import sysstate

REPO = str(harness.REPO)
CONFDIR = "/etc/apache2"

pytestmark = pytest.mark.skipif(
    not os.path.isdir(CONFDIR + "/mods-available") or shutil.which("a2enmod") is None
    or os.geteuid() != 0, reason="needs Debian's apache2 layout, as root")


def debian_owns_python_load():
    return subprocess.run([os.environ.get("MP_DPKG_QUERY", "dpkg-query"), "-S",
                           CONFDIR + "/mods-available/python.load"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def make(*args):
    return subprocess.run(["make", "-s", *args], cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)


class SystemApache:
    """The system's apache2 binary with ServerRoot /etc/apache2 and a config
    of ours: the enabled modules of the machine, our port, logs and pid."""

    def __init__(self):
        self.root = harness._mkdtemp("mp-sysinst-")
        harness._roots.append(self.root)
        self.port = harness.free_port()
        self.docroot = os.path.join(self.root, "htdocs")
        os.makedirs(self.docroot)
        os.makedirs(os.path.join(self.root, "logs"))
        with open(os.path.join(self.docroot, "app.py"), "w") as f:
            f.write("from mod_python import apache\nimport mod_python\n\n"
                    "def handler(req):\n    req.content_type = 'text/plain'\n"
                    "    req.write('served by mod_python %s from %s' % "
                    "(mod_python.mp_version, mod_python.__file__))\n"
                    "    return apache.OK\n")
        self.conf = os.path.join(self.root, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write("""\
ServerName 127.0.0.1
PidFile {root}/logs/httpd.pid
Mutex file:{root}/logs default
DefaultRuntimeDir {root}/logs
ErrorLog {root}/logs/error_log
LogLevel info
IncludeOptional mods-enabled/*.load
IncludeOptional mods-enabled/*.conf
User www-data
Group www-data
Listen 127.0.0.1:{port}
DocumentRoot {docroot}
<Directory {docroot}>
    Require all granted
    <IfModule python_module>
        SetHandler mod_python
        PythonHandler app
    </IfModule>
</Directory>
""".format(root=self.root, port=self.port, docroot=self.docroot))
        harness._world_readable_tree(self.root)
        self.running = False

    def ctl(self, *args):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C",
               "APACHE_RUN_DIR": self.root + "/logs", "APACHE_LOCK_DIR": self.root + "/logs",
               "APACHE_LOG_DIR": self.root + "/logs", "APACHE_RUN_USER": "www-data",
               "APACHE_RUN_GROUP": "www-data", "APACHE_PID_FILE": self.root + "/logs/pid"}
        return subprocess.run(["/usr/sbin/apache2", "-d", CONFDIR, "-f", self.conf, *args],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=120)

    def pid(self):
        try:
            return int(open(self.root + "/logs/httpd.pid").read())
        except (OSError, ValueError):
            return None

    def get(self):
        return harness.wait_get(self.port, "/app")

    def graceful(self, old_pid):
        p = self.ctl("-k", "graceful")
        assert p.returncode == 0, p.stdout
        time.sleep(1.0)
        assert self.pid() == old_pid

    def stop(self):
        """Stop exactly this server (its pid file), never another httpd."""
        pid = self.pid()
        if pid is None:
            return
        self.ctl("-k", "stop")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
            time.sleep(0.1)


def test_make_install_a2enmod_graceful_uninstall():
    with sysstate.locked():
        _install_enable_serve_uninstall()


def _install_enable_serve_uninstall():
    before = sysstate.snapshot()
    debian = debian_owns_python_load()
    dpkg_v = subprocess.run(["dpkg", "-V", "libapache2-mod-python"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True).stdout if debian else ""
    srv = SystemApache()
    enabled = False
    try:
        p = make("install")
        assert p.returncode == 0, p.stdout
        assert os.path.isfile("/usr/local/lib/apache2/modules/mod_python.so")
        assert os.path.isfile("/usr/local/lib/mod_python/python3.%d/mod_python/apache.py"
                              % os.sys.version_info[1])
        if debian:
            # Debian's 3.5 stays whole; the a2enmod files are not ours
            assert ("belongs to the Debian package libapache2-mod-python: the a2enmod "
                    "files were not installed" in p.stdout), p.stdout
            v = subprocess.run(["dpkg", "-V", "libapache2-mod-python"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            assert v.stdout == dpkg_v, v.stdout
            return
        with open(CONFDIR + "/mods-available/python.load") as f:
            assert "LoadModule python_module /usr/local/lib/apache2/modules/mod_python.so" \
                in f.read()
        if os.path.lexists(CONFDIR + "/mods-enabled/python.load"):
            pytest.fail("python is enabled in /etc/apache2 already: not touching it")
        p = srv.ctl("-k", "start")
        assert p.returncode == 0, p.stdout
        deadline = time.monotonic() + 30
        while srv.pid() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        pid = srv.pid()
        status, body = srv.get()
        assert status != 200 or "served by mod_python" not in body   # not enabled yet
        p = subprocess.run(["a2enmod", "python"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, p.stdout
        enabled = True
        srv.graceful(pid)
        status, body = srv.get()
        assert status == 200, body + open(srv.root + "/logs/error_log").read()[-3000:]
        # the installed package, from its private directory (no PYTHONPATH)
        assert body.startswith("served by mod_python 3.6.0 from "
                               "/usr/local/lib/mod_python/python3."), body
        log = open(srv.root + "/logs/error_log").read()
        assert "MP0200" not in log and "Fatal Python error" not in log
    finally:
        srv.stop()
        if enabled:
            subprocess.run(["a2dismod", "-q", "python"], stdout=subprocess.DEVNULL)
        p = make("uninstall")
        sysstate.restore_markers(before)
    assert p.returncode == 0, p.stdout
    assert sysstate.differences(before, sysstate.snapshot()) == []
