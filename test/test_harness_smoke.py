"""Smoke test of the harness itself (no mod_python loaded)."""
import pytest

from harness import Httpd


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd("", files={"htdocs/index.html": "hello @PORT@\n"},
                 load_python=False, name="smoke")


def test_static_file(srv):
    r = srv.get("/index.html")
    assert r.status == 200
    assert r.text == "hello %d\n" % srv.port
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers.get("CONTENT-LENGTH") == str(len(r.body))


def test_404_and_graceful(srv):
    assert srv.get("/nope").status == 404
    srv.graceful()
    assert srv.get("/index.html").status == 200
    srv.assert_no_crash()


def test_configtest_reports_bad_directive():
    s = Httpd("NoSuchDirective on\n", load_python=False, name="smoke-bad")
    rc, out = s.configtest()
    assert rc != 0
    assert "NoSuchDirective" in out
