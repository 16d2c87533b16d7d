"""mp_server, mp_conn (attributes), mp_finfo and mp_hlist, exercised from
handlers in a real httpd (mod_python 3.5 manual: "Python API").  Connection-handler
I/O (conn.read/readline/write) is covered by test_connection_handler.py."""
import ast
import json
import os
import re
import time

import pytest

from harness import MPMS, Httpd

pytestmark = pytest.mark.mpms(*MPMS)

OBJ_PY = r'''
import json, os
from mod_python import apache

def _res(fn):
    try:
        v = fn()
        if isinstance(v, tuple):
            v = list(v)
        return {"ok": v}
    except Exception as e:
        return {"exc": type(e).__name__, "msg": str(e),
                "args": [a if isinstance(a, (int, str)) else repr(a) for a in e.args]}

def _reply(req, out):
    req.content_type = "application/json"
    req.write(json.dumps(out, default=repr))
    return apache.OK

# ------------------------------------------------------------------ server

SERVER_ATTRS = ("defn_name", "defn_line_number", "server_admin", "server_hostname",
                "port", "error_fname", "loglevel", "is_virtual", "timeout",
                "keep_alive_timeout", "keep_alive_max", "keep_alive", "path",
                "pathlen", "names", "wild_names", "limit_req_line",
                "limit_req_fieldsize", "limit_req_fields", "my_generation",
                "restart_time")

def _server_info(s):
    d = {}
    for a in SERVER_ATTRS:
        v = getattr(s, a)
        d[a] = [type(v).__name__, list(v) if isinstance(v, tuple) else v]
    return d

def _setattr(o, name, v):
    setattr(o, name, v)
    return getattr(o, name)

def _delattr(o, name):
    delattr(o, name)

def server(req):
    s = req.server
    out = {"attrs": _server_info(s), "type": type(s).__name__}
    out["capsule"] = type(s._server_rec).__name__
    out["next"] = _res(lambda: None if s.next is None else
                       [type(s.next).__name__, s.next.server_hostname, s.next is s.next])
    out["dict"] = _res(lambda: _setattr(s, "my_attr", 42))
    out["readonly"] = _res(lambda: _setattr(s, "port", 5))
    out["config"] = _res(lambda: [type(s.get_config()).__name__,
                                  s.get_config().get("PythonDebug")])
    out["options"] = _res(lambda: dict(s.get_options()))
    def live():
        s.get_options()["written"] = "w"
        return s.get_options().get("written")
    out["options_live"] = _res(live)
    out["log_none"] = _res(lambda: s.log_error(None))
    out["log_bad"] = _res(lambda: s.log_error(5))
    for lvl in range(8):
        s.log_error("srv-log-level-%d" % lvl, lvl)
    s.log_error("srv-log-default")
    s.log_error(message="srv-log-kw", level=apache.APLOG_WARNING)
    out["cleanup_not_req"] = _res(lambda: s.register_cleanup("x", len))
    out["cleanup_not_callable"] = _res(lambda: s.register_cleanup(req, 5))
    out["main_server_same_host"] = apache.main_server.server_hostname == s.server_hostname
    return _reply(req, out)

def _cleanup_cb(data):
    path, tag = data
    with open(path, "a") as f:
        f.write("%s interp=%s\n" % (tag, apache.interpreter))

def _cleanup_fail(data):
    raise ValueError("cleanup-failure-" + data)

def register(req):
    path = os.path.join(req.get_options()["tmpdir"], "cleanup-%d.txt" % os.getpid())
    req.server.register_cleanup(req, _cleanup_cb, (path, "first"))
    req.server.register_cleanup(req, _cleanup_cb, (path, "second"))
    req.server.register_cleanup(req, _cleanup_fail, "boom")
    return _reply(req, {"pid": os.getpid(), "interp": apache.interpreter})

# ------------------------------------------------------------------ conn

def conn(req):
    c = req.connection
    out = {"type": type(c).__name__, "same": c is req.connection}
    for a in ("local_addr", "client_addr", "client_ip", "remote_host", "remote_logname",
              "aborted", "keepalive", "double_reverse", "keepalives", "local_ip",
              "local_host", "id"):
        v = getattr(c, a)
        out[a] = [type(v).__name__, list(v) if isinstance(v, tuple) else v]
    out["remote_ip"] = c.remote_ip
    out["remote_addr"] = list(c.remote_addr)
    out["hlist"] = _res(lambda: c.hlist)
    out["capsule"] = type(c._conn_rec).__name__
    out["base_server"] = [type(c.base_server).__name__, c.base_server.server_hostname]
    def notes():
        c.notes["cnote"] = "cv"
        return [type(c.notes).__name__, c.notes["CNOTE"], c.notes is c.notes]
    out["notes"] = _res(notes)
    def keepalive():
        old = c.keepalive
        c.keepalive = apache.AP_CONN_KEEPALIVE
        v = c.keepalive
        c.keepalive = old
        return v
    out["keepalive_set"] = _res(keepalive)
    out["keepalive_str"] = _res(lambda: _setattr(c, "keepalive", "1"))
    out["set_id"] = _res(lambda: _setattr(c, "id", 5))
    out["set_unknown"] = _res(lambda: _setattr(c, "foo", 5))
    out["del_keepalive"] = _res(lambda: _delattr(c, "keepalive"))
    out["del_id"] = _res(lambda: _delattr(c, "id"))
    out["log"] = _res(lambda: c.log_error("conn-log-msg", apache.APLOG_WARNING))
    out["log_none"] = _res(lambda: c.log_error(None))
    return _reply(req, out)

# ------------------------------------------------------------------ finfo

FINFO_ATTRS = ("fname", "filetype", "valid", "protection", "user", "group", "inode",
               "device", "nlink", "size", "atime", "mtime", "ctime", "name")

def _finfo_dict(f):
    return {a: getattr(f, a) for a in FINFO_ATTRS}

def finfo(req):
    f = req.finfo
    out = {"type": type(f).__name__, "attrs": _finfo_dict(f), "repr": repr(f)}
    out["seq"] = [f[i] for i in range(13)]
    out["filetype_index"] = f[apache.FINFO_FILETYPE]
    out["index13"] = _res(lambda: f[13])
    out["len"] = _res(lambda: len(f))
    out["bogus"] = _res(lambda: f.bogus)
    out["readonly"] = _res(lambda: _setattr(f, "size", 1))
    path = req.filename
    st = apache.stat(path, apache.APR_FINFO_NORM)
    out["stat"] = _finfo_dict(st)
    out["stat_seq"] = [st[i] for i in range(13)]
    out["stat_missing"] = _finfo_dict(apache.stat(path + ".missing", apache.APR_FINFO_NORM))
    out["stat_missing_seq"] = [apache.stat(path + ".missing", apache.APR_FINFO_NORM)[i]
                               for i in range(13)]
    out["stat_dir"] = apache.stat(os.path.dirname(path), apache.APR_FINFO_NORM).filetype
    out["stat_notdir"] = _res(lambda: apache.stat(path + "/inside", apache.APR_FINFO_NORM))
    out["stat_incomplete"] = _res(lambda: _finfo_dict(
        apache.stat(path, apache.APR_FINFO_NAME | apache.APR_FINFO_SIZE)))
    other = os.path.join(os.path.dirname(path), "other.txt")
    def assign():
        req.finfo = apache.stat(other, apache.APR_FINFO_NORM)
        return [req.finfo.fname, req.finfo.size, f.fname]
    out["assign"] = _res(assign)
    return _reply(req, out)

# ------------------------------------------------------------------ hlist

def _hl(h):
    return [type(h).__name__, h.handler, h.directory, h.is_location, h.silent, repr(h)]

def hlist(req):
    h = req.hlist
    out = {"cur": _hl(h)}
    h.next()
    out["end"] = _hl(h)
    h.next()                          # stays at the end
    out["end2"] = _hl(h)
    out["conn_hlist"] = req.connection.hlist is None
    return _reply(req, out)

def loc(req):
    return _reply(req, {"cur": _hl(req.hlist)})

def s1(req):
    req.content_type = "text/plain"
    req.write("s1:%s|" % req.hlist.handler)
    req.add_handler("PythonHandler", "objtest::added")
    req.write("after-add:%s|" % req.hlist.handler)
    return apache.OK

def s2(req):
    req.write("s2:%s|" % req.hlist.handler)
    return apache.OK

def added(req):
    req.write("added:%s:%s|" % (req.hlist.handler, req.hlist.directory is not None))
    return apache.OK
'''

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
PythonDebug On
PythonOption srvopt srvval
PythonOption tmpdir @ROOT@/tmp
Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName vhost.example
    ServerAlias alias1.example *.wild.example
    ServerAdmin admin@vhost.example
    ServerPath /sp
    PythonOption vhostopt vval
</VirtualHost>
<Directory @DOCROOT@/server>
    SetHandler mod_python
    PythonHandler objtest::server
</Directory>
<Directory @DOCROOT@/conn>
    SetHandler mod_python
    PythonHandler objtest::conn
</Directory>
<Directory @DOCROOT@/finfo>
    SetHandler mod_python
    PythonHandler objtest::finfo
</Directory>
<Directory @DOCROOT@/hlist>
    SetHandler mod_python
    PythonHandler objtest::hlist
</Directory>
<Directory @DOCROOT@/stack>
    SetHandler mod_python
    PythonHandler objtest::s1
    PythonHandler objtest::s2
</Directory>
<Location /loc>
    SetHandler mod_python
    PythonHandler objtest::loc
</Location>
'''

FILES = {
    "lib/objtest.py": OBJ_PY,
    "htdocs/server/x": "x",
    "htdocs/conn/x": "x",
    "htdocs/finfo/data.txt": "hello\n",
    "htdocs/finfo/other.txt": "other file\n",
    "htdocs/hlist/x": "x",
    "htdocs/stack/x": "x",
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="objs")


def getjson(srv, path, port=None):
    r = srv.get(path, port=port)
    assert r.status == 200, r.text
    return json.loads(r.body)


# ---------------------------------------------------------------- server

def test_server_attributes_main(srv):
    out = getjson(srv, "/server/x")
    a = out["attrs"]
    assert out["type"] == "mp_server"
    assert out["capsule"] == "PyCapsule"
    assert a["server_hostname"] == ["str", "127.0.0.1"]
    assert a["is_virtual"] == ["int", 0]
    assert a["port"][0] == "int"
    assert a["loglevel"] == ["int", 6]                  # LogLevel info
    assert a["timeout"] == ["float", 60.0]              # Timeout 60
    assert a["keep_alive_timeout"] == ["float", 5.0]
    assert a["keep_alive"] == ["int", 1]
    assert a["keep_alive_max"] == ["int", 100]
    assert a["error_fname"][1].endswith("error_log")
    assert a["names"] == ["tuple", []] and a["wild_names"] == ["tuple", []]
    assert a["path"] == ["NoneType", None] and a["pathlen"] == ["int", 0]
    assert a["limit_req_line"] == ["int", 8190]
    assert a["limit_req_fieldsize"] == ["int", 8190]
    assert a["limit_req_fields"] == ["int", 100]
    assert a["my_generation"][0] == "int"
    assert a["restart_time"][0] == "float"
    assert abs(a["restart_time"][1] - time.time()) < 24 * 3600
    assert a["defn_line_number"][0] == "int"
    assert out["next"] == {"ok": ["mp_server", "vhost.example", True]}
    assert out["main_server_same_host"] is True


def test_server_attributes_vhost(srv):
    out = getjson(srv, "/server/x", port=srv.port2)
    a = out["attrs"]
    assert a["server_hostname"] == ["str", "vhost.example"]
    assert a["is_virtual"] == ["int", 1]
    assert a["server_admin"] == ["str", "admin@vhost.example"]
    assert a["names"] == ["tuple", ["alias1.example"]]
    assert a["wild_names"] == ["tuple", ["*.wild.example"]]
    assert a["path"] == ["str", "/sp"] and a["pathlen"] == ["int", 3]
    assert a["defn_name"][1].endswith("httpd.conf")
    assert a["defn_line_number"][1] > 0
    assert out["next"] == {"ok": None}
    assert out["options"]["ok"]["vhostopt"] == "vval"
    assert out["options"]["ok"]["srvopt"] == "srvval"


def test_server_dict_and_readonly(srv):
    out = getjson(srv, "/server/x")
    assert out["dict"] == {"ok": 42}
    assert out["readonly"]["exc"] == "AttributeError"


def test_server_config_and_options(srv):
    out = getjson(srv, "/server/x")
    assert out["config"] == {"ok": ["mp_table", "1"]}
    assert out["options"]["ok"]["srvopt"] == "srvval"
    assert "vhostopt" not in out["options"]["ok"]
    assert out["options_live"] == {"ok": "w"}


def test_server_log_error_all_levels(srv):
    mark = srv.log_mark()
    out = getjson(srv, "/server/x")
    assert out["log_none"] == {"ok": None}
    assert out["log_bad"]["exc"] == "TypeError"
    names = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]
    assert srv.wait_log("srv-log-kw", mark=mark)
    log = srv.log_since(mark)
    for lvl, name in enumerate(names):
        lines = [l for l in log.splitlines() if "srv-log-level-%d" % lvl in l]
        assert lines, "level %d not logged" % lvl
        # APLOG_EMERG (0) is logged at emerg, not turned into the default
        assert ":%s]" % name in lines[0], lines[0]
    line = [l for l in log.splitlines() if "srv-log-default" in l][0]
    assert ":error]" in line
    line = [l for l in log.splitlines() if "srv-log-kw" in l][0]
    assert ":warn]" in line


def test_server_register_cleanup_errors(srv):
    out = getjson(srv, "/server/x")
    assert out["cleanup_not_req"]["exc"] == "ValueError"
    assert out["cleanup_not_req"]["msg"] == "first argument must be a request object"
    assert out["cleanup_not_callable"]["exc"] == "ValueError"
    assert out["cleanup_not_callable"]["msg"] == "second argument must be a callable object"


def test_server_register_cleanup_runs_at_child_exit():
    conf = CONFIG + r'''
<Directory @DOCROOT@/reg>
    SetHandler mod_python
    PythonInterpreter cleanup_interp
    PythonHandler objtest::register
</Directory>
'''
    files = dict(FILES)
    files["htdocs/reg/x"] = "x"
    s = Httpd(conf, files=files, mpm="prefork", name="cleanup")
    s.start()
    try:
        out = getjson(s, "/reg/x")
        assert out["interp"] == "cleanup_interp"
    finally:
        s.stop(graceful=True)           # the child's exit cleanups are what we test
    path = os.path.join(s.root, "tmp", "cleanup-%d.txt" % out["pid"])
    assert os.path.exists(path), s.error_log()[-3000:]
    with open(path) as f:
        lines = f.read().splitlines()
    # newest first, each in the interpreter that registered it
    assert lines == ["second interp=cleanup_interp", "first interp=cleanup_interp"]
    assert "cleanup-failure-boom" in s.error_log()
    s.assert_no_crash()


# ---------------------------------------------------------------- conn

def test_conn_attributes(srv):
    mark = srv.log_mark()
    out = getjson(srv, "/conn/x")
    assert out["type"] == "mp_conn" and out["same"] is True
    assert out["local_addr"] == ["tuple", ["127.0.0.1", srv.port]]
    assert out["client_addr"][0] == "tuple"
    assert out["client_addr"][1][0] == "127.0.0.1"
    assert isinstance(out["client_addr"][1][1], int)
    assert out["client_ip"] == ["str", "127.0.0.1"]
    assert out["local_ip"] == ["str", "127.0.0.1"]
    assert out["remote_host"][0] in ("NoneType", "str")
    assert out["remote_logname"] == ["NoneType", None]
    assert out["aborted"] == ["int", 0]
    assert out["keepalive"][0] == "int"
    assert out["double_reverse"] == ["int", 0]
    assert out["keepalives"][0] == "int"
    assert out["id"][0] == "int"
    assert out["local_host"][0] in ("NoneType", "str")
    assert out["capsule"] == "PyCapsule"
    assert out["base_server"] == ["mp_server", "127.0.0.1"]
    assert out["notes"] == {"ok": ["mp_table", "cv", True]}
    assert out["log"] == {"ok": None} and out["log_none"] == {"ok": None}
    # deprecated aliases answer and log a warning
    assert out["remote_ip"] == "127.0.0.1"
    assert out["remote_addr"] == out["client_addr"][1]
    assert srv.wait_log("conn.remote_addr is deprecated", mark=mark)
    log = srv.log_since(mark)
    assert "conn.remote_ip is deprecated" in log
    warn = [l for l in log.splitlines() if "conn.remote_ip is deprecated" in l][0]
    assert ":warn]" in warn
    assert "conn-log-msg" in log


def test_conn_hlist_is_none_in_request_handler(srv):
    out = getjson(srv, "/conn/x")
    assert out["hlist"] == {"ok": None}


def test_conn_keepalive_writable_int_only(srv):
    out = getjson(srv, "/conn/x")
    assert out["keepalive_set"] == {"ok": 2}          # AP_CONN_KEEPALIVE
    assert out["keepalive_str"]["exc"] == "TypeError"


def test_conn_readonly_and_no_delete(srv):
    out = getjson(srv, "/conn/x")
    assert out["set_id"]["exc"] == "AttributeError"
    assert out["set_unknown"]["exc"] == "AttributeError"
    for k in ("del_keepalive", "del_id"):
        assert out[k]["exc"] == "AttributeError"
        assert out[k]["msg"] == "can't delete connection attributes"


# ---------------------------------------------------------------- finfo

def _apr_prot(mode):
    """APR's protection bits for a POSIX mode (0644 -> 0x644)."""
    return int(oct(mode & 0o777)[2:], 16)


def test_req_finfo(srv):
    out = getjson(srv, "/finfo/data.txt")
    path = os.path.join(srv.docroot, "finfo", "data.txt")
    st = os.stat(path)
    a = out["attrs"]
    assert out["type"] == "mp_finfo"
    assert a["fname"] == path
    assert a["filetype"] == 1                            # APR_REG
    assert a["size"] == 6
    assert a["mtime"] == int(st.st_mtime)
    bits = {"protection": 0x700000, "user": 0x10000, "group": 0x20000,
            "inode": 0x2000, "device": 0x1000, "nlink": 0x4000, "size": 0x100,
            "atime": 0x40, "mtime": 0x10, "ctime": 0x20, "name": 0x2000000}
    for name, bit in bits.items():
        if not a["valid"] & bit:
            assert a[name] is None, name
    # sequence access, including index 12 (FINFO_FILETYPE; IndexError in 3.5)
    order = ["protection", "inode", "device", "nlink", "user", "group", "size",
             "atime", "mtime", "ctime", "fname", "name", "filetype"]
    assert out["seq"] == [a[k] for k in order]
    assert out["filetype_index"] == 1
    assert out["index13"]["exc"] == "IndexError"
    assert out["len"]["exc"] == "TypeError"
    assert out["bogus"] == {"exc": "AttributeError",
                            "msg": "class 'mp_finfo' has no attribute 'bogus'",
                            "args": ["class 'mp_finfo' has no attribute 'bogus'"]}
    assert out["readonly"]["exc"] == "AttributeError"


def test_finfo_repr(srv):
    out = getjson(srv, "/finfo/data.txt")
    d = ast.literal_eval(out["repr"])
    assert list(d) == ["fname", "filetype", "valid", "protection", "user", "group",
                       "size", "inode", "device", "nlink", "atime", "mtime", "ctime",
                       "name"]
    assert d == out["attrs"]


def test_apache_stat(srv):
    out = getjson(srv, "/finfo/data.txt")
    path = os.path.join(srv.docroot, "finfo", "data.txt")
    st = os.stat(path)
    a = out["stat"]
    assert a["fname"] == path and a["filetype"] == 1
    assert a["size"] == 6 and a["nlink"] == 1
    assert a["inode"] == st.st_ino and a["device"] == st.st_dev
    assert a["user"] == st.st_uid and a["group"] == st.st_gid
    assert a["protection"] == _apr_prot(st.st_mode)
    assert a["mtime"] == int(st.st_mtime) and a["ctime"] == int(st.st_ctime)
    assert a["name"] is None                             # not requested
    assert out["stat_seq"][12] == 1 and out["stat_seq"][6] == 6
    assert out["stat_dir"] == 2                          # APR_DIR


def test_apache_stat_missing_file(srv):
    out = getjson(srv, "/finfo/data.txt")
    path = os.path.join(srv.docroot, "finfo", "data.txt")
    m = out["stat_missing"]
    assert m["fname"] == path + ".missing"
    assert m["filetype"] == 0                            # APR_NOFILE
    assert all(v is None for k, v in m.items() if k not in ("fname", "filetype")), m
    assert out["stat_missing_seq"][12] == 0


def test_apache_stat_error_raises_oserror(srv):
    out = getjson(srv, "/finfo/data.txt")
    r = out["stat_notdir"]
    assert r["exc"] in ("OSError", "NotADirectoryError")
    assert r["args"] == [20, "apr_stat() failed"]        # ENOTDIR


def test_apache_stat_incomplete_returns_object(srv):
    out = getjson(srv, "/finfo/data.txt")
    assert out["stat_incomplete"]["ok"]["size"] == 6


def test_req_finfo_assignment(srv):
    out = getjson(srv, "/finfo/data.txt")
    other = os.path.join(srv.docroot, "finfo", "other.txt")
    # the view kept before the assignment sees the new struct (it is live)
    assert out["assign"] == {"ok": [other, 11, other]}


# ---------------------------------------------------------------- hlist

def test_hlist_attributes_and_next(srv):
    out = getjson(srv, "/hlist/x")
    d = os.path.join(srv.docroot, "hlist") + "/"
    assert out["cur"][:5] == ["mp_hlist", "objtest::hlist", d, 0, 0]
    assert out["cur"][5] == ("{'handler':'objtest::hlist','directory':%r,"
                             "'is_location':False,'silent':0}" % d)
    assert out["end"][:5] == ["mp_hlist", None, None, None, None]
    assert out["end2"] == out["end"]
    assert out["conn_hlist"] is True


def test_hlist_location(srv):
    out = getjson(srv, "/loc")
    assert out["cur"][1] == "objtest::loc"
    assert out["cur"][3] == 1
    assert out["cur"][2] == "/loc"
    assert "'is_location':True" in out["cur"][5]


def test_hlist_stacked_and_add_handler(srv):
    r = srv.get("/stack/x")
    assert r.status == 200, r.text
    parts = r.text.split("|")
    assert parts[:4] == ["s1:objtest::s1", "after-add:objtest::s1", "s2:objtest::s2",
                         "added:objtest::added:False"]   # no dir: None (as 3.5)
    srv.assert_no_crash()


# ---------------------------------------------------------------- conn I/O edge cases
# (the plain echo protocol is in test_connection_handler.py; these cover the
# read variants, input kept between calls, end of stream and write types)

CONNIO_PY = r'''
from mod_python import apache

def connectionhandler(conn):
    conn.write(b"ready\n")
    mode = conn.readline()
    if mode is None:
        return apache.OK
    mode = mode.strip().decode()
    if mode == "read5":
        got, sizes = b"", []
        while len(got) < 10:
            d = conn.read(5)
            if d is None:
                break
            sizes.append(len(d))
            got += d
        conn.write(b"got:%s:max=%d\n" % (got, max(sizes)))
    elif mode == "readline_len":
        a = conn.readline(4)          # the rest of the line is kept
        b = conn.readline()
        conn.write(b"a=%r b=%r\n" % (a, b))
    elif mode == "kept_then_read":
        a = conn.readline(2)
        b = conn.read()               # returns the kept input, no waiting
        conn.write(b"a=%r b=%r\n" % (a, b))
    elif mode == "all":
        data = conn.read(-1)          # until the client closes
        again = conn.read()
        line = conn.readline()
        conn.write(b"all=%r again=%r line=%r\n" % (data, again, line))
    elif mode == "write_types":
        conn.write(bytearray(b"ba\n"))
        conn.write(memoryview(b"mv\n"))
        conn.write("")
        conn.write(b"")
        conn.write("caf\u00e9\n")
        try:
            conn.write(5)
        except TypeError:
            conn.write("typeerror\n")
        try:
            conn.read(-2)
        except ValueError:
            conn.write("valueerror\n")
    elif mode == "hlist":
        h = conn.hlist
        conn.write(("%s|%s|%s|%r\n" % (type(h).__name__, h.handler, h.silent, h)).encode())
    return apache.OK
'''

CONNIO_CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
Listen 127.0.0.1:@PORT2@ connio
AcceptFilter connio none
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName connio.test
    PythonConnectionHandler connio
</VirtualHost>
'''


@pytest.fixture(scope="module")
def connsrv(httpd):
    return httpd(CONNIO_CONFIG, files={"lib/connio.py": CONNIO_PY}, name="connio")


class _Client:
    def __init__(self, port):
        import socket
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
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

    def rest(self):
        out, self.buf = self.buf, b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                return out
            out += data

    def close(self):
        self.sock.close()


def _session(srv, payload, shut=False):
    import socket
    c = _Client(srv.port2)
    try:
        assert c.readline() == b"ready\n"
        c.sock.sendall(payload)
        if shut:
            c.sock.shutdown(socket.SHUT_WR)
        return c.rest()
    finally:
        c.close()


def test_conn_read_len(connsrv):
    assert _session(connsrv, b"read5\nabcdefghij") == b"got:abcdefghij:max=5\n"


def test_conn_readline_len_keeps_rest(connsrv):
    assert _session(connsrv, b"readline_len\nabcdefgh\n") == b"a=b'abcd' b=b'efgh\\n'\n"


def test_conn_read_returns_kept_input(connsrv):
    assert _session(connsrv, b"kept_then_read\nxyz123\n") == b"a=b'xy' b=b'z123\\n'\n"


def test_conn_read_exhaustive_and_end_of_stream(connsrv):
    out = _session(connsrv, b"all\nsome data\nmore", shut=True)
    assert out == b"all=b'some data\\nmore' again=None line=None\n"


def test_conn_write_types(connsrv):
    out = _session(connsrv, b"write_types\n")
    assert out == b"ba\nmv\ncaf\xc3\xa9\ntypeerror\nvalueerror\n"


def test_conn_hlist_in_connection_handler(connsrv):
    out = _session(connsrv, b"hlist\n")
    assert out == (b"mp_hlist|connio|0|{'handler':'connio','is_location':False,"
                   b"'silent':0}\n")
