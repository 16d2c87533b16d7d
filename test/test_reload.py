"""PythonAutoReload: the reload engine against a real httpd.

Every change to a handler module, a helper it imports or a package
submodule must be served by the first request that starts after the
change was written, in every child process and thread.
"""
import ctypes
import http.client
import os
import select
import threading
import time

import pytest

from harness import Httpd, SINGLE_CHILD

pytestmark = pytest.mark.mpms("event", "prefork")

MULTI_EVENT = """\
StartServers 3
ServerLimit 4
ThreadLimit 16
ThreadsPerChild 8
MaxRequestWorkers 32
MinSpareThreads 8
MaxSpareThreads 32
MaxConnectionsPerChild 0
"""
MULTI_PREFORK = """\
StartServers 4
MinSpareServers 4
MaxSpareServers 6
ServerLimit 8
MaxRequestWorkers 8
MaxConnectionsPerChild 0
"""


def handler_src(version, extra=""):
    return ("from mod_python import apache\n"
            "VERSION = %d\n%s"
            "def handler(req):\n"
            "    req.content_type = 'text/plain'\n"
            "    req.write(str(VERSION))\n"
            "    return apache.OK\n" % (version, extra))


def write_in_place(path, text):
    """Overwrite without rename (same inode), like an editor saving in place."""
    with open(path, "w") as f:
        f.write(text)


class OpenWatch:
    """Tells when some process opens `path` (inotify IN_OPEN): a test waits
    for the server to have looked at a file instead of guessing a pause."""
    IN_OPEN = 0x20

    def __init__(self, path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if libc.inotify_add_watch(self.fd, os.fsencode(path), self.IN_OPEN) < 0:
            err = ctypes.get_errno()
            os.close(self.fd)
            raise OSError(err, "inotify_add_watch %s" % path)

    def wait(self, timeout=60.0):
        return bool(select.select([self.fd], [], [], timeout)[0])

    def close(self):
        os.close(self.fd)


def versions(srv, path, n):
    out = []
    for _ in range(n):
        r = srv.get(path)
        assert r.status == 200, (r.status, r.text, srv.error_log()[-2000:])
        out.append(r.text)
    return out


# ---------------------------------------------------------------- basic

CONF = """
# two requests on one keep-alive connection must reach the same child even
# when the machine is slow: httpd must not close it in between (default 5 s)
KeepAliveTimeout 120
<Directory @DOCROOT@/app>
  SetHandler mod_python
  PythonHandler handler
  PythonDebug On
</Directory>
<Directory @DOCROOT@/dep>
  SetHandler mod_python
  PythonHandler dephandler
  PythonDebug Off
</Directory>
<Directory @DOCROOT@/pkgapp>
  SetHandler mod_python
  PythonHandler pkg.mod
</Directory>
<Directory @DOCROOT@/brokendbg>
  SetHandler mod_python
  PythonHandler dmod
  PythonDebug On
</Directory>
<Directory @DOCROOT@/clone>
  SetHandler mod_python
  PythonHandler cmod
</Directory>
<Directory @DOCROOT@/link>
  SetHandler mod_python
  PythonHandler lmod
</Directory>
"""

CLONE_SRC = """\
from mod_python import apache
VERSION = %d
hits = globals().get('hits', 0)     # kept when __mp_clone__ carried it over
def __mp_clone__(new):
    new.hits = hits
def handler(req):
    global hits
    hits += 1
    req.content_type = 'text/plain'
    req.write('%%d %%d' %% (VERSION, hits))
    return apache.OK
"""

FILES = {
    "htdocs/app/handler.py": handler_src(1),
    "htdocs/dep/dephandler.py": (
        "from mod_python import apache\n"
        "from helper import VALUE\n"
        "import helper\n"
        "def handler(req):\n"
        "    req.write('%s %s' % (VALUE, helper.deep_value()))\n"
        "    return apache.OK\n"),
    "htdocs/dep/helper.py": "from deep import DEEP\nVALUE = 'h1'\ndef deep_value():\n    return DEEP\n",
    "htdocs/dep/deep.py": "DEEP = 'd1'\n",
    "htdocs/pkgapp/pkg/__init__.py": "",
    "htdocs/pkgapp/pkg/mod.py": (
        "from mod_python import apache\n"
        "from . import sub\n"
        "from .sub import NAME\n"
        "def handler(req):\n"
        "    req.write(NAME + ' ' + sub.NAME)\n"
        "    return apache.OK\n"),
    "htdocs/pkgapp/pkg/sub.py": "NAME = 's1'\n",
    "htdocs/brokendbg/dmod.py": handler_src(1),
    "htdocs/clone/cmod.py": CLONE_SRC % 1,
    "htdocs/link/v1.py": handler_src(1),
    "htdocs/link/v2.py": handler_src(2),
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files=FILES, mpm_config={"event": MULTI_EVENT, "prefork": MULTI_PREFORK},
                 name="reload")


def test_edit_seen_by_every_following_request(srv):
    path = os.path.join(srv.docroot, "app", "handler.py")
    write_in_place(path, handler_src(1))
    assert set(versions(srv, "/app/x", 20)) == {"1"}
    for v in (2, 3):
        write_in_place(path, handler_src(v))
        assert versions(srv, "/app/x", 50) == [str(v)] * 50


def test_same_second_same_size_edit(srv):
    path = os.path.join(srv.docroot, "app", "handler.py")
    write_in_place(path, handler_src(4))
    assert set(versions(srv, "/app/x", 10)) == {"4"}
    st = os.stat(path)
    write_in_place(path, handler_src(5))         # same size, same second
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))   # even the same mtime
    assert versions(srv, "/app/x", 50) == ["5"] * 50


def test_mtime_going_backwards(srv):
    path = os.path.join(srv.docroot, "app", "handler.py")
    write_in_place(path, handler_src(6))
    assert set(versions(srv, "/app/x", 10)) == {"6"}
    write_in_place(path, handler_src(7))
    os.utime(path, (time.time() - 86400 * 30, time.time() - 86400 * 30))
    assert versions(srv, "/app/x", 50) == ["7"] * 50


def test_replace_by_rename(srv):
    versions(srv, "/app/x", 5)
    srv.write("htdocs/app/handler.py", handler_src(8))   # tmp file + rename
    assert versions(srv, "/app/x", 50) == ["8"] * 50


def test_symlink_swap(srv):
    link = os.path.join(srv.docroot, "link", "lmod.py")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink("v1.py", link)
    assert set(versions(srv, "/link/x", 10)) == {"1"}
    tmp = link + ".new"
    os.symlink("v2.py", tmp)
    os.replace(tmp, link)                         # atomic symlink swap
    assert versions(srv, "/link/x", 50) == ["2"] * 50
    # and the target edited in place while the link stays
    write_in_place(os.path.join(srv.docroot, "link", "v2.py"), handler_src(3))
    assert versions(srv, "/link/x", 50) == ["3"] * 50


def test_helper_and_transitive_dependency(srv):
    assert set(versions(srv, "/dep/x", 10)) == {"h1 d1"}
    srv.write("htdocs/dep/helper.py",
              "from deep import DEEP\nVALUE = 'h2'\ndef deep_value():\n    return DEEP\n")
    assert versions(srv, "/dep/x", 50) == ["h2 d1"] * 50
    write_in_place(os.path.join(srv.docroot, "dep", "deep.py"), "DEEP = 'd2'\n")
    assert versions(srv, "/dep/x", 50) == ["h2 d2"] * 50


def test_package_submodule(srv):
    assert set(versions(srv, "/pkgapp/x", 10)) == {"s1 s1"}
    write_in_place(os.path.join(srv.docroot, "pkgapp", "pkg", "sub.py"), "NAME = 's2'\n")
    assert versions(srv, "/pkgapp/x", 50) == ["s2 s2"] * 50


def test_syntax_error_then_fix_debug_on(srv):
    path = os.path.join(srv.docroot, "brokendbg", "dmod.py")
    write_in_place(path, handler_src(1))
    assert set(versions(srv, "/brokendbg/x", 10)) == {"1"}
    write_in_place(path, handler_src(2) + "raise RuntimeError('boom at import')\n")
    for _ in range(20):
        r = srv.get("/brokendbg/x")
        assert r.status == 500
        assert "boom at import" in r.text
    write_in_place(path, handler_src(3))
    assert versions(srv, "/brokendbg/x", 50) == ["3"] * 50


def test_mp_clone_carries_state(srv):
    path = os.path.join(srv.docroot, "clone", "cmod.py")
    # one keep-alive connection: one child, so the hit counter is continuous
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    try:
        def get():
            conn.request("GET", "/clone/x")
            r = conn.getresponse()
            return r.read().decode()
        v, h = get().split()
        for _ in range(3):
            v, h2 = get().split()
        assert int(h2) == int(h) + 3
        write_in_place(path, CLONE_SRC % 2)
        v, h3 = get().split()
        assert v == "2" and int(h3) == int(h2) + 1
    finally:
        conn.close()


# ---------------------------------------------- On / Off, .htaccess, explicit

ONOFF_CONF = """
<Directory @DOCROOT@/on>
  SetHandler mod_python
  PythonHandler onmod
  PythonAutoReload On
</Directory>
<Directory @DOCROOT@/off>
  SetHandler mod_python
  PythonHandler offmod
  PythonAutoReload Off
</Directory>
<Directory @DOCROOT@/hton>
  AllowOverride All
  SetHandler mod_python
  PythonHandler htonmod
  PythonAutoReload Off
</Directory>
<Directory @DOCROOT@/htoff>
  AllowOverride FileInfo
  SetHandler mod_python
  PythonHandler htoffmod
</Directory>
<Directory @DOCROOT@/broken>
  SetHandler mod_python
  PythonHandler bmod
  PythonDebug Off
</Directory>
<Directory @DOCROOT@/gone>
  SetHandler mod_python
  PythonHandler gmod
</Directory>
<Directory @DOCROOT@/explicit>
  SetHandler mod_python
  PythonHandler explicit
  PythonAutoReload Off
</Directory>
"""

ONOFF_FILES = {
    "htdocs/on/onmod.py": handler_src(1),
    "htdocs/off/offmod.py": handler_src(1),
    "htdocs/hton/htonmod.py": handler_src(1),
    "htdocs/hton/.htaccess": "PythonAutoReload On\n",
    "htdocs/htoff/htoffmod.py": handler_src(1),
    "htdocs/htoff/.htaccess": "PythonAutoReload Off\n",
    "htdocs/explicit/explicit.py": (
        "from mod_python import apache\n"
        "def handler(req):\n"
        "    m = apache.import_module('target', autoreload=1, path=[%r])\n"
        "    req.write('%%s %%s' %% (m.VERSION, req.get_config().get('PythonAutoReload')))\n"
        "    return apache.OK\n" % "@DOCROOT@/explicit"),
    "htdocs/explicit/target.py": "VERSION = 1\n",
    "htdocs/broken/bmod.py": handler_src(1),
    "htdocs/gone/gmod.py": handler_src(1),
}


@pytest.fixture(scope="module")
def onoff():
    s = Httpd(ONOFF_CONF, files=ONOFF_FILES, mpm="event",
              mpm_config=SINGLE_CHILD["event"], name="reload-onoff")
    s.start()
    yield s
    s.assert_no_crash()
    s.stop()


def test_on_and_off_in_one_server(onoff):
    assert versions(onoff, "/on/x", 3) == ["1"] * 3
    assert versions(onoff, "/off/x", 3) == ["1"] * 3
    write_in_place(os.path.join(onoff.docroot, "on", "onmod.py"), handler_src(2))
    write_in_place(os.path.join(onoff.docroot, "off", "offmod.py"), handler_src(2))
    assert versions(onoff, "/off/x", 5) == ["1"] * 5       # Off: used as is
    assert versions(onoff, "/on/x", 5) == ["2"] * 5        # On: new code
    assert versions(onoff, "/off/x", 5) == ["1"] * 5       # still as is


def test_htaccess_both_ways(onoff):
    assert versions(onoff, "/hton/x", 3) == ["1"] * 3
    assert versions(onoff, "/htoff/x", 3) == ["1"] * 3
    assert onoff.get("/hton/x").status == 200
    write_in_place(os.path.join(onoff.docroot, "hton", "htonmod.py"), handler_src(2))
    write_in_place(os.path.join(onoff.docroot, "htoff", "htoffmod.py"), handler_src(2))
    assert versions(onoff, "/hton/x", 5) == ["2"] * 5      # .htaccess On wins
    assert versions(onoff, "/htoff/x", 5) == ["1"] * 5     # .htaccess Off wins


def test_explicit_autoreload_in_off_directory(onoff):
    assert versions(onoff, "/explicit/x", 3) == ["1 0"] * 3
    write_in_place(os.path.join(onoff.docroot, "explicit", "target.py"), "VERSION = 2\n")
    assert versions(onoff, "/explicit/x", 5) == ["2 0"] * 5


# one child: a process that never loaded the module cannot keep serving it
def test_syntax_error_then_fix_debug_off(onoff):
    path = os.path.join(onoff.docroot, "broken", "bmod.py")
    write_in_place(path, handler_src(1))
    assert set(versions(onoff, "/broken/x", 10)) == {"1"}
    mark = onoff.log_mark()
    write_in_place(path, handler_src(2) + "def oops(:\n")
    # the last good module keeps serving
    assert versions(onoff, "/broken/x", 30) == ["1"] * 30
    log = onoff.log_since(mark)
    assert "SyntaxError" in log and "bmod" in log
    # logged once per change (one child here)
    assert log.count("re-import of module 'bmod'") == 1
    write_in_place(path, handler_src(3))
    assert versions(onoff, "/broken/x", 50) == ["3"] * 50


def test_deleted_file(onoff):
    path = os.path.join(onoff.docroot, "gone", "gmod.py")
    write_in_place(path, handler_src(1))
    assert set(versions(onoff, "/gone/x", 10)) == {"1"}
    mark = onoff.log_mark()
    os.unlink(path)
    assert versions(onoff, "/gone/x", 20) == ["1"] * 20
    assert "is gone" in onoff.log_since(mark)
    write_in_place(path, handler_src(2))
    assert versions(onoff, "/gone/x", 50) == ["2"] * 50


# ----------------------------------------------------- the stat fallback

STAT_CONF = """
PythonOption mod_python.autoreload.mechanism stat
<Directory @DOCROOT@/app>
  SetHandler mod_python
  PythonHandler handler
  PythonDebug On
</Directory>
<Location /mech>
  SetHandler mod_python
  PythonHandler mech
  PythonPath "sys.path + ['@DOCROOT@/app']"
</Location>
"""


@pytest.mark.parametrize("mechanism", ["stat", "auto"])
def test_mechanisms(mechanism):
    conf = STAT_CONF if mechanism == "stat" else STAT_CONF.replace(
        "PythonOption mod_python.autoreload.mechanism stat", "")
    files = {"htdocs/app/handler.py": handler_src(1),
             "htdocs/app/helper.py": "X = 1\n",
             "htdocs/app/mech.py": ("from mod_python import apache\nimport _apache\n"
                                    "def handler(req):\n"
                                    "    req.write(_apache._reload_mechanism())\n"
                                    "    return apache.OK\n")}
    s = Httpd(conf, files=files, mpm="event", mpm_config=MULTI_EVENT,
              name="reload-" + mechanism)
    s.start()
    try:
        expected = "stat" if mechanism == "stat" else "inotify"
        assert s.get("/mech").text == expected
        path = os.path.join(s.docroot, "app", "handler.py")
        assert set(versions(s, "/app/x", 10)) == {"1"}
        for v in (2, 3):
            write_in_place(path, handler_src(v))
            assert versions(s, "/app/x", 50) == [str(v)] * 50
        s.assert_no_crash()
    finally:
        s.stop()


# ---------------------------------------------------------------- stress


STRESS_CONF = """
<Directory @DOCROOT@/s>
  SetHandler mod_python
  PythonHandler smod
</Directory>
"""


@pytest.mark.parametrize("mechanism", ["inotify", "stat"])
def test_first_sight_during_stalled_in_place_save(mechanism):
    """A process that first meets a module while an in-place save has
    truncated it but not yet written (no events cover that moment) waits
    for the content instead of running an empty module."""
    conf = STRESS_CONF
    if mechanism == "stat":
        conf = "PythonOption mod_python.autoreload.mechanism stat\n" + conf
    s = Httpd(conf, files={"htdocs/s/smod.py": handler_src(1)}, mpm="event",
              mpm_config=SINGLE_CHILD["event"], name="reload-firstsight-" + mechanism)
    s.start()
    try:
        path = os.path.join(s.docroot, "s", "smod.py")
        out = {}
        with open(path, "w") as f:          # truncated; the writer stalls
            watch = OpenWatch(path)
            t = threading.Thread(target=lambda: out.update(r=s.get("/s/x")))
            t.start()
            try:
                # write only once the server has read the empty file (not
                # after a guessed pause that a loaded machine may outlast)
                assert watch.wait(60), "the server never opened %s" % path
            finally:
                watch.close()
            f.write(handler_src(2))
            f.flush()
        t.join()
        assert (out["r"].status, out["r"].text) == (200, "2"), out["r"].text[:500]
        s.assert_no_crash()
    finally:
        s.stop()


class _KeepAlive:
    """A keep-alive client connection that reconnects after a drop."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path):
        """(status, body), or None when the connection dropped (a new one is
        open for the next call)."""
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            return r.status, r.read().decode()
        except (http.client.HTTPException, ConnectionError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return None

    def close(self):
        self.conn.close()


def test_stress_rewrite_every_100ms():
    s = Httpd(STRESS_CONF, files={"htdocs/s/smod.py": handler_src(0),
                                  "htdocs/s/shelper.py": "N = 0\n"},
              mpm="event", mpm_config=MULTI_EVENT, name="reload-stress")
    s.start()
    stop = threading.Event()
    errors = []
    counts = []
    path = os.path.join(s.docroot, "s", "smod.py")

    def writer():
        v = 0
        while not stop.is_set():
            v += 1
            extra = "import shelper\n" if v % 2 else "from shelper import N\n"
            if v % 3 == 0:
                s.write("htdocs/s/smod.py", handler_src(v, extra))
            else:
                write_in_place(path, handler_src(v, extra))
            time.sleep(0.1)

    def client():
        conn = _KeepAlive(s.port)
        last, n = -1, 0
        try:
            while not stop.is_set():
                got = conn.get("/s/x")
                if got is None:
                    last = -1                   # a new connection may hit another child
                    continue
                status, body = got
                if status != 200:
                    errors.append((status, body[:300]))
                    continue
                try:
                    v = int(body)
                except ValueError:
                    errors.append(("body", body[:300]))
                    continue
                if v < last:
                    errors.append(("backwards", last, v))
                last = v
                n += 1
        finally:
            conn.close()
            counts.append(n)

    threads = [threading.Thread(target=client) for _ in range(8)]
    w = threading.Thread(target=writer)
    for t in threads:
        t.start()
    w.start()
    time.sleep(10)
    stop.set()
    w.join()
    for t in threads:
        t.join()
    try:
        assert not errors, errors[:10]
        assert sum(counts) > 0
        s.assert_no_crash()
    finally:
        s.stop()


def test_no_request_started_after_a_save_sees_older_code():
    """The guarantee under concurrency: a request that starts after a save
    has returned is served by the saved code (or newer), in every thread of
    every child, while other threads are taking the change notices off the
    queue (the poll skips the lock when nothing is queued)."""
    s = Httpd(STRESS_CONF, files={"htdocs/s/smod.py": handler_src(0)},
              mpm="event", mpm_config=MULTI_EVENT, name="reload-floor")
    s.start()
    stop = threading.Event()
    saved = [0]
    errors, counts = [], []
    path = os.path.join(s.docroot, "s", "smod.py")

    def writer():
        # Saves by rename, so that no reader ever meets a half-written file
        # (in-place saves this frequent would keep the importer waiting for
        # the file to settle, which is not what this test is about).
        v = 0
        while not stop.is_set():
            v += 1
            with open(path + ".new", "w") as f:
                f.write(handler_src(v))
            os.chmod(path + ".new", 0o644)
            os.replace(path + ".new", path)
            saved[0] = v                        # the save is done
            time.sleep(0.02)

    def client():
        conn = _KeepAlive(s.port)
        n = 0
        try:
            while not stop.is_set():
                floor = saved[0]                # read before the request starts
                got = conn.get("/s/x")
                if got is None:
                    continue
                status, body = got
                if status != 200 or not body.isdigit():
                    errors.append((status, body[:300]))
                elif int(body) < floor:
                    errors.append(("older than saved", floor, int(body)))
                n += 1
        finally:
            conn.close()
            counts.append(n)

    threads = [threading.Thread(target=client) for _ in range(16)]
    w = threading.Thread(target=writer)
    for t in threads + [w]:
        t.start()
    time.sleep(8)
    stop.set()
    for t in threads + [w]:
        t.join()
    try:
        assert not errors, errors[:10]
        assert sum(counts) > 100
        s.assert_no_crash()
    finally:
        s.stop()


# ------------------------------------------- Off: no file-system check at all

def _inotify_fds(pid):
    fds = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if "inotify" in os.readlink("/proc/%d/fd/%s" % (pid, fd)):
                fds.append(int(fd))
        except OSError:
            pass
    return fds


def _wait_traced(pid, tracer, timeout=60.0):
    """Wait until every thread of pid has tracer as its TracerPid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
            traced = []
            for tid in tids:
                with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                    traced.append("TracerPid:\t%d\n" % tracer in f.read())
            if traced and all(traced):
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not os.path.exists("/usr/bin/strace"), reason="strace not installed")
def test_off_makes_no_file_system_check():
    import subprocess
    conf = """
<Directory @DOCROOT@/off>
  SetHandler mod_python
  PythonHandler offmod
  PythonAutoReload Off
</Directory>
<Directory @DOCROOT@/on>
  SetHandler mod_python
  PythonHandler onmod
</Directory>
"""
    s = Httpd(conf, files={"htdocs/off/offmod.py": handler_src(1),
                           "htdocs/on/onmod.py": handler_src(1)},
              mpm="event", mpm_config=SINGLE_CHILD["event"], name="reload-strace")
    s.start()
    try:
        assert versions(s, "/off/x", 3) == ["1"] * 3
        assert versions(s, "/on/x", 3) == ["1"] * 3
        child = s._children_of(s.pid())[0]
        ino = _inotify_fds(child)
        assert ino, "the child has no inotify descriptor"

        def trace(path):
            out = os.path.join(s.root, "strace.out")
            p = subprocess.Popen(["strace", "-f", "-qq", "-e",
                                  "trace=read,ioctl,stat,lstat,newfstatat,statx,openat,access",
                                  "-o", out, "-p", str(child)])
            # requests only once strace traces every thread of the child
            assert _wait_traced(child, p.pid), "strace did not attach to %d" % child
            versions(s, path, 5)    # each syscall is written before the reply
            p.terminate()
            p.wait(10)
            with open(out) as f:
                return f.read()

        def polls(out):
            # the poll: ioctl(FIONREAD) while nothing is queued, read() when it is
            return any(("read(%d," % fd) in out or ("ioctl(%d," % fd) in out for fd in ino)

        off = trace("/off/x")
        assert "offmod" not in off
        assert not polls(off), off[-2000:]
        on = trace("/on/x")                      # the check is there when On
        assert polls(on), on[-2000:]
        s.assert_no_crash()
    finally:
        s.stop()
