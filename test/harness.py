"""Test harness: drives a real Apache httpd (Debian apache2) on loopback ports.

A test module gets its servers from the `httpd` factory fixture of
conftest.py, which starts them under the module's MPM and stops them (and
checks their error logs for crashes) when the module is done:

    import pytest
    from harness import MPMS, SINGLE_CHILD

    pytestmark = pytest.mark.mpms(*MPMS)     # every test once per MPM (default: event)

    CONFIG = r'''
    <Directory @DOCROOT@/app>
        SetHandler mod_python
        PythonHandler app
    </Directory>
    '''
    FILES = {"htdocs/app/app.py": APP_PY}    # relative to the server root

    @pytest.fixture(scope="module")
    def srv(httpd):
        return httpd(CONFIG, files=FILES, name="mine", mpm_config=SINGLE_CHILD)

    def test_hello(srv):
        r = srv.get("/app/hello")
        assert r.status == 200, srv.error_log()[-3000:]

In CONFIG and in the files @ROOT@, @DOCROOT@, @PORT@, @PORT2@ (a second free
port) and @PYLIB@ are replaced.  Httpd(...) can also be used directly, e.g.
as a context manager for a server that lives in one test only.  Useful
methods: get/post/request, error_log, log_mark + log_since/wait_log,
write (change a file), set_config + graceful, children, assert_no_crash.

A test application that reports on request methods as JSON ends its source
with json_call_handler(): /app/<name> then answers the JSON of t_<name>(req)
of that module (an int result is the HTTP status).

Environment overrides:
    MP_HTTPD       httpd binary (default /usr/sbin/apache2)
    MP_MODULE      mod_python.so under test (default <repo>/mod_python.so)
    MP_MODULES_DIR httpd modules directory (default /usr/lib/apache2/modules)
    MP_KEEP_ROOTS  if set, server roots are not removed after stop()
    MP_TEST_MPMS   MPMs the parametrised tests run under (default "event worker prefork")
    MP_TEST_WRAP   run every httpd as one foreground process (`httpd -X`) under
                   this command, e.g. valgrind (scripts/test-valgrind.sh)
    MP_TEST_TIMEOUT_SCALE  multiply the start/stop/request timeouts (slow runs)
    MP_TEST_ENV    extra environment for every httpd started, as shell-quoted
                   NAME=VALUE words (scripts/test-asan.sh passes LD_PRELOAD and
                   the sanitizer options this way, so that only httpd gets them)
"""
import atexit
import http.client
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HTTPD = os.environ.get("MP_HTTPD", "/usr/sbin/apache2")
MODULES_DIR = os.environ.get("MP_MODULES_DIR", "/usr/lib/apache2/modules")
MP_MODULE = os.environ.get("MP_MODULE", str(REPO / "mod_python.so"))
PYLIB_SRC = REPO / "lib" / "python" / "mod_python"
EXTRA_ENV = dict(w.split("=", 1) for w in shlex.split(os.environ.get("MP_TEST_ENV", "")))

WRAP = shlex.split(os.environ.get("MP_TEST_WRAP", ""))
# Every timeout, also one a test passes to request(), is multiplied by this.
TIMEOUT_SCALE = float(os.environ.get("MP_TEST_TIMEOUT_SCALE", "1"))
# Generous bounds: the tests run on machines loaded by other builds and
# servers; a bound is only reached when something is really wrong.
START_TIMEOUT = 60.0 * TIMEOUT_SCALE
STOP_TIMEOUT = 30.0 * TIMEOUT_SCALE
REQUEST_TIMEOUT = 60.0
LOG_TIMEOUT = 60.0 * TIMEOUT_SCALE

# Under AddressSanitizer freed memory sits in a quarantine (256 MiB) and
# every allocation carries shadow memory; under valgrind (WRAP) the process
# is valgrind's: RSS figures mean nothing there.
SANITIZED = "ASAN_OPTIONS" in EXTRA_ENV or bool(WRAP)
NO_RSS_UNDER_ASAN = "RSS is meaningless under ASan or valgrind"

CRASH_MARKERS = (
    "exit signal",
    "Segmentation fault",
    "Fatal Python error",
    "AH00052",
    "double free",
    "Aborted",
    "ERROR: AddressSanitizer",
    "runtime error:",
)

BASE_MODULES = (
    "authz_core", "authz_host", "authn_core", "mime", "dir", "alias",
    "env", "log_config", "unixd",
)

_THREADED_DEFAULT = """\
StartServers 2
ServerLimit 4
ThreadLimit 64
ThreadsPerChild 16
MaxRequestWorkers 64
MinSpareThreads 16
MaxSpareThreads 64
MaxConnectionsPerChild 0
"""

MPM_DEFAULTS = {
    "event": _THREADED_DEFAULT,
    "worker": _THREADED_DEFAULT,
    "prefork": """\
StartServers 2
MinSpareServers 1
MaxSpareServers 4
ServerLimit 8
MaxRequestWorkers 8
MaxConnectionsPerChild 0
""",
}

# MP_TEST_MPMS (space-separated) narrows the MPMs of the parametrised tests.
MPMS = tuple(os.environ.get("MP_TEST_MPMS", "event worker prefork").split())

# One child process only: module globals then count per interpreter, not per
# process, which makes interpreter-separation tests deterministic.
_THREADED_SINGLE = """\
StartServers 1
ServerLimit 1
ThreadLimit 32
ThreadsPerChild 32
MaxRequestWorkers 32
MinSpareThreads 1
MaxSpareThreads 32
MaxConnectionsPerChild 0
"""
SINGLE_CHILD = {
    "event": _THREADED_SINGLE,
    "worker": _THREADED_SINGLE,
    "prefork": """\
StartServers 1
MinSpareServers 1
MaxSpareServers 1
ServerLimit 1
MaxRequestWorkers 1
MaxConnectionsPerChild 0
""",
}



def json_call_handler(segment=-1):
    """Python source of a handler(req) to append to a test application: the
    URI's path segment number `segment` ("/app/<name>" -> -1 or 2) names
    t_<name>(req) of the module; its result is the response status when an
    int, else it is written as JSON (repr() for what JSON cannot hold).
    Unknown names answer 404."""
    return '''

def handler(req):
    import json
    from mod_python import apache
    fn = globals().get("t_" + req.uri.split("/")[%d])
    if fn is None:
        return apache.HTTP_NOT_FOUND
    res = fn(req)
    if isinstance(res, int):
        return res
    req.content_type = "application/json"
    req.write(json.dumps(res, default=repr))
    return apache.OK
''' % segment


_live = set()          # running Httpd instances, stopped at exit
_live_lock = threading.Lock()
_roots = []            # temp dirs removed at exit (after every server stopped)
_OWNER_PID = os.getpid()   # atexit work is skipped in forked children
_pylib_stage = None    # staged, world-readable copy of the mod_python package


def _world_readable_tree(path):
    """chmod a+rX everything under path (inclusive)."""
    path = Path(path)
    for p in [path, *path.rglob("*")]:
        try:
            mode = p.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            extra = 0o555 if (stat.S_ISDIR(mode) or mode & 0o100) else 0o444
            os.chmod(p, stat.S_IMODE(mode) | extra)
        except FileNotFoundError:
            pass


def _mkdtemp(prefix):
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


def pylib_dir():
    """Directory (staged once per session) containing the mod_python package."""
    global _pylib_stage
    if _pylib_stage is None:
        stage = _mkdtemp("mp-pylib-")
        dest = Path(stage) / "mod_python"
        shutil.copytree(PYLIB_SRC, dest,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _world_readable_tree(stage)
        _pylib_stage = stage
        _roots.append(stage)
    return _pylib_stage


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_ports(n):
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def wait_get(port, path="/", timeout=30.0):
    """GET http://127.0.0.1:port/path from a server that may still be
    starting: (status, text), retrying connection errors until timeout."""
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                        timeout=10) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except OSError as e:
            last = e
            time.sleep(0.1)
    raise AssertionError("server on port %d did not answer: %r" % (port, last))


class CaseInsensitiveDict(dict):
    """Minimal case-insensitive mapping for response headers.

    Repeated headers are joined with ", " except Set-Cookie; all raw
    values are in .items_all (list of (name, value))."""

    def __init__(self, pairs=()):
        super().__init__()
        self.items_all = []
        for k, v in pairs:
            self.items_all.append((k, v))
            lk = k.lower()
            if lk in self and lk != "set-cookie":
                super().__setitem__(lk, dict.__getitem__(self, lk) + ", " + v)
            elif lk not in self:
                super().__setitem__(lk, v)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)

    def get_all(self, k):
        lk = k.lower()
        return [v for n, v in self.items_all if n.lower() == lk]


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.reason, self.body[:200])


class HttpdError(Exception):
    pass


class Httpd:
    def __init__(self, config="", files=None, mpm="event", modules=(), env=None,
                 name=None, load_python=True, mpm_config=None):
        if mpm not in MPM_DEFAULTS:
            raise ValueError("unknown mpm %r" % mpm)
        self.config = config
        self.files = dict(files or {})
        self.mpm = mpm
        self.modules = tuple(modules)
        self.env = dict(env or {})
        self.name = name or "srv"
        self.load_python = load_python
        self.mpm_config = MPM_DEFAULTS[mpm] if mpm_config is None else mpm_config
        self.root = _mkdtemp("mp-test-%s-" % self.name)
        self.docroot = os.path.join(self.root, "htdocs")
        self.port, self.port2 = _free_ports(2)
        self.conf_path = os.path.join(self.root, "conf", "httpd.conf")
        self.pid_path = os.path.join(self.root, "logs", "httpd.pid")
        self.log_path = os.path.join(self.root, "logs", "error_log")
        self.running = False
        self._pid = None
        if not os.environ.get("MP_KEEP_ROOTS"):
            _roots.append(self.root)
        for d in ("conf", "logs", "htdocs", "lib", "tmp"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        os.chmod(os.path.join(self.root, "tmp"), 0o1777)
        for rel, text in self.files.items():
            self.write(rel, text)
        self._write_conf()

    # ------------------------------------------------------------ config
    def subst(self, text):
        return (text.replace("@ROOT@", self.root)
                    .replace("@DOCROOT@", self.docroot)
                    .replace("@PORT2@", str(self.port2))
                    .replace("@PORT@", str(self.port))
                    .replace("@PYLIB@", pylib_dir()))

    def _load_lines(self):
        lines = ["LoadModule mpm_%s_module %s/mod_mpm_%s.so"
                 % (self.mpm, MODULES_DIR, self.mpm)]
        seen = set()
        for m in BASE_MODULES + self.modules:
            if m in seen or m == "python":
                continue
            seen.add(m)
            lines.append("<IfModule !%s_module>\n  LoadModule %s_module %s/mod_%s.so\n"
                         "</IfModule>" % (m, m, MODULES_DIR, m))
        if self.load_python:
            lines.append("LoadModule python_module %s" % MP_MODULE)
        return "\n".join(lines)

    def base_config(self):
        return """\
ServerRoot "{root}"
PidFile "{root}/logs/httpd.pid"
Mutex file:{root}/logs default
DefaultRuntimeDir "{root}/logs"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
{loads}
User www-data
Group www-data
<IfModule mpm_{mpm}_module>
{mpmconf}</IfModule>
ErrorLog "{root}/logs/error_log"
LogLevel {loglevel}
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog "{root}/logs/access_log" common
TypesConfig /etc/mime.types
DocumentRoot "{docroot}"
Timeout 60
KeepAlive On
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{docroot}">
    AllowOverride None
    Require all granted
</Directory>
""".format(root=self.root, port=self.port, loads=self._load_lines(),
           mpm=self.mpm, mpmconf=self.mpm_config, docroot=self.docroot,
           loglevel="info python:debug" if self.load_python else "info")

    def _write_conf(self):
        text = self.base_config() + "\n# ---- test config ----\n" + self.subst(self.config) + "\n"
        with open(self.conf_path, "w") as f:
            f.write(text)
        os.chmod(self.conf_path, 0o644)

    def set_config(self, config):
        """Replace the test part of the config (takes effect on graceful/start)."""
        self.config = config
        self._write_conf()

    def write(self, relpath, text):
        """(Re)write a file under the server root, world-readable; placeholders replaced."""
        path = os.path.join(self.root, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        d = os.path.dirname(path)
        while len(d) >= len(self.root):
            os.chmod(d, os.stat(d).st_mode | 0o555)
            d = os.path.dirname(d)
        if isinstance(text, bytes):
            data = text
        else:
            data = self.subst(text).encode("utf-8")
        tmp = path + ".tmp~"
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        return path

    # ------------------------------------------------------------ process
    def _env(self):
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": pylib_dir(),
            "APACHE_RUN_DIR": os.path.join(self.root, "logs"),
            "APACHE_LOCK_DIR": os.path.join(self.root, "logs"),
            "APACHE_LOG_DIR": os.path.join(self.root, "logs"),
            "TMPDIR": os.path.join(self.root, "tmp"),
        }
        env.update(EXTRA_ENV)
        env.update(self.env)
        return env

    def _ctl(self, *args, timeout=60):
        return subprocess.run([HTTPD, "-f", self.conf_path, *args],
                              env=self._env(), cwd=self.root,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout)

    def configtest(self):
        """Run `apache2 -t`; returns (returncode, output)."""
        self._write_conf()
        p = self._ctl("-t")
        return p.returncode, p.stdout.decode("utf-8", "replace")

    def start(self):
        if self.running:
            return self
        self._write_conf()
        if WRAP:
            self._start_wrapped()
        else:
            p = self._ctl("-k", "start")
            out = p.stdout.decode("utf-8", "replace")
            self.start_output = out      # what httpd printed before its logs opened
            if p.returncode != 0:
                raise HttpdError("httpd failed to start (rc=%d):\n%s\n--- error_log ---\n%s"
                                 % (p.returncode, out, self.error_log()))
        self.running = True
        with _live_lock:
            _live.add(self)
        try:
            self._wait_answering(START_TIMEOUT)
        except Exception:
            self.stop()
            raise
        self._pid = self.pid()
        return self

    def _start_wrapped(self):
        """httpd -X (one process, foreground) under WRAP; its output goes to
        logs/wrap.out.  stop() ends it like any other (pid file, SIGTERM)."""
        with open(os.path.join(self.root, "logs", "wrap.out"), "ab") as out:
            self._proc = subprocess.Popen([*WRAP, HTTPD, "-f", self.conf_path, "-X"],
                                          env=self._env(), cwd=self.root,
                                          stdout=out, stderr=subprocess.STDOUT)
        self._pid = self._proc.pid

    def _wait_answering(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/__harness_ping__", headers={"Connection": "close"})
                conn.getresponse().read()
                conn.close()
                return
            except (OSError, http.client.HTTPException) as e:
                last = e
                time.sleep(0.1)
        raise HttpdError("httpd on port %d did not answer within %ss (%r)\n--- error_log ---\n%s"
                         % (self.port, timeout, last, self.error_log()))

    def pid(self):
        """Pid of the httpd parent (pid file, else the one seen at start)."""
        try:
            with open(self.pid_path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return self._pid

    def children(self):
        """Pids of the parent's current child processes."""
        pid = self.pid()
        return self._children_of(pid) if pid else []

    def _children_of(self, pid):
        """Pids whose parent is pid (from /proc)."""
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                if int(st.rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(d))
            except (OSError, ValueError, IndexError):
                pass
        return kids

    def _our_pids(self):
        """Pids of every process running with this server's config file
        (the path is a unique temp dir, so these are ours)."""
        pids = []
        needle = self.conf_path.encode()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if needle in f.read().split(b"\0"):
                        pids.append(int(d))
            except OSError:
                pass
        return pids

    @staticmethod
    def _alive(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                st = f.read()
            return st.rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    def stop(self, graceful=False):
        """Stop httpd (idempotent). Kills leftovers with SIGKILL after a timeout.
        graceful: `-k graceful-stop`, the children end on their own however
        long that takes on a loaded machine (`-k stop` has httpd kill a child
        that is not gone after some seconds, e.g. before its exit cleanups ran)."""
        if not self.running:
            return
        pid = self.pid()
        pids = set(self._our_pids())
        if pid:
            pids.add(pid)
        try:
            self._ctl("-k", "graceful-stop" if graceful else "stop", timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        if not graceful and pid and self._alive(pid):
            try:
                os.kill(pid, signal.SIGTERM)     # in case -k stop could not
            except OSError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT * (4 if graceful else 1)
        while time.monotonic() < deadline and any(self._alive(p) for p in pids):
            time.sleep(0.1)
        pids |= set(self._our_pids())
        for p in pids:
            if self._alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        if getattr(self, "_proc", None) is not None:
            try:
                self._proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        self.running = False
        with _live_lock:
            _live.discard(self)

    def graceful(self, timeout=START_TIMEOUT):
        """Graceful restart; waits until the server answers again."""
        self._write_conf()
        mark = self.log_mark()
        p = self._ctl("-k", "graceful")
        if p.returncode != 0:
            raise HttpdError("graceful failed (rc=%d): %s\n--- error_log ---\n%s"
                             % (p.returncode, p.stdout.decode("utf-8", "replace"),
                                self.error_log()))
        # The parent has re-read the configuration when it says it resumes
        # (AH00489); a fixed pause could end before it processed SIGUSR1.
        if not self.wait_log("resuming normal operations", timeout=timeout, mark=mark):
            raise HttpdError("graceful: httpd did not resume within %ss\n--- error_log ---\n%s"
                             % (timeout, self.log_since(mark)))
        self._wait_answering(timeout)

    def restart(self):
        self.stop()
        self.start()

    # ------------------------------------------------------------ client
    def request(self, method, path, body=None, headers=None, port=None,
                timeout=REQUEST_TIMEOUT, host="127.0.0.1"):
        hdrs = {"Connection": "close"}
        hdrs.update(headers or {})
        conn = http.client.HTTPConnection(host, port or self.port,
                                          timeout=timeout * TIMEOUT_SCALE)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.reason,
                            CaseInsensitiveDict(resp.getheaders()), data)
        finally:
            conn.close()

    def raw(self, data, port=None, half_close=False, timeout=REQUEST_TIMEOUT):
        """Send raw bytes (half-closing after them when half_close), return
        everything the server answers until it closes the connection."""
        with socket.create_connection(("127.0.0.1", port or self.port), timeout=timeout) as s:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                if not chunk:
                    return out
                out += chunk
        return out

    def get(self, path, headers=None, port=None, **kw):
        return self.request("GET", path, headers=headers, port=port, **kw)

    def post(self, path, body=b"", headers=None, port=None, **kw):
        return self.request("POST", path, body=body, headers=headers, port=port, **kw)

    # ------------------------------------------------------------ logs
    def error_log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def access_log(self):
        try:
            with open(os.path.join(self.root, "logs", "access_log"),
                      encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """Current size of the error log; pass to log_since()."""
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, mark):
        """Error log text written after log_mark() returned mark."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_contains(self, text):
        return text in self.error_log()

    def wait_log(self, text, timeout=LOG_TIMEOUT, mark=0):
        """Wait until text appears in the error log (after mark; log and
        cleanup handlers run after the response is sent). Returns True/False."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_since(mark):
                return True
            time.sleep(0.05)
        return text in self.log_since(mark)

    def crash_lines(self):
        return [l for l in self.error_log().splitlines()
                if any(m in l for m in CRASH_MARKERS)]

    def assert_no_crash(self):
        bad = self.crash_lines()
        assert not bad, "crash markers in error_log:\n" + "\n".join(bad[:50])

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _stop_all():
    with _live_lock:
        live = list(_live)
    for s in live:
        try:
            s.stop()
        except Exception:
            pass


def _cleanup_at_exit():
    if os.getpid() != _OWNER_PID:      # a forked child of the test process
        return
    _stop_all()
    for d in _roots:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_at_exit)
