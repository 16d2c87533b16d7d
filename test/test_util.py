"""mod_python.util against a real httpd (mod_python 3.5 manual: "util - Miscellaneous
Utilities"): FieldStorage over query strings, urlencoded and multipart/form-data
POST bodies (str names and values, UTF-8 names and filenames, binary uploads,
callbacks), the mapping API, limits and malformed bodies (error statuses, never a
crash), streaming of large uploads with bounded memory (VmHWM of the child),
parse_header, apply_fs_data and redirect()."""
import hashlib
import json
import socket
import urllib.parse

import pytest

from harness import NO_RSS_UNDER_ASAN, SANITIZED, SINGLE_CHILD, json_call_handler

FORM_PY = r'''
import hashlib
import io
import json
import os
import re
from mod_python import apache, util

def _status():
    with open("/proc/self/status") as f:
        text = f.read()
    return {k: int(v) * 1024 for k, v in re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", text, re.M)}

def _sha(f):
    h = hashlib.sha256()
    n = 0
    f.seek(0)
    while True:
        b = f.read(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    f.seek(0)
    return h.hexdigest(), n

def _desc(field):
    d = {"cls": type(field).__name__, "name": field.name, "filename": field.filename,
         "type": field.type, "disposition": field.disposition}
    if isinstance(field, util.StringField):
        d["value"] = field.value
        d["is_str"] = isinstance(field, str) and type(field.value) is str
        d["raw"] = field.file.read().hex()
    else:
        d["sha"], d["size"] = _sha(field.file)
        d["value_type"] = type(field.value).__name__
        d["file_type"] = type(field.file).__name__
        d["disp_header"] = field.headers.get("content-disposition")
    return d

def _dump(fs):
    return {"keys": fs.keys(), "len": len(fs),
            "items": [[n, _desc(f)] for n, f in fs.items()]}

def t_dump(req):
    return _dump(util.FieldStorage(req))

def t_blank(req):
    return _dump(util.FieldStorage(req, keep_blank_values=1))

def t_limits(req):
    fs = util.FieldStorage(req, max_memory_size=2000, max_fields=5, max_files=1)
    return _dump(fs)

def t_optlimits(req):
    return _dump(util.FieldStorage(req))

def t_api(req):
    fs = util.FieldStorage(req, keep_blank_values=1)
    out = {}
    out["getitem_one"] = fs["a"]
    out["getitem_many"] = [str(x) for x in fs["b"]]
    out["getitem_bytes_key"] = fs[b"a"]
    try:
        fs["missing"]
        out["missing"] = "no error"
    except KeyError:
        out["missing"] = "KeyError"
    out["get"] = fs.get("a", "dflt")
    out["get_missing"] = fs.get("missing", "dflt")
    out["getfirst"] = fs.getfirst("b")
    out["getfirst_missing"] = fs.getfirst("missing")
    out["getfirst_default"] = fs.getfirst("missing", "d")
    out["getlist"] = fs.getlist("b")
    out["getlist_missing"] = fs.getlist("missing")
    out["has_key"] = [fs.has_key("a"), fs.has_key("missing")]
    out["contains"] = ["a" in fs, "missing" in fs]
    out["iter"] = list(fs)
    out["len"] = len(fs)
    out["items"] = [[n, str(v)] for n, v in fs.items()]
    out["repr_a"] = repr(fs["a"])
    out["value_type"] = type(fs["a"].value).__name__
    out["is_str"] = isinstance(fs["a"], str)
    out["file"] = fs["a"].file.read().decode()
    fs.add_field("added", "x")
    fs.add_field(b"added", b"y")
    out["added"] = fs.getlist("added")
    fs["b"] = "replaced"
    out["after_set"] = fs.getlist("b")
    try:
        fs["c"] = 5
        out["set_int"] = "no error"
    except TypeError:
        out["set_int"] = "TypeError"
    del fs["a"]
    out["after_del"] = fs.keys()
    try:
        del fs["a"]
        out["del_missing"] = "no error"
    except KeyError:
        out["del_missing"] = "KeyError"
    fs.list.append(util.StringField("late"))
    fs.list[-1].name = "late"
    out["after_list_append"] = fs.getfirst("late")
    fs.clear()
    out["after_clear"] = [len(fs), fs.keys()]
    f = util.Field("n", io.BytesIO(b"data"), "text/plain", {}, "form-data",
                   {"name": "n", "filename": "f.txt"})
    out["compat_field"] = [f.name, f.filename, f.type, f.value.decode(), repr(f)]
    out["bare_field"] = [util.Field("m").value, util.Field("m").filename]
    return out

class TagIO(io.BytesIO):
    tag = "field_callback"

def t_callbacks(req):
    calls = []
    tmpdir = req.document_root() + "/../tmp"
    def file_cb(filename):
        calls.append(["file", filename])
        return open(os.path.join(tmpdir, "cb-%d" % len(calls)), "w+b")
    def field_cb():
        calls.append(["field"])
        return TagIO()
    fs = util.FieldStorage(req, file_callback=file_cb, field_callback=field_cb)
    out = {"calls": calls, "fields": {}}
    for name, f in fs.items():
        out["fields"][name] = {"file": type(f.file).__name__,
                               "tag": getattr(f.file, "tag", None),
                               "path": os.path.basename(getattr(f.file, "name", "") or ""),
                               "value": f.value if isinstance(f.value, str)
                                        else f.value.decode("latin-1")}
    return out

def t_pid(req):
    return {"pid": os.getpid()}

def t_mem(req):
    before = _status()
    fs = util.FieldStorage(req)
    after = _status()
    up = fs["upload"]
    sha, size = _sha(up.file)
    return {"before": before, "after": after, "sha": sha, "size": size,
            "filename": up.filename, "note": fs.getfirst("note"),
            "file_type": type(up.file).__name__}

def t_parse_header(req):
    res = []
    for line in [b'form-data; name="pr\xc3\xa9nom"; filename="r\xc3\xa9sum\xc3\xa9.txt"',
                 'Text/HTML; Charset="utf-8"',
                 b'form-data; name="a;b"; filename="C:\\dir\\f.txt"',
                 "attachment; filename*=UTF-8''%E2%82%AC%20rates.txt",
                 b'form-data; name="\xe9"']:
        key, pdict = util.parse_header(line)
        res.append([key, pdict])
    key, pdict = util.parse_header(b'form-data; name="x"')
    res.append(pdict[b"name"])
    return res

def t_qs(req):
    return {"parse_qsl": util.parse_qsl("q=tea&p=2&x=&y"),
            "parse_qsl_blank": util.parse_qsl("q=tea&p=2&x=&y", 1),
            "parse_qs": util.parse_qs("a=1&a=2&b=3"),
            "bytes": [[k.decode(), v.decode()] for k, v in util.parse_qsl(b"k=v&k2=%41")],
            "blocksize": util.readBlockSize}

def _form_func(req, a, b=None, *, c="cdef"):
    return {"req": req.uri, "a": a, "b": b, "c": c}

class _FormClass:
    def __init__(self, a, up=None):
        self.res = {"a": a, "up": up.filename if up is not None else None,
                    "up_value": up.value.decode() if up is not None else None}

class _FormCallable:
    def __call__(self, a, **kw):
        return {"a": a, "kw": sorted(kw)}

class _Obj:
    def meth(self, a, b="x"):
        return {"a": a, "b": b}

def t_apply(req):
    fs = util.FieldStorage(req)
    return {"func": util.apply_fs_data(_form_func, fs, req=req),
            "cls": util.apply_fs_data(_FormClass, fs).res,
            "callable": util.apply_fs_data(_FormCallable(), fs, req=req),
            "method": util.apply_fs_data(_Obj().meth, fs),
            "builtin": util.apply_fs_data(dict, fs)}

def t_redirect(req):
    util.redirect(req, "/target?x=1&y=\u00e9 z")
    req.write("NOT REACHED")
    return apache.OK

def t_redirect_perm(req):
    util.redirect(req, "http://example.com/new", permanent=1, text="moved for good")
    return apache.OK

def t_redirect_late(req):
    req.write("started ")
    req.flush()
    try:
        util.redirect(req, "/x")
    except IOError as e:
        req.write("IOError: %s" % e)
    return apache.OK

def t_redirect_type(req):
    try:
        util.redirect(req, b"/x")
    except TypeError:
        return {"error": "TypeError"}
    return {"error": None}
''' + json_call_handler(-1)

CONFIG = r"""
<Directory @DOCROOT@/app>
    SetHandler mod_python
    PythonHandler formtest
</Directory>
<Location /app/optlimits>
    PythonOption mod_python.util.max_fields 3
</Location>
<Location /app/lim413>
    LimitRequestBody 1000
</Location>
"""

FILES = {"htdocs/app/formtest.py": FORM_PY}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="util", mpm_config=SINGLE_CHILD)


def getj(srv, path):
    r = srv.get(path)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.body)


def postj(srv, path, body, ctype):
    r = srv.post(path, body=body, headers={"Content-Type": ctype})
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.body)


def items(d):
    """[(name, value)] of a dump's string fields."""
    return [(n, f.get("value")) for n, f in d["items"]]


BOUNDARY = "----mpBoundary7MA4YWxkTrZu0gW"


def multipart(parts, boundary=BOUNDARY):
    """parts: (name_bytes, filename_bytes_or_None, data_bytes[, content_type])."""
    out = []
    for p in parts:
        name, filename, data = p[:3]
        disp = b'Content-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            disp += b'; filename="' + filename + b'"'
        out.append(b"--" + boundary.encode() + b"\r\n" + disp + b"\r\n")
        if len(p) > 3:
            out.append(b"Content-Type: " + p[3] + b"\r\n")
        out.append(b"\r\n" + data + b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out)


MP_TYPE = "multipart/form-data; boundary=" + BOUNDARY


def raw(srv, data):
    """Send raw bytes, return the status code of the answer."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(data)
        out = b""
        while b"\r\n" not in out:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    return int(out.split(b" ", 2)[1]), out


# ------------------------------------------------------------ query string

def test_query_repeated_keys_and_blank_values(srv):
    d = getj(srv, "/app/dump?a=1&b=2&a=3&empty=&c=%C3%A9+x&noeq")
    assert items(d) == [("a", "1"), ("b", "2"), ("a", "3"), ("c", "\u00e9 x")]
    assert d["keys"] == ["a", "b", "c"]
    assert d["len"] == 3
    assert all(f["cls"] == "StringField" and f["is_str"] for _, f in d["items"])
    d = getj(srv, "/app/blank?a=1&b=2&a=3&empty=&c=%C3%A9+x&noeq")
    assert items(d) == [("a", "1"), ("b", "2"), ("a", "3"), ("empty", ""),
                        ("c", "\u00e9 x"), ("noeq", "")]


def test_query_short_pairs_not_corrupted(srv):
    # 3.5 returned ('tea', 'tea') and ('2', '2') here
    d = getj(srv, "/app/dump?q=tea&p=2")
    assert items(d) == [("q", "tea"), ("p", "2")]
    assert d["keys"] == ["q", "p"]


def test_query_non_utf8_falls_back_to_latin1(srv):
    d = getj(srv, "/app/dump?n%E9=caf%E9&ok=%C3%A9")
    assert items(d) == [("n\u00e9", "caf\u00e9"), ("ok", "\u00e9")]


def test_module_parse_qs_functions(srv):
    d = getj(srv, "/app/qs")
    assert d["parse_qsl"] == [["q", "tea"], ["p", "2"]]
    assert d["parse_qsl_blank"] == [["q", "tea"], ["p", "2"], ["x", ""], ["y", ""]]
    assert d["parse_qs"] == {"a": ["1", "2"], "b": ["3"]}
    assert d["bytes"] == [["k", "v"], ["k2", "A"]]
    assert d["blocksize"] == 65368


def test_mapping_api(srv):
    d = getj(srv, "/app/api?a=1&b=2&b=3&e=")
    assert d["getitem_one"] == "1"
    assert d["getitem_many"] == ["2", "3"]
    assert d["getitem_bytes_key"] == "1"
    assert d["missing"] == "KeyError"
    assert d["get"] == "1" and d["get_missing"] == "dflt"
    assert d["getfirst"] == "2" and d["getfirst_missing"] is None
    assert d["getfirst_default"] == "d"
    assert d["getlist"] == ["2", "3"] and d["getlist_missing"] == []
    assert d["has_key"] == [True, False] and d["contains"] == [True, False]
    assert d["iter"] == ["a", "b", "e"] and d["len"] == 3
    assert d["items"] == [["a", "1"], ["b", "2"], ["b", "3"], ["e", ""]]
    assert d["repr_a"] == "Field('a', '1')"
    assert d["value_type"] == "str" and d["is_str"] is True
    assert d["file"] == "1"
    assert d["added"] == ["x", "y"]
    assert d["after_set"] == ["replaced"]
    assert d["set_int"] == "TypeError"
    assert d["after_del"] == ["e", "added", "b"]     # fs[k] = v appends
    assert d["del_missing"] == "KeyError"
    assert d["after_list_append"] == "late"
    assert d["after_clear"] == [0, []]
    assert d["compat_field"] == ["n", "f.txt", "text/plain", "data", "Field('n', b'data')"]
    assert d["bare_field"] == [None, None]


def test_get_ignores_body_of_other_methods(srv):
    r = srv.request("PUT", "/app/dump?x=1", body=b"y=2",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200
    assert items(json.loads(r.body)) == [("x", "1")]


# ------------------------------------------------------------- urlencoded

def test_urlencoded_post_names_are_str(srv):
    body = b"spam=1&eggs=%C3%A9t%C3%A9&spam=2&q=tea&p=2&blank=&pr%C3%A9nom=Jos%C3%A9"
    d = postj(srv, "/app/dump?x=q", body, "application/x-www-form-urlencoded")
    assert items(d) == [("x", "q"), ("spam", "1"), ("eggs", "\u00e9t\u00e9"),
                        ("spam", "2"), ("q", "tea"), ("p", "2"),
                        ("pr\u00e9nom", "Jos\u00e9")]
    assert d["keys"] == ["x", "spam", "eggs", "q", "p", "pr\u00e9nom"]
    assert all(f["is_str"] for _, f in d["items"])
    d = postj(srv, "/app/blank", b"a=&b=1", "application/x-www-form-urlencoded")
    assert items(d) == [("a", ""), ("b", "1")]


def test_urlencoded_with_charset_and_default_type(srv):
    d = postj(srv, "/app/dump", b"a=1", "application/x-www-form-urlencoded; charset=UTF-8")
    assert items(d) == [("a", "1")]
    # no Content-Type: urlencoded is assumed
    r = srv.post("/app/dump", body=b"a=2", headers={"Content-Type": ""})
    assert r.status == 200, r
    assert items(json.loads(r.body)) == [("a", "2")]


def test_urlencoded_non_utf8_falls_back_to_latin1(srv):
    d = postj(srv, "/app/dump", b"n%E9=caf%E9&ok=%C3%A9", "application/x-www-form-urlencoded")
    assert items(d) == [("n\u00e9", "caf\u00e9"), ("ok", "\u00e9")]
    assert d["items"][0][1]["raw"] == b"caf\xe9".hex()     # raw bytes kept in .file


def test_urlencoded_chunked_body(srv):
    body = b"a=1&b=%C3%A9"
    req = (b"POST /app/dump HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n"
           + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    status, out = raw(srv, req)
    assert status == 200
    assert b'"value": "1"' in out and b'"value": "\\u00e9"' in out


# -------------------------------------------------------------- multipart

def test_multipart_text_fields_and_upload(srv):
    data = bytes(range(256)) * 64 + b"\r\n--" + BOUNDARY[:10].encode() + b"\r\r\n\n\r"
    body = multipart([
        (b"title", None, b"hello world"),
        ("pr\u00e9nom".encode(), None, "Jos\u00e9 \u20ac".encode()),
        (b"multi", None, b"line1\r\nline2\r\n"),
        (b"empty", None, b""),
        (b"upload", "r\u00e9sum\u00e9 \u6587\u4ef6.bin".encode(), data, b"application/octet-stream"),
        (b"title", None, b"second"),
    ])
    d = postj(srv, "/app/dump?q=1", body, MP_TYPE)
    assert d["keys"] == ["q", "title", "pr\u00e9nom", "multi", "empty", "upload"]
    fields = d["items"]
    assert [n for n, _ in fields] == ["q", "title", "pr\u00e9nom", "multi", "empty",
                                      "upload", "title"]
    assert items(d)[:5] == [("q", "1"), ("title", "hello world"),
                            ("pr\u00e9nom", "Jos\u00e9 \u20ac"),
                            ("multi", "line1\r\nline2\r\n"), ("empty", "")]
    title = fields[1][1]
    assert title["cls"] == "StringField" and title["is_str"]
    assert title["type"] == "text/plain" and title["disposition"] == "form-data"
    up = fields[5][1]
    assert up["cls"] == "Field"
    assert up["filename"] == "r\u00e9sum\u00e9 \u6587\u4ef6.bin"
    assert up["type"] == "application/octet-stream"
    assert up["size"] == len(data)
    assert up["sha"] == hashlib.sha256(data).hexdigest()
    assert up["value_type"] == "bytes"
    assert up["disp_header"] == ('form-data; name="upload"; filename="r\u00e9sum\u00e9 '
                                 '\u6587\u4ef6.bin"')
    assert up["file_type"] != "BytesIO"          # uploads go to a temporary file


def test_multipart_non_utf8_name_and_lf_only_tolerated(srv):
    body = (b"--XX\nContent-Disposition: form-data; name=\"n\xe9\"; filename=\"f\xe9.txt\"\n"
            b"Content-Type: text/plain\n\nabc\n--XX\nContent-Disposition: form-data; "
            b"name=\"t\"\n\nv\n--XX--\n")
    d = postj(srv, "/app/dump", body, 'multipart/form-data; boundary="XX"')
    assert [n for n, _ in d["items"]] == ["n\u00e9", "t"]
    assert d["items"][0][1]["filename"] == "f\u00e9.txt"
    assert d["items"][0][1]["size"] == 3
    assert items(d)[1] == ("t", "v")


def test_multipart_preamble_epilogue_and_padding(srv):
    body = (b"preamble line\r\n--B  \r\nContent-Disposition: form-data; name=a\r\n"
            b"X-Long: one\r\n two\r\n\r\nval\r\n--B--\r\nepilogue junk")
    d = postj(srv, "/app/dump", body, "multipart/form-data; boundary=B")
    assert items(d) == [("a", "val")]


def test_multipart_part_without_headers_is_skipped(srv):
    body = (b"--B\r\n--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
            b"--B\r\nContent-Disposition: form-data; name=b\r\n\r\n\r\n--B--\r\n")
    d = postj(srv, "/app/dump", body, "multipart/form-data; boundary=B")
    assert items(d) == [("a", ""), ("b", "")]


def test_multipart_callbacks(srv):
    body = multipart([(b"f1", b"one.txt", b"file one"), (b"t", None, b"text"),
                      (b"f2", "\u00e9.txt".encode(), b"file two")])
    d = postj(srv, "/app/callbacks", body, MP_TYPE)
    assert d["calls"] == [["file", "one.txt"], ["field"], ["file", "\u00e9.txt"]]
    assert d["fields"]["f1"] == {"file": "BufferedRandom", "tag": None, "path": "cb-1",
                                 "value": "file one"}
    assert d["fields"]["t"] == {"file": "TagIO", "tag": "field_callback", "path": "",
                                "value": "text"}
    assert d["fields"]["f2"]["path"] == "cb-3"
    assert d["fields"]["f2"]["value"] == "file two"


@pytest.mark.parametrize("body,ctype,status", [
    (b"a=1", "text/plain", 501),
    (b"a=1", "application/json", 501),
    (b"--B\r\n\r\nx\r\n--B--\r\n", "multipart/form-data", 400),             # no boundary
    (b"--B\r\n\r\nx\r\n--B--\r\n", "multipart/form-data; boundary=", 400),
    (b"no boundary anywhere", "multipart/form-data; boundary=B", 400),
    (b"--B\r\nbroken header line\r\n\r\nx\r\n--B--\r\n", "multipart/form-data; boundary=B", 400),
    (b"--B\r\nContent-Disposition: form-data; name=a\r\n\r\ntruncated",
     "multipart/form-data; boundary=B", 400),                                 # no closing
    (b"--B\r\nContent-Disposition: form-data; name=a\r\n",
     "multipart/form-data; boundary=B", 400),                                 # ends in headers
    (b"--B\r\nX: " + b"h" * 70000 + b"\r\n\r\nx\r\n--B--\r\n",
     "multipart/form-data; boundary=B", 400),                                 # header too long
])
def test_bad_bodies_get_error_status(srv, body, ctype, status):
    mark = srv.log_mark()
    r = srv.post("/app/dump", body=body, headers={"Content-Type": ctype})
    assert r.status == status, (r, srv.log_since(mark))
    log = srv.log_since(mark)
    assert "mod_python.util.FieldStorage" in log
    assert "Traceback" not in log


def test_missing_content_length_411(srv):
    status, _ = raw(srv, b"POST /app/dump HTTP/1.0\r\nHost: x\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
    assert status == 411
    assert "MP0370" in srv.error_log()


def test_limits_413(srv):
    ue = "application/x-www-form-urlencoded"
    assert postj(srv, "/app/limits", b"a=1&b=2", ue)["len"] == 2
    for body, ctype in [
        (b"a=" + b"x" * 3000, ue),                                   # max_memory_size
        (b"a=1&b=2&c=3&d=4&e=5&f=6", ue),                            # max_fields
        (multipart([(b"a", None, b"x" * 3000)]), MP_TYPE),           # in-memory part
        (multipart([(b"a", None, b"x" * 1500), (b"b", None, b"x" * 1500)]), MP_TYPE),
        (multipart([(b"f%d" % i, None, b"1") for i in range(6)]), MP_TYPE),
        (multipart([(b"f1", b"1.txt", b"1"), (b"f2", b"2.txt", b"2")]), MP_TYPE),  # max_files
    ]:
        mark = srv.log_mark()
        r = srv.post("/app/limits", body=body, headers={"Content-Type": ctype})
        assert r.status == 413, (body[:80], r, srv.log_since(mark))
        assert "MP0374" in srv.log_since(mark)
    # files are not held in memory: a big upload passes max_memory_size
    d = postj(srv, "/app/limits", multipart([(b"f", b"big.bin", b"z" * 100000)]), MP_TYPE)
    assert d["items"][0][1]["size"] == 100000


def test_limit_from_python_option(srv):
    ue = "application/x-www-form-urlencoded"
    assert postj(srv, "/app/optlimits", b"a=1&b=2&c=3", ue)["len"] == 3
    r = srv.post("/app/optlimits", body=b"a=1&b=2&c=3&d=4", headers={"Content-Type": ue})
    assert r.status == 413


def test_limit_request_body_413(srv):
    body = multipart([(b"f", b"big.bin", b"z" * 5000)])
    r = srv.post("/app/lim413", body=body, headers={"Content-Type": MP_TYPE})
    assert r.status == 413


@pytest.mark.skipif(SANITIZED, reason=NO_RSS_UNDER_ASAN)
def test_large_upload_streams_with_bounded_memory(srv):
    pid = getj(srv, "/app/pid")["pid"]
    size = 20 * 1024 * 1024
    block = hashlib.sha256(b"seed").digest() * 2048          # 64 KiB
    data = (bytes(range(256)) * 16 + block) * (size // (4096 + len(block)) + 1)
    data = data[:size]
    body = multipart([(b"note", None, b"big one"), (b"upload", b"big.bin", data)])
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")                        # reset the child's peak RSS (VmHWM)
    r = srv.post("/app/mem", body=body, headers={"Content-Type": MP_TYPE})
    assert r.status == 200, (r, srv.error_log()[-2000:])
    d = json.loads(r.body)
    assert d["size"] == size
    assert d["sha"] == hashlib.sha256(data).hexdigest()
    assert d["note"] == "big one" and d["filename"] == "big.bin"
    assert d["file_type"] != "BytesIO"
    growth = d["after"]["VmHWM"] - d["before"]["VmHWM"]
    assert growth < 8 * 1024 * 1024, d       # a 20 MiB body was never held in memory


# ----------------------------------------------------------- other helpers

def test_parse_header(srv):
    d = getj(srv, "/app/parse_header")
    assert d[0] == ["form-data", {"name": "pr\u00e9nom", "filename": "r\u00e9sum\u00e9.txt"}]
    assert d[1] == ["text/html", {"charset": "utf-8"}]
    assert d[2] == ["form-data", {"name": "a;b", "filename": "C:\\dir\\f.txt"}]
    assert d[3] == ["attachment", {"filename": "\u20ac rates.txt"}]
    assert d[4] == ["form-data", {"name": "\u00e9"}]
    assert d[5] == "x"


def test_apply_fs_data(srv):
    body = multipart([(b"a", None, b"A"), (b"b", None, b"B1"), (b"b", None, b"B2"),
                      (b"req", None, b"evil"), (b"zz", None, b"Z"),
                      (b"up", b"u.txt", b"upload")])
    d = postj(srv, "/app/apply?c=C", body, MP_TYPE)
    assert d["func"] == {"req": "/app/apply", "a": "A", "b": ["B1", "B2"], "c": "C"}
    assert d["cls"] == {"a": "A", "up": "u.txt", "up_value": "upload"}
    assert d["callable"] == {"a": "A", "kw": ["b", "c", "req", "up", "zz"]}
    assert d["method"] == {"a": "A", "b": ["B1", "B2"]}
    assert d["builtin"] == {}


def test_redirect_temporary(srv):
    r = srv.get("/app/redirect")
    assert r.status == 302
    loc = r.headers["Location"]
    assert loc == "/target?x=1&y=%C3%A9%20z"
    assert urllib.parse.unquote(loc) == "/target?x=1&y=\u00e9 z"
    assert b"NOT REACHED" not in r.body
    assert b'<a href="/target?x=1&amp;y=%C3%A9%20z">here</a>' in r.body


def test_redirect_permanent_with_text(srv):
    r = srv.get("/app/redirect_perm")
    assert r.status == 301
    assert r.headers["Location"] == "http://example.com/new"
    assert r.body == b"moved for good"


def test_redirect_after_output_and_type_check(srv):
    r = srv.get("/app/redirect_late")
    assert r.status == 200
    assert r.body == b"started IOError: Cannot redirect after headers have already been sent."
    assert getj(srv, "/app/redirect_type") == {"error": "TypeError"}


def test_no_python_errors_logged(srv):
    # runs last: nothing above raised (every refusal is a clean status)
    log = srv.error_log()
    assert "Traceback" not in log and "Exception ignored" not in log, log[-3000:]
    srv.assert_no_crash()
