"""mod_python.wsgi and the request's WSGI support (PEP 3333; 3.5's bugs in
both fixed): req.build_wsgi_env() (base URI rules, PEP 3333 native
strings, wsgi.* keys, wsgi.input, wsgi.errors), req.wsgi_start_response()
(status and headers, Content-Type, exc_info) and the handler (application
option, declining, generator responses with close(), autoreload)."""
import json

import pytest

from harness import Httpd

WSGIAPP = r'''
import json
import sys
import wsgiref.validate


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello WSGI"]


def _describe(environ):
    out = {"_types": {}}
    for k, v in environ.items():
        if isinstance(v, str):
            out[k] = v
        out["_types"][k] = type(v).__name__
    for k in ("wsgi.version", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"):
        v = environ.get(k)
        out[k] = list(v) if isinstance(v, tuple) else v
    inp = environ["wsgi.input"]
    out["_input_api"] = [m for m in ("read", "readline", "readlines", "__iter__")
                         if hasattr(inp, m)]
    err = environ["wsgi.errors"]
    out["_errors_api"] = [m for m in ("write", "writelines", "flush") if hasattr(err, m)]
    return out


def envdump(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(_describe(environ)).encode()]


# ------------------------------------------------------------ /w router
def r_status404(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("X-App", "404")])
    return [b"no such thing"]


def r_status_bare(environ, start_response):
    start_response("403 Forbidden", [])
    return []


def r_ctype(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/x-wsgi-test; charset=utf-8")])
    return [b"typed"]


def r_multi(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Multi", "a"), ("X-Multi", "b"),
                              ("Set-Cookie", "c1=1"), ("Set-Cookie", "c2=2")])
    return [b"one ", "two ", b"", bytearray(b"three")]


class Closing:
    def __init__(self, environ, fail):
        self.errors = environ["wsgi.errors"]
        self.fail = fail
        self.tag = environ.get("QUERY_STRING", "")

    def __iter__(self):
        yield b"chunk1;"
        yield b"chunk2;"
        if self.fail:
            raise RuntimeError("generator failed " + self.tag)
        yield b"chunk3"

    def close(self):
        self.errors.write("CLOSE CALLED %s\n" % self.tag)


def r_gen(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing(environ, fail=False)


def r_genfail(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Closing(environ, fail=True)


def r_excinfo(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-First", "1")])
    try:
        raise ValueError("app failed")
    except ValueError:
        start_response("500 Internal Server Error",
                       [("Content-Type", "text/plain"), ("X-Second", "2")],
                       sys.exc_info())
    return [b"error page from app"]


def r_excinfo_none(environ, start_response):
    write = start_response("202 Accepted", [("Content-Type", "text/plain")], None)
    write(b"written;")
    return [b"returned"]


def r_excinfo_late(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"already sent;")
    try:
        raise KeyError("late failure marker")
    except KeyError:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                       sys.exc_info())
    return [b"not reached"]


def r_second_call(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"not reached"]


def _try(fn):
    try:
        fn()
    except Exception as e:
        return [type(e).__name__, str(e)]
    return None


def r_validate(environ, start_response):
    sr = start_response
    out = {
        "not_list": _try(lambda: sr("200 OK", (("A", "b"),))),
        "not_tuple": _try(lambda: sr("200 OK", [["A", "b"]])),
        "tuple3": _try(lambda: sr("200 OK", [("A", "b", "c")])),
        "name_int": _try(lambda: sr("200 OK", [(1, "b")])),
        "value_int": _try(lambda: sr("200 OK", [("A", 2)])),
        "value_none": _try(lambda: sr("200 OK", [("A", None)])),
        "name_colon": _try(lambda: sr("200 OK", [("A:B", "c")])),
        "name_space": _try(lambda: sr("200 OK", [("A B", "c")])),
        "value_newline": _try(lambda: sr("200 OK", [("A", "b\r\nX-Injected: 1")])),
        "value_nonlatin1": _try(lambda: sr("200 OK", [("A", "\u20ac")])),
        "status_abc": _try(lambda: sr("abc", [])),
        "status_99": _try(lambda: sr("099 Low", [])),
        "status_600": _try(lambda: sr("600 High", [])),
        "status_nospace": _try(lambda: sr("200OK", [])),
        "status_int": _try(lambda: sr(200, [])),
        "status_newline": _try(lambda: sr("200 OK\r\nX: y", [])),
        "exc_info_bad": _try(lambda: sr("200 OK", [], "junk")),
        "exc_info_empty": _try(lambda: sr("200 OK", [], (None, None, None))),
    }
    # the (None, None, None) call above counted as the first call: replace it
    try:
        raise ValueError("x")
    except ValueError:
        write = sr("200 OK", [("Content-Type", "application/json"), ("X-Latin", "caf\xe9"),
                              (b"X-Bytes", b"raw")], sys.exc_info())
    out["write_is_callable"] = callable(write)
    out["second"] = _try(lambda: sr("200 OK", []))
    return [json.dumps(out).encode()]


def r_badheader(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Count", 42)])
    return [b"not reached"]


def r_post(environ, start_response):
    inp = environ["wsgi.input"]
    mode = environ.get("QUERY_STRING", "")
    n = int(environ.get("CONTENT_LENGTH") or 0)
    if mode == "read":
        res = [inp.read(n).decode("latin-1")]
    elif mode == "readsmall":
        res = [inp.read(3).decode(), inp.read(4).decode(), inp.read().decode(),
               inp.read(10).decode()]
    elif mode == "readline":
        res = [inp.readline().decode(), inp.readline(4).decode(), inp.readline().decode(),
               inp.readline(None).decode(), inp.readline().decode()]
    elif mode == "readlines":
        res = [l.decode() for l in inp.readlines()]
    elif mode == "iter":
        res = [l.decode() for l in inp]
    elif mode == "mixed":
        first = inp.readline()
        rest = inp.read()
        res = [first.decode(), rest.decode()]
    else:
        res = ["unknown mode " + mode]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(res).encode()]


def r_errors(environ, start_response):
    err = environ["wsgi.errors"]
    err.write("wsgi.errors first line\nwsgi.errors second ")
    err.write("line\n")
    err.writelines(["wsgi.errors third\n", "wsgi.errors unterminated"])
    err.flush()
    print("wsgi.errors via print", file=err)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged"]


def _simple(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.errors"].write("validated app ran\n")
    environ["wsgi.errors"].flush()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body) + 3))])
    return iter([b"ok:", body])


r_pep3333 = wsgiref.validate.validator(_simple)


_kept = []


def r_keep(environ, start_response):
    out = {"had_old": bool(_kept)}
    if _kept:
        old = _kept.pop()
        old["wsgi.errors"].write("stale wsgi.errors line\n")
        try:
            old["wsgi.input"].read(1)
        except Exception as e:
            out["read"] = [type(e).__name__, str(e)]
    _kept.append(environ)
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(out).encode()]


def r_file(environ, start_response):
    import io
    f = io.BytesIO(b"x" * 100000 + b"end")
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return environ["wsgi.file_wrapper"](f, 8192)


def router(environ, start_response):
    name = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
    app = globals().get("r_" + name)
    if app is None:
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [("no route " + name).encode()]
    return app(environ, start_response)
'''

RELOADAPP = '''
VERSION = %d

def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"version %%d" %% VERSION]
'''


def wsgi_section(tag, path, app, extra=""):
    return """
<%s %s>
  SetHandler mod_python
  PythonHandler mod_python.wsgi
  PythonOption mod_python.wsgi.application %s
  PythonDebug On
%s</%s>
""" % (tag, path, app, extra, tag.split()[0])


CONF = ('PythonPath "sys.path + [\'@ROOT@/pyapps\']"\n'
        + wsgi_section("Location", "/hello", "wsgiapp")
        + wsgi_section("Directory", "@DOCROOT@/app", "wsgiapp::envdump")
        + wsgi_section("Location", "/foo", "wsgiapp::envdump")
        + wsgi_section("Location", "/based", "wsgiapp::envdump",
                       "  PythonOption mod_python.wsgi.base_uri /based/sub\n")
        + wsgi_section("Location", "/emptybase", "wsgiapp::envdump",
                       '  PythonOption mod_python.wsgi.base_uri ""\n')
        + wsgi_section("Location", "/slash", "wsgiapp::envdump",
                       "  PythonOption mod_python.wsgi.base_uri /slash/\n")
        + wsgi_section("Location", "/w", "wsgiapp::router")
        + wsgi_section("Location", "/ct", "wsgiapp::r_ctype")
        + wsgi_section("Directory", "@DOCROOT@/ctdir", "wsgiapp::r_ctype")
        + wsgi_section("Location", "/nocallable", "wsgiapp::no_such_app")
        + wsgi_section("Location", "/reload", "reloadapp")
        + wsgi_section("LocationMatch", "^/rx/", "wsgiapp::envdump")
        + """
<Location /noapp>
  SetHandler mod_python
  PythonHandler mod_python.wsgi
</Location>
""")

FILES = {
    "pyapps/wsgiapp.py": WSGIAPP,
    "pyapps/reloadapp.py": RELOADAPP % 1,
    "htdocs/app/index.txt": "static\n",
    "htdocs/ctdir/index.txt": "static\n",
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files=FILES, name="wsgi")


def env_of(srv, path, **kw):
    r = srv.request(kw.pop("method", "GET"), path, **kw)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.body)


# ---------------------------------------------------------------- basics

def test_hello(srv):
    r = srv.get("/hello")
    assert r.status == 200
    assert r.body == b"Hello WSGI"
    assert r.headers["Content-Type"] == "text/plain"


def test_environ_keys_and_types(srv):
    env = env_of(srv, "/foo/some/path?a=1&b=%20x",
                 headers={"Authorization": "Basic dXNlcjpwdw==", "X-Custom": "yes"})
    assert env["REQUEST_METHOD"] == "GET"
    assert env["QUERY_STRING"] == "a=1&b=%20x"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(srv.port)
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["REQUEST_URI"] == "/foo/some/path?a=1&b=%20x" or \
        env["REQUEST_URI"] == "/foo/some/path"
    assert env["HTTP_X_CUSTOM"] == "yes"
    assert env["HTTP_AUTHORIZATION"] == "Basic dXNlcjpwdw=="
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.run_once"] is False
    assert env["wsgi.multithread"] is True          # event MPM
    assert env["wsgi.multiprocess"] is True
    assert env["_input_api"] == ["read", "readline", "readlines", "__iter__"]
    assert env["_errors_api"] == ["write", "writelines", "flush"]
    types = env["_types"]
    # PEP 3333: every CGI key holds a native str; no None anywhere.
    for k, t in types.items():
        if "." not in k:
            assert t == "str", (k, t)
    assert types["wsgi.version"] == "tuple"
    assert types["wsgi.multithread"] == "bool"
    assert types["wsgi.run_once"] == "bool"
    # what a 3.5 application found in wsgi.input (migration note in README)
    assert types["mod_python.request"] == "mp_request"
    assert types["wsgi.input"] == "wsgi_input"


def test_location_base(srv):
    env = env_of(srv, "/foo/bar")
    assert env["SCRIPT_NAME"] == "/foo"
    assert env["PATH_INFO"] == "/bar"
    # a handler in <Location> maps to no file: SCRIPT_FILENAME is left out
    assert "SCRIPT_FILENAME" not in env["_types"]


def test_location_base_mount_root(srv):
    env = env_of(srv, "/foo")
    assert env["SCRIPT_NAME"] == "/foo"
    assert "PATH_INFO" not in env


def test_base_prefix_is_plain(srv):
    # the base is a plain character prefix (httpd 2.4's <Location> itself
    # matches whole segments only, so use the option)
    env = env_of(srv, "/based/subway")
    assert env["SCRIPT_NAME"] == "/based/sub"
    assert env["PATH_INFO"] == "way"


def test_no_base_in_directory(srv):
    env = env_of(srv, "/app/index.txt")
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/app/index.txt"
    assert env["SCRIPT_FILENAME"].endswith("/htdocs/app/index.txt")


def test_explicit_base_uri(srv):
    env = env_of(srv, "/based/sub/x/y")
    assert env["SCRIPT_NAME"] == "/based/sub"
    assert env["PATH_INFO"] == "/x/y"


def test_base_uri_mismatch_declines(srv):
    mark = srv.log_mark()
    r = srv.get("/based/other")
    assert r.status != 200
    log = srv.log_since(mark)
    assert "MP0362" in log
    assert "does not start with mod_python.wsgi.base_uri (/based/sub), declining" in log


def test_empty_base_uri_is_absent(srv):
    env = env_of(srv, "/emptybase/z")
    assert env["SCRIPT_NAME"] == "/emptybase"
    assert env["PATH_INFO"] == "/z"


def test_base_uri_trailing_slash_is_error(srv):
    mark = srv.log_mark()
    r = srv.get("/slash/x")
    assert r.status == 500
    assert ("ValueError: PythonOption 'mod_python.wsgi.base_uri' ('/slash/') "
            "must not end with '/'") in srv.log_since(mark)


def test_non_ascii_latin1(srv):
    env = env_of(srv, "/foo/caf%C3%A9", headers={"X-Name": b"caf\xc3\xa9 \xff"})
    # PEP 3333: the bytes, one code point each (frameworks re-decode them)
    assert env["PATH_INFO"] == "/caf\u00c3\u00a9"
    assert env["PATH_INFO"].encode("latin-1").decode("utf-8") == "/caf\u00e9"
    assert env["HTTP_X_NAME"] == "caf\u00c3\u00a9 \u00ff"


# ------------------------------------------------------------ responses

def test_error_status_reaches_client(srv):
    r = srv.get("/w/status404")
    assert r.status == 404
    assert r.reason == "Not Found"
    assert r.body == b"no such thing"
    assert r.headers["X-App"] == "404"


def test_status_without_body(srv):
    r = srv.get("/w/status_bare")
    assert r.status == 403
    assert r.body == b""


def test_content_type_at_location_root(srv):
    for path in ("/ct", "/ct/", "/ct/deeper"):
        r = srv.get(path)
        assert r.status == 200, path
        assert r.headers["Content-Type"] == "application/x-wsgi-test; charset=utf-8", path
        assert r.body == b"typed"


def test_content_type_at_directory_root(srv):
    # httpd types the directory as httpd/unix-directory; the app's type wins
    r = srv.get("/ctdir/")
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/x-wsgi-test; charset=utf-8"


def test_headers_added_and_str_chunks(srv):
    r = srv.get("/w/multi")
    assert r.status == 200
    assert r.body == b"one two three"
    assert r.headers.get_all("X-Multi") == ["a", "b"]
    assert r.headers.get_all("Set-Cookie") == ["c1=1", "c2=2"]


def test_generator_close_called(srv):
    mark = srv.log_mark()
    r = srv.get("/w/gen?ok-tag")
    assert r.status == 200
    assert r.body == b"chunk1;chunk2;chunk3"
    assert srv.wait_log("CLOSE CALLED ok-tag", mark=mark)


def test_generator_failure_still_closes(srv):
    mark = srv.log_mark()
    r = srv.get("/w/genfail?fail-tag")
    # the headers went out with the first chunk: the client sees 200 and a
    # truncated body; the error and the close() call are logged
    assert r.body.startswith(b"chunk1;chunk2;")
    assert b"chunk3" not in r.body
    assert srv.wait_log("CLOSE CALLED fail-tag", mark=mark)
    assert "RuntimeError: generator failed fail-tag" in srv.log_since(mark)


def test_exc_info_replaces_headers(srv):
    r = srv.get("/w/excinfo")
    assert r.status == 500
    assert r.body == b"error page from app"
    assert "X-First" not in r.headers
    assert r.headers["X-Second"] == "2"


def test_exc_info_none(srv):
    r = srv.get("/w/excinfo_none")
    assert r.status == 202
    assert r.body == b"written;returned"


def test_exc_info_after_headers_sent_reraises(srv):
    mark = srv.log_mark()
    r = srv.get("/w/excinfo_late")
    assert r.status == 200
    assert r.body.startswith(b"already sent;")
    assert b"not reached" not in r.body
    log = srv.log_since(mark)
    assert "KeyError: 'late failure marker'" in log


def test_second_start_response_without_exc_info(srv):
    mark = srv.log_mark()
    r = srv.get("/w/second_call")
    assert r.status == 500
    assert "RuntimeError: start_response() called a second time without exc_info" \
        in srv.log_since(mark)


def test_start_response_validation(srv):
    r = srv.get("/w/validate")
    assert r.status == 200, (r, srv.error_log()[-3000:])
    out = json.loads(r.body)
    assert out["not_list"] == ["TypeError", "headers must be a list, not tuple"]
    assert out["not_tuple"] == ["TypeError", "each header must be a tuple, not list"]
    assert out["tuple3"] == ["TypeError", "each header must be a (name, value) tuple, "
                             "not ('A', 'b', 'c')"]
    assert out["name_int"] == ["TypeError", "header names must be strings, not int"]
    assert out["value_int"] == ["TypeError", "header values must be strings, not int"]
    assert out["value_none"] == ["TypeError", "header values must be strings, not NoneType"]
    assert out["name_colon"][0] == "ValueError"
    assert out["name_space"][0] == "ValueError"
    assert out["value_newline"][0] == "ValueError"
    assert out["value_nonlatin1"][0] == "TypeError"
    for k in ("status_abc", "status_99", "status_600", "status_nospace", "status_newline"):
        assert out[k][0] == "ValueError", k
        assert out[k][1].startswith("Invalid status line: "), k
    assert out["status_int"][0] == "TypeError"
    assert out["exc_info_bad"][0] == "TypeError"
    assert out["exc_info_empty"] is None
    assert out["write_is_callable"] is True
    assert out["second"][0] == "RuntimeError"
    assert r.headers["X-Latin"] == "caf\xe9"       # http.client decodes Latin-1
    assert r.headers["X-Bytes"] == "raw"
    assert "X-Injected" not in r.headers


def test_bad_header_gives_500(srv):
    mark = srv.log_mark()
    r = srv.get("/w/badheader")
    assert r.status == 500
    assert "TypeError: header values must be strings, not int" in srv.log_since(mark)


# -------------------------------------------------------- request body

BODY = b"first line\nsecond line\nthird\n\xe9 last"


def post(srv, mode, body=BODY):
    r = srv.post("/w/post?" + mode, body=body)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.body)


def test_input_read(srv):
    assert post(srv, "read") == [BODY.decode("latin-1")]
    body = b"abcdefghij"
    assert post(srv, "readsmall", body) == ["abc", "defg", "hij", ""]


def test_input_readline(srv):
    body = b"first line\nsecond line\nthird\nlast"
    assert post(srv, "readline", body) == ["first line\n", "seco", "nd line\n", "third\n",
                                           "last"]


def test_input_readlines_and_iteration(srv):
    body = b"a\nbb\n\nccc\ndd"
    assert post(srv, "readlines", body) == ["a\n", "bb\n", "\n", "ccc\n", "dd"]
    assert post(srv, "iter", body) == ["a\n", "bb\n", "\n", "ccc\n", "dd"]
    assert post(srv, "mixed", body) == ["a\n", "bb\n\nccc\ndd"]


def test_input_large_body(srv):
    body = b"".join(b"line %06d\n" % i for i in range(20000))
    assert post(srv, "iter", body) == [l.decode() + "\n" for l in body.split(b"\n")[:-1]]


def test_pep3333_validator(srv):
    r = srv.post("/w/pep3333", body=b"payload")
    assert r.status == 200, (r, srv.error_log()[-3000:])
    assert r.body == b"ok:payload"
    mark = srv.log_mark()
    r = srv.get("/w/pep3333")
    assert r.status == 200, (r, srv.error_log()[-3000:])
    assert r.body == b"ok:"
    assert srv.wait_log("validated app ran", mark=mark)
    log = srv.log_since(mark)
    assert "WSGIWarning" not in log and "garbage collected" not in log, log


def test_regex_location_has_no_base(srv):
    env = env_of(srv, "/rx/a/b")
    assert env["SCRIPT_NAME"] == ""
    assert env["PATH_INFO"] == "/rx/a/b"


def test_file_wrapper(srv):
    r = srv.get("/w/file")
    assert r.status == 200
    assert r.body == b"x" * 100000 + b"end"


def test_environ_kept_past_its_request(srv):
    for _ in range(40):             # until a request meets its process's old env
        out = json.loads(srv.get("/w/keep").body)
        if out["had_old"]:
            break
    assert out["had_old"]
    assert out["read"][0] == "RuntimeError"
    assert srv.wait_log("MP0521: stale wsgi.errors line")


def test_wsgi_errors_logs_lines(srv):
    mark = srv.log_mark()
    r = srv.get("/w/errors")
    assert r.status == 200
    log = srv.log_since(mark)
    for line in ("wsgi.errors first line", "wsgi.errors second line",
                 "wsgi.errors third", "wsgi.errors unterminated",
                 "wsgi.errors via print"):
        assert "MP0521: " + line in log, line


# --------------------------------------------------------------- handler

def test_missing_application_option(srv):
    mark = srv.log_mark()
    r = srv.get("/noapp")
    assert r.status == 500
    assert "MP0360: WSGI handler: PythonOption mod_python.wsgi.application is not set" \
        in srv.log_since(mark)


def test_missing_callable_declines(srv):
    mark = srv.log_mark()
    r = srv.get("/nocallable")
    assert r.status != 200
    assert ("MP0361: WSGI handler: mod_python.wsgi.application "
            "(wsgiapp::no_such_app) not found, declining.") in srv.log_since(mark)


def test_autoreload(srv):
    r = srv.get("/reload")
    assert r.body == b"version 1"
    srv.write("pyapps/reloadapp.py", RELOADAPP % 2)
    r = srv.get("/reload")
    assert r.body == b"version 2"
    srv.write("pyapps/reloadapp.py", RELOADAPP % 3)
    for _ in range(4):
        assert srv.get("/reload").body == b"version 3"


# ------------------------------------------------------------- prefork

def test_prefork_flags():
    s = Httpd('PythonPath "sys.path + [\'@ROOT@/pyapps\']"\n'
              + wsgi_section("Location", "/env", "wsgiapp::envdump"),
              files={"pyapps/wsgiapp.py": WSGIAPP}, mpm="prefork")
    s.start()
    try:
        env = env_of(s, "/env/x")
        assert env["wsgi.multithread"] is False
        assert env["wsgi.multiprocess"] is True
        assert env["SCRIPT_NAME"] == "/env" and env["PATH_INFO"] == "/x"
        s.assert_no_crash()
    finally:
        s.stop()
