"""Real redis-server and memcached processes for the session tests, on free
loopback ports, started and stopped by the tests (like harness.Httpd).

    r = RedisServer().start()
    r.kill(); r.start()          # same port: a store that crashed and came back
    r.freeze(); r.thaw()         # SIGSTOP / SIGCONT: a store that hangs
    r.stop()

Debian's redis-server and memcached (scripts/install-deps.sh installs them).
"""
import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import free_port

START_TIMEOUT = 20.0
_live = set()


class _Server:
    name = "store"

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="mp-test-%s-" % self.name)
        _made.append(self.dir)
        self.proc = None
        self.frozen = False

    def argv(self):
        raise NotImplementedError

    def ping(self):
        raise NotImplementedError

    def start(self):
        if self.proc is not None and self.proc.poll() is None:
            return self
        log = open(os.path.join(self.dir, "log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        log.close()
        _live.add(self)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited (%s): %s" % (self.name, self.proc.returncode,
                                                           self.log()))
            try:
                if self.ping():
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("%s on port %d did not answer: %s" % (self.name, self.port,
                                                                 self.log()))

    def _talk(self, data, end):
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            s.sendall(data)
            got = b""
            while end not in got:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            return got

    def log(self):
        try:
            with open(os.path.join(self.dir, "log"), "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def kill(self):
        """SIGKILL (a crash); start() brings it back on the same port, empty."""
        self.thaw()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(20)

    def freeze(self):
        self.proc.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        if self.frozen and self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
        self.frozen = False

    def stop(self):
        self.thaw()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        _live.discard(self)


class RedisServer(_Server):
    name = "redis"

    def argv(self):
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--protected-mode", "no"]

    def ping(self):
        return self._talk(b"PING\r\n", b"\r\n").startswith(b"+PONG")

    def client(self):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port


class MemcachedServer(_Server):
    name = "memcached"

    def argv(self):
        return ["memcached", "-l", "127.0.0.1", "-p", str(self.port), "-U", "0",
                "-m", "32", "-t", "2", "-u", "nobody"]

    def ping(self):
        return self._talk(b"version\r\n", b"\r\n").startswith(b"VERSION")

    def client(self):
        from pymemcache.client.base import Client
        return Client(("127.0.0.1", self.port), timeout=5, connect_timeout=5)

    @property
    def spec(self):
        return "127.0.0.1:%d" % self.port


_made = []


def _stop_all():
    for s in list(_live):
        try:
            s.stop()
        except Exception:
            pass
    for d in _made:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_stop_all)
