"""mod_python.Cookie (mod_python 3.5 manual: "Cookie - HTTP State Management").

The first part runs the module directly (it needs no httpd): output
format, attributes, expires, parsing, signing.  The second part sets
cookies from handlers in a real httpd, lets a client cookie jar
(http.cookiejar) store them and send them back, and reads them with
get_cookies/get_cookie: plain, signed (tampering detected in every
mismatch mode) and marshal cookies.
"""
import base64
import hmac
import http.cookiejar
import json
import marshal
import os
import sys
import time
import urllib.request

import pytest

from harness import REPO

pytestmark = pytest.mark.mpms("event", "prefork")

sys.path.insert(0, str(REPO / "lib" / "python"))
from mod_python import Cookie  # noqa: E402


# ------------------------------------------------------------------ module level

def test_plain_output():
    assert str(Cookie.Cookie("spam", "eggs")) == "spam=eggs"
    c = Cookie.Cookie("a", "b", Path="/x", domain="example.org", secure=True,
                      httponly=True, samesite="Strict", max_age=60, version=1,
                      comment="hi", discard=True, port="80")
    c.commentURL = "http://example.org/c"
    assert str(c) == ("a=b; version=1; path=/x; domain=example.org; secure; comment=hi; "
                      "Max-Age=60; samesite=Strict; commentURL=http://example.org/c; "
                      "discard; port=80; httponly")
    assert repr(Cookie.Cookie("a", "b", path="/")) == "<Cookie: a=b; path=/>"
    # flags set to false are not sent
    assert str(Cookie.Cookie("a", "b", secure=False, httponly=0)) == "a=b"
    # non-str values are formatted
    assert str(Cookie.Cookie("n", 42)) == "n=42"


def test_attribute_names():
    with pytest.raises(AttributeError):
        Cookie.Cookie("a", "b", colour="red")
    with pytest.raises(AttributeError):
        Cookie.Cookie("a", "b", commentURL="x")      # keyword names are lower-cased
    c = Cookie.Cookie("a", "b")
    with pytest.raises(AttributeError):
        c.colour = "red"
    with pytest.raises(AttributeError):
        c.expires
    assert not hasattr(c, "path")


def test_expires():
    c = Cookie.Cookie("a", "b", expires=0)
    assert c.expires == "Thu, 01-Jan-1970 00:00:00 GMT"
    c.expires = 1700000000.7
    assert c.expires == "Tue, 14-Nov-2023 22:13:20 GMT"
    assert str(c) == "a=b; expires=Tue, 14-Nov-2023 22:13:20 GMT"
    c.expires = "Wed, 09-Jun-2021 10:18:14 GMT"
    assert c.expires == "Wed, 09-Jun-2021 10:18:14 GMT"
    c.expires = "Wed, 09 Jun 2021 10:18:14 GMT"       # RFC 1123 form accepted too
    for bad in ("tomorrow", "Wed, 09-Jun-2021 10:18:14", "Thu, 09-Jun-2021 10:18:14 GMT",
                "Wed, 31-Feb-2021 10:18:14 GMT", ""):
        with pytest.raises(ValueError, match="Invalid expires time"):
            c.expires = bad
    with pytest.raises(ValueError):
        c.expires = None
    del c.expires
    assert str(c) == "a=b"


def test_parse():
    d = Cookie.Cookie.parse(' a=1; $Version="1"; b="x;y" ;c=; d = 4;e; , f=5; a=2')
    assert {k: v.value for k, v in d.items()} == {
        "a": "2", "b": '"x;y"', "c": "", "d": "4", "e": "", "f": "5"}
    assert all(type(v) is Cookie.Cookie for v in d.values())
    assert list(Cookie.Cookie.parse("a=1; b=2", names=["b"])) == ["b"]
    assert Cookie.Cookie.parse("") == {}
    assert Cookie.Cookie.parse("x=%E2%82%AC")["x"].value == "%E2%82%AC"


def _sig(secret, name, value):
    return hmac.new(secret.encode(), (name + value).encode(), "md5").hexdigest()


def test_signed():
    c = Cookie.SignedCookie("user", "joe", secret="k3y", path="/")
    assert str(c) == "user=%sjoe; path=/" % _sig("k3y", "user", "joe")
    assert c.hexdigest("joe") == _sig("k3y", "user", "joe")
    header = "user=%sjoe; other=x" % _sig("k3y", "user", "joe")
    d = Cookie.SignedCookie.parse(header, "k3y")
    assert type(d["user"]) is Cookie.SignedCookie and d["user"].value == "joe"
    # an unsigned cookie: downgraded, dropped or an exception
    assert type(d["other"]) is Cookie.Cookie and d["other"].value == "x"
    d = Cookie.SignedCookie.parse(header, "k3y", mismatch=Cookie.Cookie.IGNORE)
    assert list(d) == ["user"]
    with pytest.raises(Cookie.CookieError, match="Incorrectly Signed Cookie"):
        Cookie.SignedCookie.parse(header, "k3y", mismatch=Cookie.Cookie.EXCEPTION)
    assert Cookie.SignedCookie.parse(header, "wrong", mismatch=1) == {}
    # signature over name + value: the same value under another name fails
    moved = "admin=%sjoe" % _sig("k3y", "user", "joe")
    assert Cookie.SignedCookie.parse(moved, "k3y", mismatch=1) == {}
    with pytest.raises(Cookie.CookieError, match="Cannot sign without a secret"):
        str(Cookie.SignedCookie("a", "b"))
    with pytest.raises(Cookie.CookieError, match="Cannot sign without a secret"):
        Cookie.SignedCookie.parse(header, None)
    # bytes secrets and non-ASCII junk in place of a signature
    assert str(Cookie.SignedCookie("u", "v", secret=b"k3y")).startswith(
        "u=" + _sig("k3y", "u", "v"))
    assert Cookie.SignedCookie.parse("u=" + "\u00e9" * 40, "k3y", mismatch=1) == {}


def test_marshal():
    value = {"n": 1, "l": [1, 2.5, "x"], "t": (True, None), "b": b"\x00\xff", "u": "\u20ac"}
    c = Cookie.MarshalCookie("m", value, secret="s")
    text = str(c)
    name, _, rest = text.partition("=")
    data = base64.b64encode(marshal.dumps(value)).decode()
    assert rest == _sig("s", "m", data) + data
    d = Cookie.MarshalCookie.parse(text, "s")
    assert d["m"].value == value
    # a valid signature over data that is not base64 / not marshal data
    for junk, msg in (("!!!", "Cannot base64 Decode"),
                      (base64.b64encode(b"\xff\x00junk").decode(), "Cannot Unmarshal")):
        header = "m=" + _sig("s", "m", junk) + junk
        with pytest.raises(Cookie.CookieError, match=msg):
            Cookie.MarshalCookie.parse(header, "s", mismatch=Cookie.Cookie.EXCEPTION)
        assert Cookie.MarshalCookie.parse(header, "s", mismatch=1) == {}
    tampered = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    d = Cookie.MarshalCookie.parse(tampered, "s")
    assert type(d["m"]) is Cookie.Cookie and d["m"].value == tampered[2:]


class _Table(dict):
    """Just enough of mp_table for the module functions."""
    def add(self, k, v):
        self.setdefault(k, []).append(v)


class _Req:
    def __init__(self, cookie=None):
        self.headers_in = {"cookie": cookie} if cookie is not None else {}
        self.headers_out = _Table()


def test_functions_offline():
    req = _Req()
    Cookie.add_cookie(req, "a", "1", path="/")
    Cookie.add_cookie(req, Cookie.Cookie("b", "2"))
    assert req.headers_out == {"Cache-Control": ['no-cache="set-cookie"'],
                               "Set-Cookie": ["a=1; path=/", "b=2"]}
    assert Cookie.get_cookies(_Req()) == {}
    req = _Req(["a=1", "b=2; c=3"])          # several Cookie headers
    assert sorted(Cookie.get_cookies(req)) == ["a", "b", "c"]
    assert Cookie.get_cookie(req, "c").value == "3"
    assert Cookie.get_cookie(req, "zz") is None


# ------------------------------------------------------------------ in httpd

HANDLER = r'''
import json, time, urllib.parse
from mod_python import apache, Cookie

SECRET = "s3cr3t"


def _args(req):
    return {k: v[-1] for k, v in urllib.parse.parse_qs(req.args or "").items()}


def _reply(req, out):
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK


def handler(req):
    a = _args(req)
    op = a.get("op", "get")
    if op == "set":
        Cookie.add_cookie(req, "plain", "v1")
        Cookie.add_cookie(req, "kw", "v2", path="/c/", httponly=True, samesite="Lax")
        Cookie.add_cookie(req, Cookie.Cookie("sec", "v3", secure=True, path="/"))
        Cookie.add_cookie(req, Cookie.Cookie("sub", "v4", path="/c/sub/"))
        Cookie.add_cookie(req, Cookie.Cookie("future", "v5", path="/",
                                             expires=time.time() + 3600))
        Cookie.add_cookie(req, Cookie.Cookie("maxage", "v6", path="/", max_age=3600))
    elif op == "expire":
        Cookie.add_cookie(req, Cookie.Cookie("future", "", path="/", expires=0))
        Cookie.add_cookie(req, Cookie.Cookie("maxage", "", path="/", max_age=0))
    elif op == "setsigned":
        Cookie.add_cookie(req, Cookie.SignedCookie("sig", a.get("v", "hello"),
                                                   secret=SECRET, path="/"))
        Cookie.add_cookie(req, Cookie.MarshalCookie(
            "mar", {"a": [1, 2, 3], "b": "x\u20ac", "c": 1.5, "d": None},
            secret=SECRET, path="/"))
    elif op == "get":
        return _reply(req, {k: [type(v).__name__, v.value]
                            for k, v in Cookie.get_cookies(req).items()})
    elif op == "getsigned":
        out = {}
        for name, cls in (("sig", Cookie.SignedCookie), ("mar", Cookie.MarshalCookie)):
            try:
                c = Cookie.get_cookie(req, name, Class=cls, secret=a.get("secret", SECRET),
                                      mismatch=int(a.get("mismatch", 0)))
                out[name] = None if c is None else [type(c).__name__, c.value]
            except Cookie.CookieError as e:
                out[name] = ["CookieError", str(e)]
        return _reply(req, out)
    elif op == "joined":
        req.headers_in.add("Cookie", "extra=1")
        return _reply(req, {k: v.value for k, v in Cookie.get_cookies(req).items()})
    return _reply(req, "ok")
'''

CONF = r'''
PythonDebug On
<Directory "@DOCROOT@/c">
    SetHandler mod_python
    PythonHandler ck
</Directory>
'''


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files={"htdocs/c/ck.py": HANDLER, "htdocs/c/sub/ck.py": HANDLER},
                 name="cookie")


class Browser:
    """urllib with a cookie jar: stores Set-Cookie and sends what applies."""

    def __init__(self, srv):
        self.srv = srv
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path):
        url = "http://127.0.0.1:%d%s" % (self.srv.port, path)
        with self.opener.open(url, timeout=60) as r:
            return r, json.loads(r.read())

    def cookie(self, name):
        return [c for c in self.jar if c.name == name]


def test_round_trip_and_attributes(srv):
    b = Browser(srv)
    r, _ = b.get("/c/ck.py?op=set")
    set_cookies = r.headers.get_all("Set-Cookie")
    assert set_cookies[0] == "plain=v1"
    assert set_cookies[1] == "kw=v2; path=/c/; samesite=Lax; httponly"
    assert r.headers.get_all("Cache-Control") == ['no-cache="set-cookie"']
    assert b.cookie("kw")[0].has_nonstandard_attr("httponly")
    assert b.cookie("sec")[0].secure
    assert b.cookie("future")[0].expires > time.time()
    assert b.cookie("maxage")[0].expires > time.time()        # "Max-Age" understood

    _, got = b.get("/c/ck.py?op=get")
    # secure cookies are not sent over plain http; /c/sub/ only below it
    assert got == {"plain": ["Cookie", "v1"], "kw": ["Cookie", "v2"],
                   "future": ["Cookie", "v5"], "maxage": ["Cookie", "v6"]}
    _, got = b.get("/c/sub/ck.py?op=get")
    assert got["sub"] == ["Cookie", "v4"] and "sec" not in got

    # expires in the past and Max-Age=0 remove cookies from the jar
    b.get("/c/ck.py?op=expire")
    _, got = b.get("/c/ck.py?op=get")
    assert "future" not in got and "maxage" not in got and got["plain"] == ["Cookie", "v1"]


def test_signed_and_marshal_round_trip(srv):
    b = Browser(srv)
    r, _ = b.get("/c/ck.py?op=setsigned")
    sig = b.cookie("sig")[0].value
    assert len(sig) == 32 + 5 and sig.endswith("hello")
    _, got = b.get("/c/ck.py?op=getsigned")
    assert got["sig"] == ["SignedCookie", "hello"]
    assert got["mar"] == ["MarshalCookie", {"a": [1, 2, 3], "b": "x\u20ac", "c": 1.5,
                                            "d": None}]
    # read as plain cookies they carry the signature
    _, got = b.get("/c/ck.py?op=get")
    assert got["sig"] == ["Cookie", sig]


def _raw(srv, path, cookie):
    r = srv.get(path, headers={"Cookie": cookie})
    assert r.status == 200, r
    return json.loads(r.body)


def test_tampering_detected(srv):
    r = srv.get("/c/ck.py?op=setsigned")
    values = dict(h.split(";")[0].split("=", 1) for h in r.headers.get_all("Set-Cookie"))
    sig, mar = values["sig"], values["mar"]
    forged_sig = sig[:-5] + "HELLO"                     # value changed, signature kept
    forged_mar = mar[:-6] + ("A" if mar[-6] != "A" else "B") + mar[-5:]
    good = "sig=%s; mar=%s" % (sig, mar)
    bad = "sig=%s; mar=%s" % (forged_sig, forged_mar)

    assert _raw(srv, "/c/ck.py?op=getsigned", good)["sig"] == ["SignedCookie", "hello"]
    # DOWNGRADE: plain Cookie with the raw text
    got = _raw(srv, "/c/ck.py?op=getsigned&mismatch=0", bad)
    assert got == {"sig": ["Cookie", forged_sig], "mar": ["Cookie", forged_mar]}
    # IGNORE: as if absent
    got = _raw(srv, "/c/ck.py?op=getsigned&mismatch=1", bad)
    assert got == {"sig": None, "mar": None}
    # EXCEPTION
    got = _raw(srv, "/c/ck.py?op=getsigned&mismatch=3", bad)
    assert got["sig"][0] == "CookieError" and "Incorrectly Signed" in got["sig"][1]
    assert got["mar"][0] == "CookieError"
    # the wrong secret fails the same way
    got = _raw(srv, "/c/ck.py?op=getsigned&mismatch=1&secret=other", good)
    assert got == {"sig": None, "mar": None}


def test_header_parsing_in_httpd(srv):
    got = _raw(srv, "/c/ck.py?op=get", '$Version="1"; a=1; b="q;r"; a=3; $Path=/')
    assert got == {"a": ["Cookie", "3"], "b": ["Cookie", '"q;r"']}
    # a second Cookie entry in headers_in is joined with "; "
    got = _raw(srv, "/c/ck.py?op=joined", "a=1")
    assert got == {"a": "1", "extra": "1"}
    r = srv.get("/c/ck.py?op=get")
    assert json.loads(r.body) == {}
    assert "Set-Cookie" not in r.headers and "Cache-Control" not in r.headers


def test_no_crash(srv):
    srv.assert_no_crash()
    assert "Traceback" not in srv.error_log()
