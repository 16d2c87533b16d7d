"""The tutorial's examples (examples/tutorial/, shown in docs/tutorial.rst)
run as shipped: their configuration is examples/tutorial/tutorial.conf.in
with only @TUTORIAL@ replaced."""
import json
import re
import urllib.parse

import pytest

from harness import MPMS, REPO

pytestmark = pytest.mark.mpms(*MPMS)

TUTORIAL = REPO / "examples" / "tutorial"

try:
    import flask  # noqa: F401  (the Flask example needs python3-flask)
    HAVE_FLASK = True
except ImportError:
    HAVE_FLASK = False


@pytest.fixture(scope="module")
def srv(httpd):
    files = {"tutorial/" + p.name: p.read_text() for p in TUTORIAL.iterdir()
             if p.is_file() and p.suffix in (".py", ".psp")}
    conf = (TUTORIAL / "tutorial.conf.in").read_text().replace("@TUTORIAL@", "@ROOT@/tutorial")
    return httpd(conf, files=files, name="tutorial")


def form_post(srv, path, fields, headers=None):
    hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
    hdrs.update(headers or {})
    return srv.post(path, urllib.parse.urlencode(fields).encode(), headers=hdrs)


def test_hello(srv):
    r = srv.get("/tutorial/hello.py")
    assert r.status == 200
    assert r.text == "Hello from mod_python, you asked for /tutorial/hello.py\n"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_form(srv):
    r = srv.get("/tutorial/form.py")
    assert r.status == 200 and "<form" in r.text
    r = form_post(srv, "/tutorial/form.py", [("name", "Zoë <b>"), ("colour", "red"),
                                              ("colour", "blue")])
    assert r.status == 200
    assert "Hello, Zoë &lt;b&gt;. Colours: red, blue." in r.text
    r = form_post(srv, "/tutorial/form.py", [])
    assert "Hello, stranger. Colours: none." in r.text
    assert srv.request("DELETE", "/tutorial/form.py").status == 405


def test_login_session(srv):
    r = srv.get("/tutorial/login.py")
    assert "Please log in." in r.text
    r = form_post(srv, "/tutorial/login.py", {"action": "login", "name": "alice",
                                               "password": "nope"})
    assert "Wrong name or password." in r.text
    r = form_post(srv, "/tutorial/login.py", {"action": "login", "name": "alice",
                                               "password": "wonderland"})
    assert "Logged in as alice (visit 1)." in r.text
    cookie = re.match(r"(pysid=[0-9a-f]+)", r.headers["set-cookie"]).group(1)
    r = srv.get("/tutorial/login.py", headers={"Cookie": cookie})
    assert "Logged in as alice (visit 2)." in r.text
    r = form_post(srv, "/tutorial/login.py", {"action": "logout"}, {"Cookie": cookie})
    assert "Logged out." in r.text
    r = srv.get("/tutorial/login.py", headers={"Cookie": cookie})
    assert "Please log in." in r.text


def test_publisher(srv):
    assert srv.get("/tutorial/pages.py").text.startswith("Pages of this module")
    r = srv.get("/tutorial/pages.py/greet?name=Bob")
    assert r.status == 200 and r.text == "<p>Hello, Bob!</p>"
    assert r.headers["content-type"].startswith("text/html")
    assert srv.get("/tutorial/pages.py/add?a=2&b=40").text == "42"
    assert srv.get("/tutorial/pages.py/_helper").status == 403


def test_psp(srv):
    r = srv.get("/tutorial/hello.psp?name=%3Cyou%3E")
    assert r.status == 200, r.text
    assert "<p>Hello, &lt;you&gt;!</p>" in r.text
    assert [int(n) for n in re.findall(r"<li>line (\d)</li>", r.text)] == [1, 2, 3]
    assert "</ul>" in r.text and r.text.count("<li>") == 3


@pytest.mark.skipif(not HAVE_FLASK, reason="python3-flask is not installed")
def test_flask(srv):
    r = srv.get("/tutorial/flask/")
    assert r.status == 200 and r.text == "Flask under mod_python\n"
    r = srv.get("/tutorial/flask/hello/world")
    assert r.status == 200
    assert json.loads(r.text) == {"hello": "world", "script_name": "/tutorial/flask"}
    assert srv.get("/tutorial/flask/nowhere").status == 404
