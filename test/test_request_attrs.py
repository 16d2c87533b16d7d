"""mp_request attributes (mod_python 3.5 manual: "Request Members"): every attribute
read with its type, every writable one written (and its effect on the response where
it has one), bad types -> TypeError, read-only ones rejected, deletion rejected, the
instance __dict__ across phases, table views, main/prev/next, Latin-1 header values,
and the dead object after the request ended.

One child process (SINGLE_CHILD) so that a request object kept in a module
global can be looked at by the next request."""
import json
import socket

import pytest

from harness import SINGLE_CHILD, json_call_handler

REQTEST_PY = r'''
import json
from mod_python import apache

KEPT = []

RO = ["connection", "server", "next", "prev", "main", "the_request",
      "header_only", "protocol", "proto_num", "hostname", "request_time",
      "method", "method_number", "allowed", "allowed_xmethods",
      "allowed_methods", "sent_bodyct", "bytes_sent", "mtime", "range",
      "clength", "remaining", "read_length", "read_body", "read_chunked",
      "expecting_100", "content_encoding", "content_languages",
      "vlist_validator", "unparsed_uri", "parsed_uri", "eos_sent",
      "headers_in", "headers_out", "err_headers_out", "subprocess_env",
      "notes", "phase", "interpreter", "hlist", "extension",
      "_content_type_set", "_bytes_queued", "_request_rec",
      "useragent_addr", "useragent_ip"]
RW = ["assbackwards", "proxyreq", "status_line", "status", "chunked",
      "content_type", "handler", "user", "ap_auth_type", "no_cache",
      "no_local_copy", "uri", "filename", "canonical_filename",
      "path_info", "args", "finfo", "used_path_info"]

def fixup(req):
    if req.uri.endswith("/dict"):
        req.marker = {"set_in": req.phase}
        req.fixup_req_id = id(req)
    return apache.OK

def _plain(v):
    if isinstance(v, (str, int, float, type(None))):
        return v
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return repr(v)

def t_read(req):
    out = {}
    for name in RO + RW:
        v = getattr(req, name)
        out[name] = [type(v).__name__, _plain(v)]
    out["type"] = type(req).__name__
    out["same_conn"] = req.connection is req.connection
    out["same_server"] = req.server is req.server
    out["same_headers_in"] = req.headers_in is req.headers_in
    out["same_finfo"] = req.finfo is req.finfo
    out["hlist_handler"] = req.hlist.handler
    out["parsed_uri_len"] = len(req.parsed_uri)
    out["finfo_filetype"] = req.finfo.filetype
    return out

def t_readonly(req):
    out = {}
    for name in RO:
        try:
            setattr(req, name, getattr(req, name))
            out[name] = "accepted"
        except (AttributeError, TypeError) as e:
            out[name] = type(e).__name__
    return out

def t_delete(req):
    out = {}
    for name in RW + ["uri", "connection"]:
        try:
            delattr(req, name)
            out[name] = "deleted"
        except (AttributeError, TypeError) as e:
            out[name] = type(e).__name__
    return out

def _try(fn):
    try:
        fn()
        return "ok"
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)

def t_write_ints(req):
    out = {}
    for name in ["assbackwards", "proxyreq", "no_cache", "no_local_copy",
                 "used_path_info", "chunked"]:
        old = getattr(req, name)
        setattr(req, name, 1)
        r1 = getattr(req, name)
        setattr(req, name, old)
        out[name] = {"set1": r1, "restored": getattr(req, name) == old,
                     "str": _try(lambda: setattr(req, name, "1")),
                     "float": _try(lambda: setattr(req, name, 1.0)),
                     "none": _try(lambda: setattr(req, name, None)),
                     "huge": _try(lambda: setattr(req, name, 2 ** 40))}
    return out

def t_write_strs(req):
    out = {}
    for name in ["uri", "filename", "canonical_filename", "path_info",
                 "ap_auth_type", "user", "args", "handler", "status_line"]:
        old = getattr(req, name)
        setattr(req, name, "/v\u00e9")
        r_str = getattr(req, name)
        setattr(req, name, b"/b")
        r_bytes = getattr(req, name)
        out[name] = {"str": r_str, "bytes": r_bytes,
                     "int": _try(lambda: setattr(req, name, 5)),
                     "none": _try(lambda: setattr(req, name, None)),
                     "none_value": getattr(req, name),
                     "nonlatin1": _try(lambda: setattr(req, name, "\u20ac"))}
        if old is not None:
            setattr(req, name, old)
    req.status_line = "200 OK"
    return out

def t_user_latin1(req):
    req.user = "j\u00f8e"
    a = req.user
    req.user = b"caf\xe9"
    b = req.user
    return {"str": a, "bytes": b}

def t_status(req):
    req.status = 299
    req.status_line = "299 Custom Thing"
    req.content_type = "text/plain"
    req.write("status set")
    return apache.OK

def t_content_type(req):
    out = {"before": req._content_type_set}
    out["none"] = _try(lambda: setattr(req, "content_type", None))
    out["int"] = _try(lambda: setattr(req, "content_type", 3))
    out["nonlatin1"] = _try(lambda: setattr(req, "content_type", "\u20ac"))
    req.content_type = b"text/x-bytes"
    out["bytes"] = req.content_type
    req.content_type = "text/x-mine; charset=utf-8"
    out["after"] = req._content_type_set
    out["value"] = req.content_type
    req.write(json.dumps(out))
    return apache.OK

def t_chunked(req):
    out = {"str": _try(lambda: setattr(req, "chunked", "yes"))}
    return out

def t_handler_none(req):
    req.handler = None
    a = req.handler
    req.handler = "mod_python"
    return {"none": a, "back": req.handler}

def t_finfo(req):
    out = {"before": req.finfo.filetype}
    target = req.document_root() + "/app/data.txt"
    req.finfo = apache.stat(target, apache.APR_FINFO_NORM)
    out["fname"] = req.finfo.fname
    out["size"] = req.finfo.size
    out["filetype"] = req.finfo.filetype
    out["str"] = _try(lambda: setattr(req, "finfo", "x"))
    out["none"] = _try(lambda: setattr(req, "finfo", None))
    return out

def t_dict(req):
    out = {"marker": getattr(req, "marker", None),
           "same_object": getattr(req, "fixup_req_id", None) == id(req)}
    req.new_attr = [1, 2]
    out["in_dict"] = "new_attr" in req.__dict__
    out["value"] = req.new_attr
    out["vars"] = sorted(k for k in vars(req) if not k.startswith("_"))
    return out

def t_tables(req):
    out = {}
    for name in ["headers_in", "headers_out", "err_headers_out", "subprocess_env", "notes"]:
        t = getattr(req, name)
        out[name] = type(t).__name__
    req.notes["k"] = "v"
    req.headers_out["X-Out"] = "caf\u00e9"
    req.err_headers_out["X-Err"] = "e"
    req.subprocess_env["SE"] = "1"
    out["notes_k"] = req.notes["k"]
    out["in_latin1"] = req.headers_in.get("X-In")
    out["ua"] = req.headers_in.get("user-agent")
    req.write(json.dumps(out))
    return apache.OK

def t_range(req):
    return {"range": req.range}

def t_keep(req):
    KEPT[:] = [req, req.write, req.headers_in]
    return {"kept": True}

def t_dead(req):
    old, write, table = KEPT
    out = {"attr": _try(lambda: old.uri),
           "method": _try(lambda: write("x")),
           "setattr": _try(lambda: setattr(old, "status", 200)),
           "dictattr": _try(lambda: old.something),
           "table": _try(lambda: table["Host"]),
           "repr": repr(old).startswith("<mp_request"),
           "type": type(old).__name__}
    del KEPT[:]
    return out

def t_http09(req):
    req.assbackwards = 1
    req.write("raw body only")
    return apache.OK

def t_sub(req):
    # runs as a sub-request of the SSI page
    m = req.main
    req.content_type = "text/plain"
    req.write("main=%s;same=%s;prev=%s;next=%s" % (
        m.uri if m is not None else None,
        m is req.main, req.prev, req.next))
    return apache.OK
''' + json_call_handler(-1)

CONFIG = r"""
<Directory @DOCROOT@/app>
    SetHandler mod_python
    PythonHandler reqtest
    PythonFixupHandler reqtest::fixup
</Directory>
<Directory @DOCROOT@/app/named>
    PythonInterpreter named_one
</Directory>
<Directory @DOCROOT@/ssi>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
</Directory>
"""

FILES = {
    "htdocs/app/reqtest.py": REQTEST_PY,
    "htdocs/app/data.txt": "0123456789",
    "htdocs/app/named/keep.txt": "",
    "htdocs/ssi/page.shtml": 'A<!--#include virtual="/app/sub" -->B',
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, mpm_config=SINGLE_CHILD, modules=("include",),
                 name="reqattrs")


def getj(srv, path, **kw):
    r = srv.get(path, **kw)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.body)


def test_read_every_attribute(srv):
    d = getj(srv, "/app/read?x=1", headers={"User-Agent": "t"})
    assert d["type"] == "mp_request"
    t = {k: v[0] for k, v in d.items() if isinstance(v, list) and len(v) == 2
         and isinstance(v[0], str)}
    v = {k: d[k][1] for k in t}
    assert t["connection"] == "mp_conn" and t["server"] == "mp_server"
    assert v["next"] is None and v["prev"] is None and v["main"] is None
    assert v["the_request"] == "GET /app/read?x=1 HTTP/1.1"
    assert v["method"] == "GET" and v["method_number"] == 0
    assert v["protocol"] == "HTTP/1.1" and v["proto_num"] == 1001
    assert v["hostname"] == "127.0.0.1"
    assert t["request_time"] == "float" and v["request_time"] > 0
    assert v["status"] == 200 and v["status_line"] is None
    assert v["header_only"] == 0 and v["assbackwards"] == 0 and v["proxyreq"] == 0
    assert t["allowed"] == "int"
    assert v["allowed_xmethods"] == [] and t["allowed_xmethods"] == "tuple"
    assert v["allowed_methods"] == [] and t["allowed_methods"] == "tuple"
    for name in ("sent_bodyct", "bytes_sent", "clength", "remaining", "read_length",
                 "read_body", "read_chunked", "expecting_100", "chunked", "no_cache",
                 "no_local_copy", "eos_sent", "_content_type_set", "_bytes_queued"):
        assert t[name] == "int" and v[name] == 0, name
    assert t["mtime"] == "float" and v["mtime"] == 0.0
    assert v["range"] is None
    assert v["content_type"] is None and v["handler"] == "mod_python"
    assert v["content_encoding"] is None and v["vlist_validator"] is None
    assert v["content_languages"] == [] and t["content_languages"] == "tuple"
    assert v["user"] is None and v["ap_auth_type"] is None
    assert v["unparsed_uri"] == "/app/read?x=1" and v["uri"] == "/app/read"
    assert v["filename"] == srv.docroot + "/app/read"
    assert t["canonical_filename"] == "str"
    assert v["path_info"] == "" and v["args"] == "x=1"
    assert t["finfo"] == "mp_finfo"
    assert t["parsed_uri"] == "tuple" and d["parsed_uri_len"] == 9
    assert v["parsed_uri"][6] == "/app/read" and v["parsed_uri"][7] == "x=1"
    assert v["used_path_info"] == 2
    for name in ("headers_in", "headers_out", "err_headers_out", "subprocess_env", "notes"):
        assert t[name] == "mp_table", name
    assert v["phase"] == "PythonHandler"
    assert v["interpreter"] == "127.0.0.1"
    assert t["hlist"] == "mp_hlist" and d["hlist_handler"] == "reqtest"
    assert v["extension"] is None
    assert t["_request_rec"] == "PyCapsule"
    assert t["useragent_addr"] == "tuple" and v["useragent_addr"][0] == "127.0.0.1"
    assert isinstance(v["useragent_addr"][1], int)
    assert v["useragent_ip"] == "127.0.0.1"
    assert d["same_conn"] and d["same_server"] and d["same_headers_in"] and d["same_finfo"]


def test_read_only_attributes_rejected(srv):
    d = getj(srv, "/app/readonly")
    assert d, d
    for name, res in d.items():
        assert res in ("AttributeError", "TypeError"), (name, res)


def test_delete_rejected(srv):
    d = getj(srv, "/app/delete")
    for name, res in d.items():
        assert res in ("AttributeError", "TypeError"), (name, res)


def test_write_int_attributes(srv):
    d = getj(srv, "/app/write_ints")
    for name, res in d.items():
        assert res["set1"] == 1 and res["restored"], (name, res)
        for bad in ("str", "float", "none"):
            assert res[bad].startswith("TypeError"), (name, bad, res)
        assert res["huge"].startswith("OverflowError"), (name, res)
    assert d["chunked"]["str"] == "TypeError: chunked must be a integer"


def test_write_str_attributes(srv):
    d = getj(srv, "/app/write_strs")
    for name, res in d.items():
        assert res["str"] == "/v\u00e9", (name, res)
        assert res["bytes"] == "/b", (name, res)
        assert res["int"].startswith("TypeError"), (name, res)
        assert res["nonlatin1"] == "TypeError: not an ISO-8859-1 string", (name, res)
        if name in ("args", "handler"):
            assert res["none"] == "ok" and res["none_value"] is None, (name, res)
        else:
            assert res["none"].startswith("TypeError"), (name, res)


def test_user_is_latin1(srv):
    d = getj(srv, "/app/user_latin1")
    assert d == {"str": "j\u00f8e", "bytes": "caf\u00e9"}


def test_status_and_status_line(srv):
    r = srv.get("/app/status")
    assert r.status == 299
    assert r.reason == "Custom Thing"
    assert r.body == b"status set"


def test_content_type(srv):
    r = srv.get("/app/content_type")
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/x-mine; charset=utf-8"
    d = json.loads(r.body)
    assert d["before"] == 0 and d["after"] == 1
    assert d["bytes"] == "text/x-bytes"
    assert d["value"] == "text/x-mine; charset=utf-8"
    for bad in ("none", "int"):
        assert d[bad].startswith("TypeError"), d
    assert d["nonlatin1"] == "TypeError: not an ISO-8859-1 string"


def test_chunked_type_error_message(srv):
    assert getj(srv, "/app/chunked") == {"str": "TypeError: chunked must be a integer"}


def test_handler_accepts_none(srv):
    assert getj(srv, "/app/handler_none") == {"none": None, "back": "mod_python"}


def test_finfo_assignment(srv):
    d = getj(srv, "/app/finfo")
    assert d["before"] == 0  # APR_NOFILE: /app/finfo does not exist
    assert d["fname"] == srv.docroot + "/app/data.txt"
    assert d["size"] == 10 and d["filetype"] == 1
    assert d["str"] == "TypeError: finfo must be a finfoobject"
    assert d["none"] == "TypeError: finfo must be a finfoobject"


def test_instance_dict_persists_across_phases(srv):
    d = getj(srv, "/app/dict")
    assert d["marker"] == {"set_in": "PythonFixupHandler"}
    assert d["same_object"] is True
    assert d["in_dict"] and d["value"] == [1, 2]
    assert "marker" in d["vars"] and "new_attr" in d["vars"]


def test_tables_and_latin1_headers(srv):
    r = srv.get("/app/tables", headers={"X-In": "caf\u00e9"})   # sent as Latin-1
    assert r.status == 200
    d = json.loads(r.body)
    for name in ("headers_in", "headers_out", "err_headers_out", "subprocess_env", "notes"):
        assert d[name] == "mp_table"
    assert d["notes_k"] == "v"
    assert d["in_latin1"] == "caf\u00e9"
    # http.client decodes header bytes as Latin-1: the byte 0xE9 went out
    assert r.headers["X-Out"] == "caf\u00e9"
    assert r.headers["X-Err"] == "e"


def test_range_attribute(srv):
    # r->range is filled in by httpd's byterange filter, i.e. during output
    assert getj(srv, "/app/range", headers={"Range": "bytes=0-1"}) == {"range": None}


def test_dead_request_object_raises(srv):
    assert getj(srv, "/app/keep") == {"kept": True}
    d = getj(srv, "/app/dead")
    for key in ("attr", "method", "setattr", "dictattr"):
        assert d[key].startswith("RuntimeError"), (key, d)
    assert d["table"].startswith("RuntimeError"), d
    assert d["repr"] is True and d["type"] == "mp_request"
    srv.assert_no_crash()


def test_main_of_subrequest(srv):
    r = srv.get("/ssi/page.shtml")
    assert r.status == 200, srv.error_log()[-2000:]
    assert r.body == b"Amain=/ssi/page.shtml;same=True;prev=None;next=NoneB"


def test_assbackwards_suppresses_headers(srv):
    # HTTP/0.9-style response: the body alone, no status line, no headers
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"GET /app/http09 HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data == b"raw body only"


def test_interpreter_attribute_names_the_interpreter(srv):
    d = getj(srv, "/app/named/read")
    assert d["interpreter"] == ["str", "named_one"]


def test_no_crash(srv):
    srv.assert_no_crash()
