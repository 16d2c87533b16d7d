"""PythonConnectionHandler (mod_python 3.5 manual: "Overview of a Connection Handler"):
a line echo server on a second Listen port, written with
conn.readline()/conn.write(), next to the normal HTTP port; a handler that returns
DECLINED lets httpd speak HTTP on its port; a raising handler is logged and the
server keeps serving.
"""
import socket

import pytest

from harness import Httpd

ECHO_PY = r'''
from mod_python import apache

def connectionhandler(conn):
    conn.write(b"hello " + conn.client_ip.encode() + b"\n")
    while True:
        line = conn.readline()
        if not line:
            break
        cmd = line.strip()
        if cmd == b"quit":
            conn.write("bye\n")
            break
        if cmd == b"info":
            conn.write("port=%d server=%s hlist=%s\n" % (
                conn.local_addr[1], conn.base_server.server_hostname,
                conn.hlist.handler))
            continue
        if cmd == b"boom":
            raise RuntimeError("connection handler boom")
        if cmd == b"huge":
            return 2 ** 70
        conn.write(b"echo:" + line)
    return apache.OK

def declining(conn):
    conn.log_error("declining connection", apache.APLOG_NOTICE)
    return apache.DECLINED
'''

# The echo protocol speaks first: a non-"http" protocol on the Listen line
# keeps httpd from deferring accept() until the client sends data.
CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
Listen 127.0.0.1:@PORT2@ echo
AcceptFilter echo none
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName echo.test
    PythonConnectionHandler echo
</VirtualHost>
'''

DECLINE_CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName decline.test
    DocumentRoot "@DOCROOT@"
    PythonConnectionHandler echo::declining
</VirtualHost>
'''

FILES = {
    "lib/echo.py": ECHO_PY,
    "htdocs/plain.txt": "plain http\n",
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="conn")


class LineClient:
    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                line, self.buf = self.buf, b""
                return line
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def send(self, data):
        self.sock.sendall(data)

    def read_to_eof(self):
        out = self.buf
        self.buf = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                return out
            out += data

    def close(self):
        self.sock.close()


def test_echo_lines(srv):
    c = LineClient(srv.port2)
    try:
        assert c.readline() == b"hello 127.0.0.1\n"
        c.send(b"first line\n")
        assert c.readline() == b"echo:first line\n"
        c.send(b"second\nthird\n")
        assert c.readline() == b"echo:second\n"
        assert c.readline() == b"echo:third\n"
        c.send(b"quit\n")
        assert c.readline() == b"bye\n"
        assert c.read_to_eof() == b""
    finally:
        c.close()


def test_long_line_and_binary(srv):
    c = LineClient(srv.port2)
    try:
        c.readline()
        payload = bytes(b for b in range(256) if b != 10) * 200 + b"\n"
        c.send(payload)
        got = c.readline()
        assert got == b"echo:" + payload
        c.send(b"quit\n")
        assert c.readline() == b"bye\n"
    finally:
        c.close()


def test_connection_attributes(srv):
    c = LineClient(srv.port2)
    try:
        c.readline()
        c.send(b"info\n")
        assert c.readline() == b"port=%d server=echo.test hlist=echo\n" % srv.port2
    finally:
        c.close()


def test_client_closing_ends_handler(srv):
    c = LineClient(srv.port2)
    c.readline()
    c.send(b"no newline at the end")
    c.sock.shutdown(socket.SHUT_WR)
    rest = c.read_to_eof()
    c.close()
    assert rest in (b"", b"echo:no newline at the end")
    srv.assert_no_crash()


def test_concurrent_connections(srv):
    clients = [LineClient(srv.port2) for _ in range(8)]
    try:
        for c in clients:
            assert c.readline().startswith(b"hello ")
        for i, c in enumerate(clients):
            c.send(b"client %d\n" % i)
        for i, c in enumerate(clients):
            assert c.readline() == b"echo:client %d\n" % i
    finally:
        for c in clients:
            c.close()


def test_http_port_unaffected(srv):
    r = srv.get("/plain.txt")
    assert r.status == 200
    assert r.body == b"plain http\n"


def _send_then_closed(srv, line):
    """Send line to the echo port; the handler closes without an answer."""
    c = LineClient(srv.port2)
    try:
        c.readline()
        c.send(line)
        assert c.read_to_eof() == b""          # connection closed, no traceback sent
    finally:
        c.close()


def _still_echoes(srv):
    c = LineClient(srv.port2)
    try:
        c.readline()
        c.send(b"again\n")
        assert c.readline() == b"echo:again\n"
    finally:
        c.close()


def test_raising_handler_is_logged(srv):
    mark = srv.log_mark()
    _send_then_closed(srv, b"boom\n")
    assert srv.wait_log("connection handler boom", mark=mark)
    assert "ConnectionHandler" in srv.log_since(mark)
    # still serving on both ports
    _still_echoes(srv)
    assert srv.get("/plain.txt").status == 200
    srv.assert_no_crash()


def test_out_of_range_result_is_logged(srv):
    mark = srv.log_mark()
    _send_then_closed(srv, b"huge\n")
    assert srv.wait_log("returned an int out of range", mark=mark)
    assert "PythonConnectionHandler echo" in srv.log_since(mark)
    _still_echoes(srv)
    srv.assert_no_crash()


def test_declined_lets_httpd_speak_http(mp_module):
    s = Httpd(DECLINE_CONFIG, files=FILES, name="conn-decline")
    s.start()
    try:
        mark = s.log_mark()
        r = s.get("/plain.txt", port=s.port2)
        assert r.status == 200
        assert r.body == b"plain http\n"
        assert s.wait_log("declining connection", mark=mark)
        s.assert_no_crash()
    finally:
        s.stop()
