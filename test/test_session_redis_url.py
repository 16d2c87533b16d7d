"""RedisSession's redis_url schemes other than redis://, end to end through
httpd: unix:// (a redis-server on a Unix socket) and rediss:// (a
redis-server speaking TLS only, with a certificate of a CA made for the
test by openssl, and a password).

A session saved by one request is read back by the next (same cookie);
a socket that is not there, a certificate that does not verify (CA not
trusted, or not issued to the URL's host) answer 503 with one MP1011 line
saying why, and no traceback; a client certificate (ssl_certfile,
ssl_keyfile) is sent; URL parameters the connection cannot use
answer 500 with MP1015; the password appears in no log line.  The TLS
tests are skipped, saying so, only when redis-server does not accept the
TLS options.
"""
import json
import os
import socket
import time

import pytest

from storeservers import RedisServer, TLSUnsupported

pytestmark = pytest.mark.mpms("event", "prefork")

SECRET = "t3st-store-s3cret"
PASSWORD = "redis-pw-8f2c1e"

HANDLER = r'''
import json
from mod_python import apache, Session


def handler(req):
    s = Session.Session(req)
    s["n"] = s.get("n", 0) + 1
    s.save()
    req.content_type = "application/json"
    req.write(json.dumps({"id": s.id(), "new": s.is_new(), "n": s["n"],
                          "type": type(s).__name__}))
    return apache.OK
'''


@pytest.fixture(scope="module")
def stores():
    unix = RedisServer(unix=True).start()
    tls = RedisServer(tls=True, password=PASSWORD)
    try:
        tls.start()
        no_tls = None
    except TLSUnsupported as e:
        tls, no_tls = None, str(e)
    yield unix, tls, no_tls
    for s in (unix, tls):
        if s is not None:
            s.stop()


def _urls(unix, tls):
    """{directory: redis_url}."""
    urls = {
        "unix": unix.unix_url,
        "unixmissing": "unix://%s?db=0" % os.path.join(unix.dir, "missing.sock"),
        "badquery": "redis://127.0.0.1:%d/0?ssl_ca_certs=/etc/ssl/certs/"
                    "ca-certificates.crt" % unix.port,
    }
    if tls is not None:
        ca = "ssl_ca_certs=" + tls.ca_file
        urls.update({
            "tls": tls.tls_url(query=ca),
            "tlsrequired": tls.tls_url(query=ca + "&ssl_cert_reqs=required"),
            "tlsuntrusted": tls.tls_url(),                  # the system's CAs only
            "tlsname": tls.tls_url(host="localhost", query=ca),
            "tlsnamenocheck": tls.tls_url(host="localhost",
                                          query=ca + "&ssl_check_hostname=false"),
            "tlsnoca": tls.tls_url(query="ssl_ca_certs=" + os.path.join(tls.dir,
                                                                        "missing.pem")),
            "tlsclient": tls.tls_url(query=ca + "&ssl_certfile=%s&ssl_keyfile=%s" % (
                tls.certs["client.pem"], tls.certs["client.key"])),
            "tlsforeign": tls.tls_url(query=ca + "&ssl_certfile=%s&ssl_keyfile=%s" % (
                tls.certs["foreign.pem"], tls.certs["foreign.key"])),
        })
    return urls


@pytest.fixture(scope="module")
def srv(httpd, stores):
    unix, tls, _ = stores
    conf = "PythonDebug Off\n"
    files = {}
    for d, url in _urls(unix, tls).items():
        conf += '''<Directory "@DOCROOT@/%s">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type RedisSession
    PythonOption mod_python.session.store_secret %s
    PythonOption mod_python.session.store_timeout 10
    PythonOption mod_python.session.redis_url %s
</Directory>
''' % (d, SECRET, url)
        files["htdocs/%s/sess.py" % d] = HANDLER
    s = httpd(conf, files=files, name="redisurl")
    yield s
    log = s.error_log()
    assert PASSWORD not in log


def _tls(stores):
    if stores[1] is None:
        pytest.skip(stores[2])
    return stores[1]


def _get(srv, d, sid=None):
    headers = {"Cookie": "pysid=" + sid} if sid else None
    return srv.get("/%s/sess.py" % d, headers=headers, timeout=60)


def _round_trip(srv, d):
    """Two requests, the second with the first's cookie: the session id."""
    r = _get(srv, d)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    first = json.loads(r.body)
    assert first["new"] is True and first["n"] == 1 and first["type"] == "RedisSession"
    r = _get(srv, d, first["id"])
    assert r.status == 200, (r, srv.error_log()[-3000:])
    second = json.loads(r.body)
    assert second == dict(first, new=False, n=2)
    return first["id"]


def _fails(srv, d, status, tag):
    """A request answered `status` without a traceback: the log lines since."""
    mark = srv.log_mark()
    r = _get(srv, d)
    assert r.status == status, (r, srv.error_log()[-3000:])
    assert b"Traceback" not in r.body
    log = srv.log_since(mark)
    assert tag in log and "Traceback" not in log, log
    return log


# ------------------------------------------------------------------ unix://

def test_unix_socket_round_trip(srv, stores):
    unix = stores[0]
    sid = _round_trip(srv, "unix")
    assert unix.client().exists("mp_sess:" + sid) == 1


def test_unix_socket_missing_answers_503(srv, stores):
    log = _fails(srv, "unixmissing", 503, "MP1011")
    path = os.path.join(stores[0].dir, "missing.sock")
    line = next(l for l in log.splitlines() if "MP1011" in l)
    assert "unix://%s?db=0" % path in line and "No such file or directory" in line
    assert "answering 503" in line


def test_query_parameter_the_scheme_does_not_take_answers_500(srv):
    log = _fails(srv, "badquery", 500, "MP1015")
    assert "mod_python.session.redis_url" in log and "ssl_ca_certs" in log


# ------------------------------------------------------------------ rediss://

@pytest.mark.parametrize("d", ["tls", "tlsrequired"])
def test_tls_verified_round_trip(srv, stores, d):
    tls = _tls(stores)
    sid = _round_trip(srv, d)
    assert tls.client().exists("mp_sess:" + sid) == 1


def test_tls_untrusted_certificate_answers_503(srv, stores):
    _tls(stores)
    log = _fails(srv, "tlsuntrusted", 503, "MP1011")
    line = next(l for l in log.splitlines() if "MP1011" in l)
    assert "CERTIFICATE_VERIFY_FAILED" in line and "answering 503" in line
    assert "rediss://:***@127.0.0.1" in line
    assert PASSWORD not in log


def test_tls_host_name_is_checked(srv, stores):
    _tls(stores)
    if "127.0.0.1" not in {a[4][0] for a in socket.getaddrinfo("localhost", None)}:
        pytest.skip("localhost does not resolve to 127.0.0.1 here")
    # the certificate is for 127.0.0.1 (an IP address SAN), not for "localhost"
    log = _fails(srv, "tlsname", 503, "MP1011")
    line = next(l for l in log.splitlines() if "MP1011" in l)
    assert "CERTIFICATE_VERIFY_FAILED" in line and "localhost" in line
    assert PASSWORD not in log
    # ?ssl_check_hostname=false: the CA still verifies, the name is not checked
    _round_trip(srv, "tlsnamenocheck")


def test_tls_unreadable_ca_file_answers_500(srv, stores):
    tls = _tls(stores)
    log = _fails(srv, "tlsnoca", 500, "MP1015")
    line = next(l for l in log.splitlines() if "MP1015" in l)
    assert "ssl_ca_certs %s cannot be read" % os.path.join(tls.dir, "missing.pem") in line
    assert "rediss://:***@127.0.0.1" in line and PASSWORD not in log


def test_tls_client_certificate(srv, stores):
    """The server takes a client certificate of its CA and refuses one it
    did not issue (its own log says so; httpd's, MP1011, says only that
    the connection was closed: TLS 1.3 reports it after the handshake)."""
    tls = _tls(stores)
    _round_trip(srv, "tlsclient")
    redis_log = os.path.join(tls.dir, "log")
    start = os.path.getsize(redis_log)
    _fails(srv, "tlsforeign", 503, "MP1011")

    def refused():
        with open(redis_log, "rb") as f:
            f.seek(start)
            return b"certificate verify failed" in f.read()
    deadline = time.monotonic() + 30
    while not refused() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert refused(), tls.log()
