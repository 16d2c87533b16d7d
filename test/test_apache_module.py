"""The built-in _apache module (src/module.c, module_qs.c, module_const.c)
and the global mutexes (src/mutex.c), exercised from handlers in a real httpd.

The handlers call _apache directly, so these tests do not depend on how
mod_python.apache re-exports the functions.
"""
import json
import os
import re
import threading
import time
from urllib.parse import quote

import pytest

from harness import Httpd, SINGLE_CHILD

LEVELS = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]

HANDLER = r'''
import json, os, sys
import _apache


def t_log(req):
    for lvl in range(8):
        _apache.log_error("MPTEST-log-%d" % lvl, lvl)
    _apache.log_error("MPTEST-log-default")
    _apache.log_error("MPTEST-log-vhost", _apache.APLOG_WARNING, req.server)
    _apache.log_error(message="MPTEST-log-kw", level=_apache.APLOG_NOTICE, server=None)
    _apache.log_error("MPTEST-log-unicode \u00e9\u20ac", _apache.APLOG_NOTICE)
    _apache.log_error(None)
    errs = []
    try:
        _apache.log_error("MPTEST-log-never", 3, "not a server")
    except TypeError:
        errs.append("TypeError")
    return {"errs": errs}


def t_tree(req):
    return _apache.config_tree()


def t_root(req):
    return _apache.server_root()


def t_mpm(req):
    res = {"threaded": _apache.mpm_query(_apache.AP_MPMQ_IS_THREADED),
           "forked": _apache.mpm_query(_apache.AP_MPMQ_IS_FORKED),
           "max_daemons": _apache.mpm_query(_apache.AP_MPMQ_MAX_DAEMONS),
           "unknown": _apache.mpm_query(12345)}
    try:
        _apache.mpm_query("2")
        res["typeerror"] = False
    except TypeError:
        res["typeerror"] = True
    return res


def t_define(req):
    return {n: _apache.exists_config_define(n)
            for n in ("MP_CMDLINE_DEFINE", "MP_CONF_DEFINE", "MP_NOT_DEFINED")}


def t_stat(req):
    me = os.path.abspath(__file__)
    f = _apache.stat(me, _apache.APR_FINFO_NORM)
    g = _apache.stat(me + ".does-not-exist", _apache.APR_FINFO_NORM)
    return {"fname": f.fname, "filetype": f.filetype, "size": f.size,
            "os_size": os.path.getsize(me), "mtime": f.mtime,
            "os_mtime": int(os.stat(me).st_mtime),
            "missing_type": g.filetype, "missing_size": g.size,
            "missing_fname": g.fname,
            "APR_REG": _apache.APR_REG, "APR_NOFILE": _apache.APR_NOFILE}


def _pairs(x):
    return [list(p) for p in x]


def t_qs(req):
    qs = req.args or ""
    res = {"args": qs,
           "qsl": _pairs(_apache.parse_qsl(qs)),
           "qs": _apache.parse_qs(qs),
           "qsl_blank": _pairs(_apache.parse_qsl(qs, 1)),
           "fixed": _pairs(_apache.parse_qsl("p=2&q=tea")),
           "bytes": [[k.decode("latin-1"), v.decode("latin-1"), type(k).__name__]
                     for k, v in _apache.parse_qsl(b"a=%ff&b=x+y")],
           "latin1_fallback": _pairs(_apache.parse_qsl("k=%E9")),
           "utf8": _pairs(_apache.parse_qsl("k=%C3%A9&\u20ac=1")),
           "kw": _pairs(_apache.parse_qsl(qs="x=&y=1", keep_blank_values=True)),
           "sep": _pairs(_apache.parse_qsl("a=1;b=2&&c=3&=4&d")),
           "escapes": _pairs(_apache.parse_qsl("a=%zz&b=%4&c=%41%42")),
           }
    try:
        _apache.parse_qs(None)
        res["typeerror"] = False
    except TypeError:
        res["typeerror"] = True
    return res


def _write_marker(path):
    with open(path, "w") as f:
        f.write("MPTEST-cleanup-ran pid=%d" % os.getpid())


def _boom(data):
    raise RuntimeError("MPTEST-cleanup-boom " + str(data))


def t_cleanup(req):
    path = os.path.join(_apache.server_root(), "tmp", "cleanup-%d.txt" % os.getpid())
    _apache.register_cleanup(req.interpreter, req.server, _write_marker, path)
    _apache.register_cleanup(req.interpreter, req.server, _boom, "x")
    errs = {}
    for name, args in (("server", (req.interpreter, "nope", _write_marker)),
                       ("callable", (req.interpreter, req.server, 42))):
        try:
            _apache.register_cleanup(*args)
            errs[name] = None
        except ValueError as e:
            errs[name] = str(e)
    return {"path": path, "errs": errs}


def t_lock(req):
    s = req.server
    res = {"count": _apache._mutex_count()}
    _apache._global_lock(s, "MPTEST-key")
    res["busy"] = _apache._global_trylock(s, "MPTEST-key")
    _apache._global_unlock(s, "MPTEST-key")
    res["free"] = _apache._global_trylock(s, "MPTEST-key")
    _apache._global_unlock(s, "MPTEST-key")
    _apache._global_lock(s, None, 0)
    _apache._global_unlock(s, None, 0)
    _apache._global_lock(s, b"bytes-key")
    _apache._global_unlock(s, b"bytes-key")
    _apache._global_lock(server=s, key=12345, index=-1)
    _apache._global_unlock(server=s, key=12345)
    errs = []
    for args in ((s, "k", res["count"]), (s, "k", -2)):
        try:
            _apache._global_lock(*args)
            errs.append(None)
        except ValueError as e:
            errs.append(str(e))
    try:
        _apache._global_lock("not a server", "k")
        errs.append(None)
    except TypeError as e:
        errs.append(str(e))
    res["errs"] = errs
    return res


def t_hold(req):
    """Hold the global lock of key "MPTEST-shared" until the test says so."""
    import time
    tmp = os.path.join(_apache.server_root(), "tmp")
    _apache._global_lock(req.server, "MPTEST-shared")
    try:
        with open(os.path.join(tmp, "locked"), "w") as f:
            f.write(str(os.getpid()))
        deadline = time.monotonic() + 120
        while not os.path.exists(os.path.join(tmp, "release")):
            if time.monotonic() > deadline:
                return {"timeout": True, "pid": os.getpid()}
            time.sleep(0.05)
    finally:
        _apache._global_unlock(req.server, "MPTEST-shared")
    return {"timeout": False, "pid": os.getpid()}


def t_try(req):
    got = _apache._global_trylock(req.server, "MPTEST-shared")
    if got:
        _apache._global_unlock(req.server, "MPTEST-shared")
    return {"got": got, "pid": os.getpid()}


def t_types(req):
    E = _apache.SERVER_RETURN
    import importlib
    version = importlib.import_module("mod_python.version")
    return {"table_same": _apache.table is _apache.mp_table,
            "req": [type(req).__name__, type(req) is _apache.mp_request],
            "server": type(req.server) is _apache.mp_server,
            "conn": type(req.connection) is _apache.mp_conn,
            "new_table": type(_apache.table()).__name__,
            "exc": [E.__name__, E.__module__, issubclass(E, Exception),
                    E is _apache.SERVER_RETURN],
            "version": [_apache.MODULE_VERSION, version.version],
            "consts": {n: getattr(_apache, n) for n in (
                "AP_CONN_UNKNOWN", "AP_CONN_CLOSE", "AP_CONN_KEEPALIVE",
                "APR_NOFILE", "APR_REG", "APR_DIR", "APR_LNK", "APR_UNKFILE",
                "MODULE_MAGIC_NUMBER_MAJOR", "APR_FINFO_NORM", "APR_FINFO_MIN",
                "M_GET", "M_POST", "M_INVALID", "AP_MPMQ_IS_THREADED",
                "AP_MPMQ_MAX_DAEMONS", "AP_REQ_DEFAULT_PATH_INFO",
                "REQUEST_CHUNKED_DECHUNK", "PROXYREQ_RESPONSE",
                "REMOTE_DOUBLE_REV", "APLOG_EMERG", "APLOG_DEBUG")}}


def t_ids(req):
    return {"pid": os.getpid(), "interp": req.interpreter,
            "exc": id(_apache.SERVER_RETURN), "mod": id(_apache),
            "type": id(_apache.mp_request)}


def t_server_return(req):
    raise _apache.SERVER_RETURN(403)


def _arg(req, name):
    return _apache.parse_qs(req.args or "")[name][0]


def t_watch(req):
    path = _arg(req, "p")
    before = _apache._watch_count()
    _apache._watch(path)
    return {"mech": _apache._reload_mechanism(), "before": before,
            "after": _apache._watch_count()}


def t_poll(req):
    return {"changed": _apache._reload_poll()}


def t_take(req):
    gen, items = _apache._reload_take()
    _apache._reload_ack(gen)
    return {"gen": gen, "items": [[p, g] for p, g in items],
            "after_ack": _apache._reload_poll()}


def handler(req):
    what = req.path_info.strip("/")
    out = globals()["t_" + what](req)
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return 0
'''

CONF = """
PythonOption mod_python.mutex_locks 4
PythonAutoReload Off
Define MP_CONF_DEFINE
<Directory @DOCROOT@>
    SetHandler mod_python
    PythonHandler apachemod
    PythonDebug On
</Directory>
<Directory @DOCROOT@/other>
    PythonInterpreter MPTEST_other
</Directory>
"""

FILES = {"htdocs/apachemod.py": HANDLER, "htdocs/other/apachemod.py": HANDLER}


class DefineHttpd(Httpd):
    """The harness has no -D option: pass one on every apache2 command line."""

    def _ctl(self, *args, **kw):
        return super()._ctl("-D", "MP_CMDLINE_DEFINE", *args, **kw)


def call(srv, what, query=None, prefix=""):
    path = "%s/apachemod.py/%s" % (prefix, what)
    if query:
        path += "?" + query
    r = srv.get(path)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.text)


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files=FILES, cls=DefineHttpd, mpm_config=SINGLE_CHILD, name="apachemod")


# ------------------------------------------------------------------ logging

def test_log_error_every_level(srv):
    mark = srv.log_mark()
    assert call(srv, "log") == {"errs": ["TypeError"]}
    assert srv.wait_log("MPTEST-log-unicode", mark=mark)
    log = srv.log_since(mark)
    for lvl, name in enumerate(LEVELS):
        lines = [l for l in log.splitlines() if re.search(r"MPTEST-log-%d$" % lvl, l)]
        assert len(lines) == 1, (lvl, log)
        assert "[python:%s]" % name in lines[0], lines[0]
    for text, name in (("MPTEST-log-default", "error"), ("MPTEST-log-vhost", "warn"),
                       ("MPTEST-log-kw", "notice")):
        line = [l for l in log.splitlines() if text in l]
        assert len(line) == 1 and "[python:%s]" % name in line[0], log
    # the message goes out as UTF-8; httpd escapes non-ASCII bytes in the log
    assert "MPTEST-log-unicode \\xc3\\xa9\\xe2\\x82\\xac" in log
    assert "MPTEST-log-never" not in log


# ------------------------------------------------------------------ config and server

def test_config_tree(srv):
    tree = call(srv, "tree")
    assert ["Listen", "127.0.0.1:%d" % srv.port] in tree
    assert ["ServerName", "127.0.0.1"] in tree
    i = tree.index(["<Directory", srv.docroot + ">"])
    children = tree[i + 1]
    assert isinstance(children, list)
    assert ["SetHandler", "mod_python"] in children
    assert ["PythonHandler", "apachemod"] in children
    # a directive without children is not followed by a list
    j = tree.index(["ServerName", "127.0.0.1"])
    assert isinstance(tree[j + 1][0], str)       # a (directive, args) pair


def test_server_root(srv):
    assert call(srv, "root") == srv.root


def test_mpm_query_event(srv):
    res = call(srv, "mpm")
    assert res["threaded"] == 1          # AP_MPMQ_STATIC
    assert res["forked"] == 2            # AP_MPMQ_DYNAMIC
    assert res["max_daemons"] >= 1
    assert res["unknown"] == 0
    assert res["typeerror"] is True


def test_exists_config_define(srv):
    assert call(srv, "define") == {"MP_CMDLINE_DEFINE": True, "MP_CONF_DEFINE": True,
                                   "MP_NOT_DEFINED": False}


def test_stat(srv):
    res = call(srv, "stat")
    assert res["fname"] == os.path.join(srv.docroot, "apachemod.py")
    assert res["filetype"] == res["APR_REG"] == 1
    assert res["size"] == res["os_size"]
    assert res["mtime"] == res["os_mtime"]
    assert res["missing_type"] == res["APR_NOFILE"] == 0
    assert res["missing_size"] is None
    assert res["missing_fname"].endswith("apachemod.py.does-not-exist")


# ------------------------------------------------------------------ parse_qs

def test_parse_qs_short_pairs(srv):
    res = call(srv, "qs", "q=tea&p=2")
    assert res["args"] == "q=tea&p=2"
    assert res["qsl"] == [["q", "tea"], ["p", "2"]]
    assert res["qs"] == {"q": ["tea"], "p": ["2"]}
    assert res["fixed"] == [["p", "2"], ["q", "tea"]]


def test_parse_qs_rules(srv):
    res = call(srv, "qs", "a=1&a=2&empty=&b=x+y%21&" + quote("ü") + "=" + quote("€"))
    assert res["qsl"] == [["a", "1"], ["a", "2"], ["b", "x y!"], ["ü", "€"]]
    assert res["qs"] == {"a": ["1", "2"], "b": ["x y!"], "ü": ["€"]}
    assert ["empty", ""] in res["qsl_blank"]
    assert res["bytes"] == [["a", "\xff", "bytes"], ["b", "x y", "bytes"]]
    assert res["latin1_fallback"] == [["k", "\xe9"]]
    assert res["utf8"] == [["k", "\xe9"], ["\u20ac", "1"]]
    assert res["kw"] == [["x", ""], ["y", "1"]]
    assert res["sep"] == [["a", "1"], ["b", "2"], ["c", "3"], ["", "4"]]
    assert res["escapes"] == [["a", "%zz"], ["b", "%4"], ["c", "AB"]]
    assert res["typeerror"] is True


# ------------------------------------------------------------------ mutexes

def test_global_lock_round_trip(srv):
    res = call(srv, "lock")
    assert res["count"] == 4            # PythonOption mod_python.mutex_locks 4
    assert res["busy"] is False
    assert res["free"] is True
    msg = "Lock index is out of range for number of global mutex locks"
    assert res["errs"] == [msg, msg, "First argument must be a server object"]
    log = srv.error_log()
    assert re.search(r"\[python:notice\].*Creating 4 session mutexes based on \d+ max "
                     r"processes and \d+ max threads\.", log), log


# ------------------------------------------------------------------ types, constants, exception

def test_types_constants_exception(srv):
    res = call(srv, "types")
    assert res["table_same"] is True
    assert res["req"] == ["mp_request", True]
    assert res["server"] is True and res["conn"] is True
    assert res["new_table"] == "mp_table"
    assert res["exc"] == ["SERVER_RETURN", "_apache", True, True]
    assert res["version"][0] == res["version"][1]
    assert res["consts"] == {
        "AP_CONN_UNKNOWN": 0, "AP_CONN_CLOSE": 1, "AP_CONN_KEEPALIVE": 2,
        "APR_NOFILE": 0, "APR_REG": 1, "APR_DIR": 2, "APR_LNK": 6, "APR_UNKFILE": 127,
        "MODULE_MAGIC_NUMBER_MAJOR": 20120211, "APR_FINFO_NORM": 0x73b170,
        "APR_FINFO_MIN": 0x8170, "M_GET": 0, "M_POST": 2, "M_INVALID": 26,
        "AP_MPMQ_IS_THREADED": 2, "AP_MPMQ_MAX_DAEMONS": 12,
        "AP_REQ_DEFAULT_PATH_INFO": 2, "REQUEST_CHUNKED_DECHUNK": 2,
        "PROXYREQ_RESPONSE": 3, "REMOTE_DOUBLE_REV": 3, "APLOG_EMERG": 0,
        "APLOG_DEBUG": 7}


def test_server_return_from_handler(srv):
    r = srv.get("/apachemod.py/server_return")
    assert r.status == 403


def test_module_per_interpreter(srv):
    a = call(srv, "ids")
    b = call(srv, "ids", prefix="/other")
    assert b["interp"] == "MPTEST_other" and a["interp"] != b["interp"]
    assert a["pid"] == b["pid"]                 # one child: ids are comparable
    assert a["mod"] != b["mod"]                  # one module object per interpreter
    assert a["exc"] != b["exc"]                  # and its own SERVER_RETURN
    assert a["type"] == b["type"]                # the static types are shared
    srv.assert_no_crash()


# ------------------------------------------------------------------ reload bindings

def _poll_until_changed(srv, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if call(srv, "poll")["changed"]:
            return True
        time.sleep(0.2)
    return False


def test_reload_bindings(srv):
    path = os.path.join(srv.root, "tmp", "watched_mod.py")
    srv.write("tmp/watched_mod.py", "x = 1\n")
    res = call(srv, "watch", "p=" + quote(path))
    assert res["mech"] in ("inotify", "stat")
    assert res["after"] == res["before"] + 1
    # re-adding a watched path does not grow the table
    assert call(srv, "watch", "p=" + quote(path))["after"] == res["after"]
    assert call(srv, "poll") == {"changed": False}

    srv.write("tmp/watched_mod.py", "x = 2  # changed, longer\n")
    assert _poll_until_changed(srv)
    take = call(srv, "take")
    assert [path, False] in take["items"]
    assert take["after_ack"] is False

    os.unlink(path)
    assert _poll_until_changed(srv)
    take = call(srv, "take")
    assert [path, True] in take["items"]
    srv.assert_no_crash()


# ------------------------------------------------------------------ other MPMs, child exit

@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_register_cleanup_at_child_exit(mp_module, mpm):
    s = Httpd(CONF.replace("PythonOption mod_python.mutex_locks 4\n", ""),
              files=FILES, mpm=mpm, mpm_config=SINGLE_CHILD[mpm],
              name="apachemod-cleanup-" + mpm)
    s.start()
    try:
        res = call(s, "cleanup")
        assert res["errs"] == {"server": "second argument must be a server object",
                               "callable": "third argument must be a callable object"}
        mpmq = call(s, "mpm")
        if mpm == "prefork":
            assert mpmq["threaded"] == 0     # AP_MPMQ_NOT_SUPPORTED
        else:
            assert mpmq["threaded"] == 1
        assert mpmq["forked"] == 2
        lock = s.get("/apachemod.py/lock")
        assert not os.path.exists(res["path"])
    finally:
        s.stop(graceful=True)           # the child's exit cleanups are what we test
    assert os.path.exists(res["path"]), s.error_log()[-3000:]
    with open(res["path"]) as f:
        assert f.read().startswith("MPTEST-cleanup-ran")
    log = s.error_log()
    assert "MPTEST-cleanup-boom x" in log
    assert re.search(r"register_cleanup.*RuntimeError: MPTEST-cleanup-boom x", log), log
    s.assert_no_crash()
    # the global mutexes under this MPM (checked last: independent of the cleanups)
    assert lock.status == 200, lock
    lock = json.loads(lock.text)
    if mpm == "prefork":
        assert lock["count"] == 1        # one process, one thread: a single mutex
    else:
        assert lock["count"] == 8        # the default
    assert lock["busy"] is False and lock["free"] is True


PREFORK_TWO = """\
StartServers 2
MinSpareServers 2
MaxSpareServers 2
ServerLimit 2
MaxRequestWorkers 2
MaxConnectionsPerChild 0
"""


def test_global_lock_across_processes(mp_module):
    """A lock held by one prefork child is seen as busy by the other: the
    mutexes are shared and the key -> index function is the same in both."""
    s = Httpd(CONF.replace("mutex_locks 4", "mutex_locks 3"), files=FILES,
              mpm="prefork", mpm_config=PREFORK_TWO, name="apachemod-xproc")
    s.start()
    tmp = os.path.join(s.root, "tmp")
    holder = {}
    t = threading.Thread(target=lambda: holder.update(r=s.get("/apachemod.py/hold")))
    try:
        assert call(s, "lock")["count"] == 2      # capped: 2 processes x 1 thread
        t.start()
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(tmp, "locked")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.exists(os.path.join(tmp, "locked")), s.error_log()[-3000:]
        with open(os.path.join(tmp, "locked")) as f:
            holder_pid = int(f.read())
        busy = call(s, "try")
        assert busy["pid"] != holder_pid           # served by the other child
        assert busy["got"] is False
    finally:
        with open(os.path.join(tmp, "release"), "w"):
            pass
        t.join(60)
    try:
        assert holder["r"].status == 200
        assert json.loads(holder["r"].text) == {"timeout": False, "pid": holder_pid}
        assert call(s, "try")["got"] is True
        s.assert_no_crash()
    finally:
        s.stop()
