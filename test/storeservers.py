"""Real redis-server and memcached processes for the session tests, on free
loopback ports, started and stopped by the tests (like harness.Httpd).

    r = RedisServer().start()
    r.kill(); r.start()          # same port: a store that crashed and came back
    r.freeze(); r.thaw()         # SIGSTOP / SIGCONT: a store that hangs
    r.stop()
    RedisServer(unix=True)       # also on a Unix socket (r.socket, r.unix_url)
    RedisServer(tls=True, password="pw")   # TLS only (r.ca_file, r.tls_url())

Debian's redis-server and memcached (scripts/install-deps.sh installs them);
the TLS server's throwaway CA and certificate are made with openssl.  The
server's directory is world-traversable and the socket and CA world-readable:
httpd's children (www-data) use them.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import ssl
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
        self.dir = tempfile.mkdtemp(prefix="mp-test-%s-" % self.name, dir="/tmp")
        os.chmod(self.dir, 0o755)
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

    def _connect(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=2)

    def _talk(self, data, end):
        with self._connect() as s:
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


# what a redis-server built without TLS says about --tls-port (its log)
_NO_TLS = re.compile(r"(bad directive|unknown|not supported|unsupported)[^\n]*tls"
                     r"|tls[^\n]*(not supported|unsupported|not compiled|not built)", re.I)


class TLSUnsupported(RuntimeError):
    """This redis-server does not take the TLS options (built without TLS)."""


def make_test_ca(directory):
    """A throwaway CA, in directory, made with openssl: ca.pem; server.pem
    (+ .key), issued by it for 127.0.0.1 (an IP address SAN, no DNS name);
    client.pem (+ .key), a client certificate issued by it; foreign.pem (+
    .key), a self-signed client certificate it did not issue.  Returns
    {name: path}; all but ca.key and server.key world-readable (httpd's
    children read the client keys)."""
    def run(*args):
        subprocess.run(["/usr/bin/openssl", *args], cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def issue(name, cn, ext):
        run("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
        with open(os.path.join(directory, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=mod_python test CA")
    issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1")
    issue("client", "mod_python test client", "extendedKeyUsage=clientAuth")
    run("req", "-x509", *ec, "-keyout", "foreign.key", "-out", "foreign.pem", "-days", "2",
        "-subj", "/CN=not issued by the test CA")
    paths = {}
    for name in ("ca", "server", "client", "foreign"):
        for ext in ("pem", "key"):
            path = paths[name + "." + ext] = os.path.join(directory, name + "." + ext)
            if name + "." + ext not in ("ca.key", "server.key"):
                os.chmod(path, 0o644)
    return paths


class RedisServer(_Server):
    """unix: also listen on the Unix socket self.socket (mode 777); tls:
    listen with TLS only, on self.port, with a certificate of a CA made for
    it (self.ca_file; self.certs: make_test_ca's files), client certificates
    optional; password: requirepass."""

    name = "redis"

    def __init__(self, port=None, unix=False, tls=False, password=None):
        super().__init__(port)
        self.socket = os.path.join(self.dir, "redis.sock") if unix else None
        self.password = password
        self.tls = tls
        if tls:
            self.certs = make_test_ca(self.dir)
            self.ca_file = self.certs["ca.pem"]

    def argv(self):
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--protected-mode", "no"]
        if self.socket:
            argv += ["--unixsocket", self.socket, "--unixsocketperm", "777"]
        if self.tls:
            argv[1:3] = ["--port", "0", "--tls-port", str(self.port),
                         "--tls-cert-file", self.certs["server.pem"],
                         "--tls-key-file", self.certs["server.key"],
                         "--tls-ca-cert-file", self.ca_file,
                         # a client certificate is not required; one that is
                         # sent must be the CA's
                         "--tls-auth-clients", "optional"]
        if self.password:
            argv += ["--requirepass", self.password]
        return argv

    def start(self):
        try:
            return super().start()
        except RuntimeError as e:
            if self.tls and _NO_TLS.search(str(e)):
                raise TLSUnsupported("redis-server does not accept the TLS options: %s"
                                     % e) from None
            raise

    def _connect(self):
        if self.socket:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect(self.socket)
            except OSError:
                s.close()
                raise
            return s
        s = super()._connect()
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            return ctx.wrap_socket(s, server_hostname="127.0.0.1")
        return s

    def ping(self):
        auth = b"AUTH %s\r\n" % self.password.encode() if self.password else b""
        return b"+PONG" in self._talk(auth + b"PING\r\n", b"PONG\r\n")

    def client(self):
        import redis
        if self.socket:
            return redis.Redis(unix_socket_path=self.socket, socket_timeout=5,
                               password=self.password)
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5,
                           password=self.password, ssl=self.tls,
                           ssl_ca_certs=self.ca_file if self.tls else None)

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    @property
    def unix_url(self):
        return "unix://%s?db=0" % self.socket

    def tls_url(self, host="127.0.0.1", query="", password=None):
        """rediss://[:password@]host:port/0[?query] (password: the server's
        by default)."""
        password = self.password if password is None else password
        auth = ":%s@" % password if password else ""
        return "rediss://%s%s:%d/0%s" % (auth, host, self.port, "?" + query if query else "")


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
