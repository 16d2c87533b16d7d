"""mod_python.cgihandler (mod_python 3.5 manual: "CGI Handler"): CGI scripts run in
process, GET and POST (text, binary, urlencoded and multipart through
cgi.FieldStorage), the CGI header block, 404/500 cases, per-request execution and
fresh helper modules, and the process state (os.environ, stdin/stdout, cwd, argv)
put back afterwards."""
import concurrent.futures
import json
import urllib.parse

import pytest

import harness
from harness import Httpd

CONF = """
<Directory @DOCROOT@/cgi>
    SetHandler mod_python
    PythonHandler mod_python.cgihandler
    PythonDebug On
</Directory>
<Directory @DOCROOT@/plain>
    SetHandler mod_python
    PythonHandler state
    PythonDebug On
</Directory>
<Directory @DOCROOT@/cgi2>
    SetHandler mod_python
    PythonInterpreter cgi_first
    PythonHandler mod_python.cgihandler
</Directory>
<Directory @DOCROOT@/plain2>
    SetHandler mod_python
    PythonInterpreter cgi_first
    PythonHandler importcgi
</Directory>
<Location /alias>
    SetHandler mod_python
    PythonHandler mod_python.cgihandler
    SetEnv script_filename @DOCROOT@/cgi/env.py
</Location>
"""

ENV_PY = r'''
import json, os, sys
print("Content-Type: application/json")
print("X-Script: env")
print()
keys = ("REQUEST_METHOD", "QUERY_STRING", "GATEWAY_INTERFACE", "SCRIPT_NAME",
        "PATH_INFO", "SCRIPT_FILENAME", "SERVER_PORT", "HTTP_X_TEST")
print(json.dumps({"env": {k: os.environ.get(k) for k in keys},
                  "environ_type": type(os.environ).__name__,
                  "has_path": "PATH" in os.environ,
                  "cwd": os.getcwd(), "argv": sys.argv, "name": __name__,
                  "stdout_has_buffer": hasattr(sys.stdout, "buffer")}))
'''

POST_TEXT_PY = r'''
import sys
data = sys.stdin.read()
sys.stdout.write("Content-Type: text/plain; charset=utf-8\r\n\r\n")
sys.stdout.write("got %d chars: %s" % (len(data), data))
'''

POST_BINARY_PY = r'''
import hashlib, sys
data = sys.stdin.buffer.read()
sys.stdout.write("Content-Type: application/octet-stream\n")
sys.stdout.write("X-Sha: %s\n\n" % hashlib.sha256(data).hexdigest())
sys.stdout.flush()
sys.stdout.buffer.write(data)
'''

FORM_PY = r'''
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import cgi
import json
form = cgi.FieldStorage()
out = {}
for k in form.keys():
    item = form[k]
    if isinstance(item, list):
        out[k] = [i.value for i in item]
    elif item.filename:
        out[k] = {"filename": item.filename, "len": len(item.file.read())}
    else:
        out[k] = item.value
print("Content-Type: application/json\n")
print(json.dumps(out))
'''

STATUS_PY = r'''
import os
kind = os.environ.get("QUERY_STRING", "")
if kind == "404":
    print("Status: 404 Not Found")
    print("Content-Type: text/plain")
    print()
    print("nothing here")
elif kind == "redirect":
    print("Location: http://127.0.0.1/elsewhere")
    print()
elif kind == "headers-only":
    print("Status: 204 No Content")
    print("X-Only: yes")
elif kind == "exit":
    print("Content-Type: text/plain\n")
    print("before exit")
    raise SystemExit(0)
elif kind == "nothing":
    pass
elif kind == "badheader":
    print("this is not a header")
    print()
elif kind == "raise":
    print("Content-Type: text/plain\n")
    raise RuntimeError("script failure marker 7731")
'''

HELPER_PY = '''
count = 0
LABEL = "helper-v1"
'''

USES_HELPER_PY = r'''
import cgihelper
cgihelper.count += 1
print("Content-Type: text/plain\n")
print("%s %d" % (cgihelper.LABEL, cgihelper.count))
'''

SLOW_PY = r'''
import os, sys, time
q = os.environ["QUERY_STRING"]
time.sleep(0.05)
print("Content-Type: text/plain\n")
print("q=%s q2=%s" % (q, os.environ["QUERY_STRING"]))
'''

STATE_PY = r'''
import json, os, sys
from mod_python import apache

def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({
        "environ_type": type(os.environ).__name__,
        "cgi_vars_leaked": "QUERY_STRING" in os.environ or "REQUEST_METHOD" in os.environ,
        "stdout_type": type(sys.stdout).__name__,
        "stdin_type": type(sys.stdin).__name__,
        "cwd": os.getcwd(),
        "helper_loaded": "cgihelper" in sys.modules,
    }))
    return apache.OK
'''

IMPORTCGI_PY = r'''
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import cgi
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("cgi imported")
    return apache.OK
'''

FILES = {
    "htdocs/cgi/env.py": ENV_PY,
    "htdocs/cgi/post_text.py": POST_TEXT_PY,
    "htdocs/cgi/post_binary.py": POST_BINARY_PY,
    "htdocs/cgi/form.py": FORM_PY,
    "htdocs/cgi/status.py": STATUS_PY,
    "htdocs/cgi/cgihelper.py": HELPER_PY,
    "htdocs/cgi/uses_helper.py": USES_HELPER_PY,
    "htdocs/cgi/slow.py": SLOW_PY,
    "htdocs/plain/state.py": STATE_PY,
    "htdocs/cgi2/form.py": FORM_PY,
    "htdocs/plain2/importcgi.py": IMPORTCGI_PY,
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files=FILES, mpm_config=harness.SINGLE_CHILD, name="cgi")


def test_get_environment(srv):
    r = srv.get("/cgi/env.py/extra/path?a=1&b=two", headers={"X-Test": "hello"})
    assert r.status == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Script"] == "env"
    d = json.loads(r.body)
    env = d["env"]
    assert env["REQUEST_METHOD"] == "GET"
    assert env["QUERY_STRING"] == "a=1&b=two"
    assert env["GATEWAY_INTERFACE"] == "Python-CGI/1.1"
    assert env["SCRIPT_NAME"] == "/cgi/env.py"
    assert env["PATH_INFO"] == "/extra/path"
    assert env["SCRIPT_FILENAME"] == srv.docroot + "/cgi/env.py"
    assert env["SERVER_PORT"] == str(srv.port)
    assert env["HTTP_X_TEST"] == "hello"
    assert d["environ_type"] == "dict"
    assert d["has_path"] is True
    assert d["cwd"] == srv.docroot + "/cgi"
    assert d["argv"] == [srv.docroot + "/cgi/env.py"]
    assert d["name"] == "env"
    assert d["stdout_has_buffer"] is True
    srv.assert_no_crash()


def test_post_text(srv):
    body = "name=J%C3%B6rg&x=1\nsecond line é".encode("utf-8")
    r = srv.post("/cgi/post_text.py", body=body,
                 headers={"Content-Type": "text/plain"})
    assert r.status == 200, r.text
    text = body.decode("utf-8")
    assert r.text == "got %d chars: %s" % (len(text), text)


def test_post_binary_roundtrip(srv):
    import hashlib
    body = bytes(range(256)) * 1000 + b"\r\n\x00tail"
    r = srv.post("/cgi/post_binary.py", body=body,
                 headers={"Content-Type": "application/octet-stream"})
    assert r.status == 200, r.text
    assert r.headers["X-Sha"] == hashlib.sha256(body).hexdigest()
    assert r.body == body


def test_post_urlencoded_fieldstorage(srv):
    body = urllib.parse.urlencode([("a", "1"), ("b", "x y"), ("b", "z"),
                                   ("u", "Grüße")]).encode()
    r = srv.post("/cgi/form.py?q=fromquery", body=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r.text
    d = json.loads(r.body)
    assert d["a"] == "1"
    assert d["b"] == ["x y", "z"]
    assert d["u"] == "Grüße"


def test_post_multipart_fieldstorage(srv):
    boundary = "----mpboundary1234"
    payload = bytes(range(256)) * 40
    parts = [
        b"--" + boundary.encode() + b"\r\n"
        b'Content-Disposition: form-data; name="field"\r\n\r\nvalue one\r\n',
        b"--" + boundary.encode() + b"\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="data.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + payload + b"\r\n",
        b"--" + boundary.encode() + b"--\r\n",
    ]
    body = b"".join(parts)
    r = srv.post("/cgi/form.py", body=body,
                 headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert r.status == 200, r.text
    d = json.loads(r.body)
    assert d["field"] == "value one"
    assert d["upload"] == {"filename": "data.bin", "len": len(payload)}


def test_fieldstorage_when_cgi_was_imported_by_another_handler(srv):
    # the cgi module is first imported by a plain handler, outside any script
    assert srv.get("/plain2/importcgi.py").text == "cgi imported"
    body = b"k=v&n=2"
    r = srv.post("/cgi2/form.py", body=body,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r.text
    assert json.loads(r.body) == {"k": "v", "n": "2"}
    r = srv.get("/cgi2/form.py?g=1")
    assert json.loads(r.body) == {"g": "1"}


def test_get_fieldstorage_query(srv):
    r = srv.get("/cgi/form.py?x=1&y=%C3%A9")
    assert r.status == 200, r.text
    assert json.loads(r.body) == {"x": "1", "y": "é"}


def test_status_header(srv):
    r = srv.get("/cgi/status.py?404")
    assert r.status == 404
    assert r.text == "nothing here\n"


def test_location_redirect(srv):
    r = srv.get("/cgi/status.py?redirect")
    assert r.status == 302
    assert r.headers["Location"] == "http://127.0.0.1/elsewhere"


def test_headers_without_blank_line(srv):
    r = srv.get("/cgi/status.py?headers-only")
    assert r.status == 204
    assert r.headers["X-Only"] == "yes"


def test_sys_exit_ends_script(srv):
    r = srv.get("/cgi/status.py?exit")
    assert r.status == 200
    assert r.text == "before exit\n"


def test_no_output_is_500(srv):
    mark = srv.log_mark()
    r = srv.get("/cgi/status.py?nothing")
    assert r.status == 500
    assert srv.wait_log("MP0951", mark=mark)


def test_bad_header_is_500(srv):
    mark = srv.log_mark()
    r = srv.get("/cgi/status.py?badheader")
    assert r.status == 500
    assert "malformed CGI header line" in r.text      # PythonDebug On
    assert srv.wait_log("malformed CGI header line", mark=mark)


def test_exception_is_500_with_traceback(srv):
    mark = srv.log_mark()
    r = srv.get("/cgi/status.py?raise")
    assert r.status == 500
    assert srv.wait_log("script failure marker 7731", mark=mark)
    # the next request is served normally (state was restored)
    assert srv.get("/cgi/env.py").status == 200


def test_missing_script_is_404(srv):
    assert srv.get("/cgi/nonexistent.py").status == 404
    assert srv.get("/cgi/").status == 404


def test_script_filename_from_subprocess_env(srv):
    r = srv.get("/alias/whatever?z=9")
    assert r.status == 200, r.text
    assert json.loads(r.body)["env"]["QUERY_STRING"] == "z=9"


def test_script_runs_every_request_with_fresh_helper(srv):
    for _ in range(3):
        r = srv.get("/cgi/uses_helper.py")
        assert r.status == 200, r.text
        assert r.text == "helper-v1 1\n"
    srv.write("htdocs/cgi/cgihelper.py", HELPER_PY.replace("helper-v1", "helper-v2"))
    r = srv.get("/cgi/uses_helper.py")
    assert r.text == "helper-v2 1\n"


def test_script_change_is_picked_up(srv):
    srv.write("htdocs/cgi/changing.py", 'print("Content-Type: text/plain\\n\\none")')
    assert srv.get("/cgi/changing.py").text == "one\n"
    srv.write("htdocs/cgi/changing.py", 'print("Content-Type: text/plain\\n\\ntwo")')
    assert srv.get("/cgi/changing.py").text == "two\n"


def test_process_state_restored(srv):
    assert srv.get("/cgi/env.py?leak=1").status == 200
    assert srv.get("/cgi/uses_helper.py").status == 200
    r = srv.get("/plain/state.py")
    assert r.status == 200, r.text
    d = json.loads(r.body)
    assert d["environ_type"] == "_Environ"
    assert d["cgi_vars_leaked"] is False
    assert d["stdout_type"] != "_ThreadRoute"
    assert d["stdin_type"] != "_ThreadRoute"
    assert d["cwd"] != srv.docroot + "/cgi"
    assert d["helper_loaded"] is False


def test_concurrent_requests_see_their_own_environment(srv):
    def one(i):
        r = srv.get("/cgi/slow.py?n%d" % i)
        return r.status, r.text

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(16)))
    for i, (status, text) in enumerate(results):
        assert status == 200
        assert text == "q=n%d q2=n%d\n" % (i, i)
    srv.assert_no_crash()


@pytest.mark.parametrize("mpm", ["prefork", "worker"])
def test_other_mpms(mpm):
    s = Httpd(CONF, files=FILES, mpm=mpm, name="cgi-" + mpm)
    s.start()
    try:
        r = s.get("/cgi/env.py?m=" + mpm)
        assert r.status == 200, r.text
        assert json.loads(r.body)["env"]["QUERY_STRING"] == "m=" + mpm
        body = b"x=1&y=%C3%A9"
        r = s.post("/cgi/form.py", body=body,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 200, r.text
        assert json.loads(r.body) == {"x": "1", "y": "é"}
        s.assert_no_crash()
    finally:
        s.stop()
