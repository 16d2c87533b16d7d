"""mod_python.Session (mod_python 3.5 manual: "Session - Session Management") against a
real httpd.

Every session type keeps a counter across requests through the session
cookie; timeouts, invalidate(), signed session cookies, the PythonOption
keys (new and legacy names), the Session() factory, cleanup of each
storage, locking (parallel requests on one session are serialised; a
handler that raises leaves no lock behind) and the FileSession first-save
race (two first saves of one new session in 3.5).

Multi-process servers (event, prefork) run FileSession and DbmSession;
MemorySession runs on single-child servers (harness SINGLE_CHILD).
"""
import json
import os
import pwd
import re
import threading
import time

import pytest

from harness import SINGLE_CHILD

pytestmark = pytest.mark.mpms("event", "prefork")

WWW_DATA = pwd.getpwnam("www-data").pw_uid

HANDLER = r'''
import json, os, time, urllib.parse
import dbm
from mod_python import apache, Session


def _args(req):
    return {k: v[-1] for k, v in urllib.parse.parse_qs(req.args or "").items()}


def _session(req, a):
    kw = {}
    if "secret" in a:
        kw["secret"] = a["secret"]
    if "timeout" in a:
        kw["timeout"] = int(a["timeout"])
    if "lock" in a:
        kw["lock"] = int(a["lock"])
    if "sid" in a:
        kw["sid"] = a["sid"]
    kind = a.get("kind")
    cls = getattr(Session, kind) if kind else Session.Session
    return cls(req, **kw)


def _reply(req, out):
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK


def handler(req):
    a = _args(req)
    op = a.get("op", "counter")
    opts = req.get_options()
    if op == "dbmkeys":
        d = os.path.join(opts["mod_python.session.database_directory"], "mp_sess.dbm")
        db = dbm.open(d, "c")
        try:
            return _reply(req, sorted(k.decode() for k in db.keys()))
        finally:
            db.close()
    if op == "memkeys":
        return _reply(req, sorted(Session.MemorySession.sdict))
    if op == "tempdir":
        return _reply(req, Session.tempdir)
    try:
        s = _session(req, a)
    except ValueError as e:
        return _reply(req, {"error": "ValueError", "msg": str(e)})
    out = {"id": s.id(), "new": s.is_new(), "type": type(s).__name__,
           "timeout": s.timeout()}
    if op == "counter":
        n = s.get("n", 0)
        if "sleep" in a:
            time.sleep(float(a["sleep"]))
        s["n"] = n + 1
        s.save()
        out["n"] = s["n"]
    elif op == "peek":
        out["n"] = s.get("n")
        out["created"] = s.created()
        out["accessed"] = s.last_accessed()
    elif op == "settimeout":
        s.set_timeout(int(a["secs"]))
        s["n"] = s.get("n", 0) + 1
        s.save()
        out["n"] = s["n"]
    elif op == "invalidate":
        s.invalidate()
        s["n"] = 99
        s.save()                  # does nothing after invalidate()
    elif op == "cleanup":
        s.cleanup()
    elif op == "crash":
        raise RuntimeError("MPTEST crash while holding the session lock")
    elif op == "mutex":
        # the session lock is the mutex _global_lock(server, sid) picks
        import _apache
        got = _apache._global_trylock(req.server, s.id())
        if got:
            _apache._global_unlock(req.server, s.id())
        out["busy"] = not got
        n = _apache._mutex_count()
        idx = Session._mutex_index(s.id())
        out["index_ok"] = (1 <= idx < n) if n > 1 else idx == 0
        free = [i for i in range(1, n) if i != idx]
        if free:
            got = _apache._global_trylock(req.server, None, free[0])
            if got:
                _apache._global_unlock(req.server, None, free[0])
            out["other_free"] = bool(got)
    elif op == "twice":
        # a second object for the same session in the same request must not
        # dead-lock against the first one's lock
        t = _session(req, dict(a, sid=s.id()))
        out["same"] = t.id() == s.id()
        t.unlock()
        s["n"] = s.get("n", 0) + 1
        s.save()
        out["n"] = s["n"]
    return _reply(req, out)
'''

STORE = "@ROOT@/tmp/store"

CONF = r'''
PythonDebug On
# no random cleanup (1 in 1000 session objects): the cleanup tests call it
PythonOption mod_python.session.cleanup_chance 0
<Directory "@DOCROOT@/s">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.database_directory @ROOT@/tmp/store
</Directory>
<Directory "@DOCROOT@/opt">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.cookie_name mysid
    PythonOption mod_python.session.application_path /opt
    PythonOption mod_python.session.application_domain example.test
    PythonOption mod_python.file_session.database_directory @ROOT@/tmp/optstore
</Directory>
<Directory "@DOCROOT@/legacy">
    SetHandler mod_python
    PythonHandler sess
    PythonOption session DbmSession
    PythonOption session_cookie_name oldsid
    PythonOption ApplicationPath /legacy
    PythonOption session_dbm @ROOT@/tmp/legacy.dbm
</Directory>
<Directory "@DOCROOT@/deflt">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
</Directory>
<Directory "@DOCROOT@/defltdbm">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type DbmSession
</Directory>
<Directory "@DOCROOT@/chance">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.database_directory @ROOT@/tmp/chancestore
    PythonOption mod_python.session.cleanup_chance 1
</Directory>
<Directory "@DOCROOT@/auto">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.database_directory @ROOT@/tmp/autostore
</Directory>
<Directory "@DOCROOT@/bad">
    SetHandler mod_python
    PythonHandler sess
    # the legacy key: not checked at config time, so the runtime error shows
    PythonOption session NoSuchSession
</Directory>
<Directory "@DOCROOT@/race">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.database_directory @ROOT@/tmp/racestore
</Directory>
<Directory "@DOCROOT@/verify">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.database_directory @ROOT@/tmp/verifystore
    PythonOption mod_python.file_session.enable_fast_cleanup On
    PythonOption mod_python.file_session.verify_session_timeout yes
    PythonOption mod_python.file_session.cleanup_grace_period 0
    PythonOption mod_python.file_session.cleanup_time_limit 0
</Directory>
<Directory "@DOCROOT@/fast">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.database_directory @ROOT@/tmp/faststore
    PythonOption session_fast_cleanup true
    PythonOption session_verify_cleanup 0
    PythonOption session_grace_period 0
    PythonOption session_cleanup_time_limit 0
</Directory>
'''

DIRS = ("s", "opt", "legacy", "deflt", "defltdbm", "chance", "auto", "bad", "race",
        "verify", "fast")
FILES = {"htdocs/%s/sess.py" % d: HANDLER for d in DIRS}

MULTI_KINDS = ("FileSession", "DbmSession")
SINGLE_KINDS = ("MemorySession", "FileSession", "DbmSession")


@pytest.fixture(scope="module", params=[False, True], ids=["multi", "single"])
def srv(request, httpd):
    single = request.param
    s = httpd(CONF, files=FILES, name="session-single" if single else "session",
              mpm_config=SINGLE_CHILD if single else None)
    s.single = single
    s.kinds = SINGLE_KINDS if single else MULTI_KINDS
    yield s
    s.stop()          # one at a time; the factory checks its log at the end


def _cookies(resp):
    """{name: (value, attribute text)} from the Set-Cookie headers."""
    out = {}
    for h in resp.headers.get_all("Set-Cookie"):
        nv, _, attrs = h.partition(";")
        name, _, value = nv.partition("=")
        out[name.strip()] = (value.strip(), attrs)
    return out


def call(srv, path, cookie=None, **args):
    q = "&".join("%s=%s" % kv for kv in args.items())
    headers = {"Cookie": cookie} if cookie else None
    r = srv.get(path + ("?" + q if q else ""), headers=headers, timeout=20)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return r, r.headers.get("Content-Type", "").startswith("application/json") and \
        json.loads(r.body)


def new_session(srv, kind, path="/s/sess.py", **args):
    r, out = call(srv, path, kind=kind, **args)
    assert out["new"] is True
    value, attrs = _cookies(r)["pysid"]
    assert value == out["id"]
    return "pysid=" + value, out


# ------------------------------------------------------------------ basics

def test_counter_across_requests(srv):
    for kind in srv.kinds:
        r, out = call(srv, "/s/sess.py", kind=kind)
        assert out["type"] == kind and out["new"] is True and out["n"] == 1
        assert re.fullmatch(r"[0-9a-f]{32}", out["id"])
        cookies = _cookies(r)
        value, attrs = cookies["pysid"]
        assert value == out["id"]
        # path = the handler's directory relative to the document root
        assert "path=/s/" in attrs
        assert r.headers["Cache-Control"] == 'no-cache="set-cookie"'
        cookie = "pysid=" + value
        for i in range(2, 5):
            r, out2 = call(srv, "/s/sess.py", cookie=cookie, kind=kind)
            assert out2["id"] == out["id"] and out2["new"] is False
            assert out2["n"] == i
            assert "Set-Cookie" not in r.headers        # only for new sessions
            assert out2["timeout"] == 1800


def test_session_ids_unique(srv):
    ids = {call(srv, "/s/sess.py", kind=srv.kinds[0], op="peek")[1]["id"]
           for _ in range(20)}
    assert len(ids) == 20


def test_created_and_accessed(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind)
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="peek")
        assert out["n"] == 1
        assert 0 < out["created"] <= out["accessed"] <= time.time() + 1


def test_unsaved_changes_are_lost(srv):
    for kind in srv.kinds:
        cookie, _ = new_session(srv, kind)
        call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="peek")
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="peek")
        assert out["n"] == 1


def test_invalid_cookie_gives_new_session(srv):
    for kind in srv.kinds:
        for bad in ("nothex", "A" * 32, "0" * 31, "../../etc/passwd"):
            r, out = call(srv, "/s/sess.py", cookie="pysid=" + bad, kind=kind)
            assert out["new"] is True and out["id"] != bad and out["n"] == 1


def test_explicit_sid(srv):
    kind = srv.kinds[0]
    cookie, first = new_session(srv, kind)
    _, out = call(srv, "/s/sess.py", kind=kind, sid=first["id"])
    assert out["id"] == first["id"] and out["new"] is False and out["n"] == 2
    _, out = call(srv, "/s/sess.py", kind=kind, sid="xyz")
    assert out == {"error": "ValueError", "msg": "Invalid Session ID: sid=xyz"}


def test_explicit_timeout(srv):
    for kind in srv.kinds:
        cookie, out = new_session(srv, kind, timeout=77)
        assert out["timeout"] == 77
        # ignored for an existing session: the stored timeout wins
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, timeout=5)
        assert out["timeout"] == 77


def test_timeout_expiry(srv):
    cookies = {}
    for kind in srv.kinds:
        cookie, _ = new_session(srv, kind)
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="settimeout",
                      secs=1)
        assert out["n"] == 2
        cookies[kind] = (cookie, out["id"])
    time.sleep(2.2)           # longer than the 1 s timeout: expired whatever the speed
    for kind, (cookie, sid) in cookies.items():
        r, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind)
        assert out["new"] is True and out["id"] != sid and out["n"] == 1
        assert _cookies(r)["pysid"][0] == out["id"]


def test_invalidate(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind)
        r, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="invalidate")
        value, attrs = _cookies(r)["pysid"]
        assert value == first["id"]
        assert "expires=Thu, 01-Jan-1970 00:00:00 GMT" in attrs
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind)
        assert out["new"] is True and out["id"] != first["id"] and out["n"] == 1


def test_no_lock(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind, lock=0)
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, lock=0)
        assert out["id"] == first["id"] and out["n"] == 2


def _probe_until(srv, key, want, **args):
    """op=mutex until out[key] == want (at most 60 s): a request releases its
    session lock in a request cleanup, after its response, so the previous
    request of the test may still hold a mutex for a moment."""
    deadline = time.time() + 60
    while True:
        _, out = call(srv, "/s/sess.py", op="mutex", **args)
        if out.get(key, want) == want or time.time() > deadline:
            return out
        time.sleep(0.05)


def test_lock_is_the_sessions_global_mutex(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind)
        out = _probe_until(srv, "other_free", True, cookie=cookie, kind=kind)
        assert out["busy"] is True and out["index_ok"] is True
        assert out.get("other_free", True) is True
        # lock=0 takes no lock (were it taken, the probe would find it busy
        # every time)
        out = _probe_until(srv, "busy", False, cookie=cookie, kind=kind, lock=0)
        assert out["busy"] is False


def test_two_objects_one_session_one_request(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind)
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="twice")
        assert out["same"] is True and out["n"] == 2


# ------------------------------------------------------------------ signed

def test_signed_session_cookie(srv):
    kind = srv.kinds[0]
    r, out = call(srv, "/s/sess.py", kind=kind, secret="t0ps3cret")
    value, _ = _cookies(r)["pysid"]
    assert len(value) == 64 and value.endswith(out["id"])
    cookie = "pysid=" + value
    _, out2 = call(srv, "/s/sess.py", cookie=cookie, kind=kind, secret="t0ps3cret")
    assert out2["id"] == out["id"] and out2["n"] == 2
    # tampered signature, unsigned id, other secret: all give a new session
    sid = out["id"]
    forged = value[:5] + ("0" if value[5] != "0" else "1") + value[6:]
    for c in ("pysid=" + forged, "pysid=" + sid):
        _, out3 = call(srv, "/s/sess.py", cookie=c, kind=kind, secret="t0ps3cret")
        assert out3["new"] is True and out3["id"] != sid
    _, out4 = call(srv, "/s/sess.py", cookie=cookie, kind=kind, secret="other")
    assert out4["new"] is True and out4["id"] != sid


# ------------------------------------------------------------------ options

def test_new_style_options(srv):
    r, out = call(srv, "/opt/sess.py")
    assert out["type"] == "FileSession"
    value, attrs = _cookies(r)["mysid"]
    assert "path=/opt" in attrs and "domain=example.test" in attrs
    path = os.path.join(srv.root, "tmp", "optstore", "mp_sess", value[:2], value)
    assert os.path.isfile(path)
    _, out2 = call(srv, "/opt/sess.py", cookie="mysid=" + value)
    assert out2["id"] == value and out2["n"] == 2
    # the default cookie name is not looked at any more
    _, out3 = call(srv, "/opt/sess.py", cookie="pysid=" + value)
    assert out3["new"] is True


def test_legacy_options(srv):
    r, out = call(srv, "/legacy/sess.py")
    assert out["type"] == "DbmSession"
    value, attrs = _cookies(r)["oldsid"]
    assert "path=/legacy" in attrs
    assert any(n.startswith("legacy.dbm") for n in os.listdir(os.path.join(srv.root, "tmp")))
    _, out2 = call(srv, "/legacy/sess.py", cookie="oldsid=" + value)
    assert out2["id"] == value and out2["n"] == 2


def test_default_directory_is_private(srv):
    """Without a directory option the stores live in the directory httpd's
    parent made for them: <DefaultRuntimeDir>/mod_python-sessions, mode
    0700, owned by the children's user; each with its key, mode 0600."""
    base = os.path.join(srv.root, "logs", "mod_python-sessions")
    st = os.stat(base)
    assert st.st_mode & 0o777 == 0o700 and st.st_uid == WWW_DATA
    _, out = call(srv, "/deflt/sess.py")
    sid = out["id"]
    assert os.path.isfile(os.path.join(base, "mp_sess", sid[:2], sid))
    mode = os.stat(os.path.join(base, "mp_sess", sid[:2])).st_mode & 0o777
    assert mode == 0o750
    key = os.stat(os.path.join(base, "mp_sess", "mp_sess.key"))
    assert key.st_mode & 0o777 == 0o600 and key.st_uid == WWW_DATA and key.st_size == 32
    _, again = call(srv, "/deflt/sess.py", cookie="pysid=" + sid)
    assert again["id"] == sid and again["n"] == 2
    _, out = call(srv, "/defltdbm/sess.py")
    assert out["type"] == "DbmSession"
    names = os.listdir(base)
    assert "mp_sess.dbm.key" in names
    assert any(n.startswith("mp_sess.dbm") and n != "mp_sess.dbm.key" for n in names)
    _, again = call(srv, "/defltdbm/sess.py", cookie="pysid=" + out["id"])
    assert again["id"] == out["id"] and again["n"] == 2
    # the temp dir (3.5's default, open to every local user) is not used
    _, tmp = call(srv, "/deflt/sess.py", op="tempdir")
    assert tmp == os.path.join(srv.root, "tmp")
    assert not os.path.exists(os.path.join(tmp, "mp_sess"))
    assert not os.path.exists(os.path.join(tmp, "mp_sess.dbm.key"))


def test_random_cleanup_chance(srv):
    """cleanup_chance 1: every session object runs cleanup() (0, set for
    the rest of this module, never)."""
    mark = srv.log_mark()
    call(srv, "/chance/sess.py")
    assert srv.wait_log("MP0382: FileSession: registered filesession cleanup.", mark=mark)
    assert srv.wait_log("MP0383: FileSession cleanup: deleted 0 of 1 ", mark=mark)
    mark = srv.log_mark()
    call(srv, "/deflt/sess.py")
    call(srv, "/s/sess.py", op="peek", kind=srv.kinds[0])
    assert "MP0382" not in srv.log_since(mark)


def test_factory_default_type(srv):
    _, out = call(srv, "/auto/sess.py")
    # MemorySession only where one threaded process serves everything
    expect = "MemorySession" if (srv.single and srv.mpm == "event") else "DbmSession"
    assert out["type"] == expect


def test_factory_unknown_type(srv):
    mark = srv.log_mark()
    r = srv.get("/bad/sess.py")
    assert r.status == 500
    assert "Unknown session type NoSuchSession" in srv.log_since(mark)


# ------------------------------------------------------------------ locking

def _parallel(srv, n, fn):
    results, errors = [None] * n, []

    def run(i):
        try:
            results[i] = fn(i)
        except Exception as e:          # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_parallel_increments_serialised(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind)
        # the handler sleeps between reading and writing the counter: only
        # the session lock keeps the ten increments from overwriting each other
        outs = _parallel(srv, 10, lambda i: call(srv, "/s/sess.py", cookie=cookie,
                                                 kind=kind, sleep="0.05")[1])
        assert sorted(o["n"] for o in outs) == list(range(2, 12))
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind, op="peek")
        assert out["n"] == 11


def test_crashing_handler_releases_lock(srv):
    for kind in srv.kinds:
        cookie, first = new_session(srv, kind)
        for _ in range(3):
            r = srv.get("/s/sess.py?kind=%s&op=crash" % kind, headers={"Cookie": cookie},
                        timeout=20)
            assert r.status == 500
        # would block forever (timeout -> test error) if the lock had leaked
        _, out = call(srv, "/s/sess.py", cookie=cookie, kind=kind)
        assert out["id"] == first["id"] and out["n"] == 2


def test_filesession_first_save_race(srv):
    """Many new sessions saved at once on a fresh store: every one is kept."""
    mark = srv.log_mark()
    outs = _parallel(srv, 12, lambda i: call(srv, "/race/sess.py")[1])
    ids = [o["id"] for o in outs]
    assert len(set(ids)) == 12
    for sid in ids:
        _, out = call(srv, "/race/sess.py", cookie="pysid=" + sid)
        assert out["id"] == sid and out["new"] is False and out["n"] == 2
    assert "MP0381" not in srv.log_since(mark)
    base = os.path.join(srv.root, "tmp", "racestore", "mp_sess")
    names = sorted(os.listdir(base))
    assert names == ["%02x" % i for i in range(256)] + ["mp_sess.key"]


# ------------------------------------------------------------------ cleanup

def _old(path, age=10000):
    t = time.time() - age
    os.utime(path, (t, t))


def test_dbm_cleanup(srv):
    if "DbmSession" not in srv.kinds:
        pytest.skip("no DbmSession here")
    expired, _ = new_session(srv, "DbmSession")
    _, gone = call(srv, "/s/sess.py", cookie=expired, kind="DbmSession", op="settimeout",
                   secs=-1)
    live, kept = new_session(srv, "DbmSession")
    _, keys = call(srv, "/s/sess.py", op="dbmkeys")
    assert gone["id"] in keys and kept["id"] in keys
    mark = srv.log_mark()
    call(srv, "/s/sess.py", kind="DbmSession", op="cleanup")
    assert srv.wait_log("MP0386: DbmSession cleanup: deleted", mark=mark)
    assert "MP0382: DbmSession: registered database cleanup." in srv.log_since(mark)
    _, keys = call(srv, "/s/sess.py", op="dbmkeys")
    assert gone["id"] not in keys and kept["id"] in keys


def test_memory_cleanup(srv):
    if "MemorySession" not in srv.kinds:
        pytest.skip("MemorySession needs a single-child server")
    expired, _ = new_session(srv, "MemorySession")
    _, gone = call(srv, "/s/sess.py", cookie=expired, kind="MemorySession",
                   op="settimeout", secs=-1)
    live, kept = new_session(srv, "MemorySession")
    mark = srv.log_mark()
    call(srv, "/s/sess.py", kind="MemorySession", op="cleanup")
    assert srv.wait_log("MP0382: MemorySession: registered session cleanup.", mark=mark)
    deadline = time.time() + 60        # the cleanup runs after the response
    while True:
        _, keys = call(srv, "/s/sess.py", op="memkeys")
        if gone["id"] not in keys or time.time() > deadline:
            break
        time.sleep(0.1)
    assert gone["id"] not in keys and kept["id"] in keys


def _fs_file(srv, store, sid):
    return os.path.join(srv.root, "tmp", store, "mp_sess", sid[:2], sid)


def test_filesession_verified_cleanup(srv):
    """fast + verify: an old file is read and deleted only when the session
    inside has expired (3.5 opened it in text mode and never deleted)."""
    c1, _ = new_session(srv, "FileSession", path="/verify/sess.py")
    _, gone = call(srv, "/verify/sess.py", cookie=c1, op="settimeout", secs=-1)
    _, kept = call(srv, "/verify/sess.py")
    _, fresh = call(srv, "/verify/sess.py")
    for out in (gone, kept):
        _old(_fs_file(srv, "verifystore", out["id"]))
    mark = srv.log_mark()
    call(srv, "/verify/sess.py", op="cleanup")
    assert srv.wait_log("MP0383: FileSession cleanup: deleted", mark=mark)
    assert "deleted 1 of 3 " in srv.log_since(mark)
    assert not os.path.exists(_fs_file(srv, "verifystore", gone["id"]))
    assert os.path.exists(_fs_file(srv, "verifystore", kept["id"]))
    assert os.path.exists(_fs_file(srv, "verifystore", fresh["id"]))
    store = os.path.join(srv.root, "tmp", "verifystore", "mp_sess")
    with open(os.path.join(store, "fs_status.txt")) as f:
        fields = f.read().split()
    assert fields[:4] == ["MPFS_3.2", "0", "1", "3"]
    assert not os.path.exists(os.path.join(store, ".mp_sess.lck"))


def test_filesession_fast_cleanup(srv):
    """fast without verify (legacy option names): the mtime alone decides."""
    _, old = call(srv, "/fast/sess.py")
    _, fresh = call(srv, "/fast/sess.py")
    _old(_fs_file(srv, "faststore", old["id"]))
    mark = srv.log_mark()
    call(srv, "/fast/sess.py", op="cleanup")
    assert srv.wait_log("MP0383: FileSession cleanup: deleted", mark=mark)
    assert not os.path.exists(_fs_file(srv, "faststore", old["id"]))
    assert os.path.exists(_fs_file(srv, "faststore", fresh["id"]))
    _, out = call(srv, "/fast/sess.py", cookie="pysid=" + fresh["id"])
    assert out["n"] == 2


def test_filesession_cleanup_skips_when_locked(srv):
    store = os.path.join(srv.root, "tmp", "faststore", "mp_sess")
    call(srv, "/fast/sess.py")
    lock = os.path.join(store, ".mp_sess.lck")
    with open(lock, "w"):
        pass
    try:
        mark = srv.log_mark()
        call(srv, "/fast/sess.py", op="cleanup")
        assert srv.wait_log("MP0384: FileSession cleanup: another process is already running",
                     mark=mark)
        # a stale lock file (over an hour old) is removed; that run is skipped
        _old(lock)
        mark = srv.log_mark()
        call(srv, "/fast/sess.py", op="cleanup")
        assert srv.wait_log("MP0384: FileSession cleanup: stale lock file", mark=mark)
        assert not os.path.exists(lock)
    finally:
        if os.path.exists(lock):
            os.unlink(lock)


def test_no_errors_logged(srv):
    log = srv.error_log()
    for tag in ("MP0380", "MP0381", "MP0385", "MP0387", "MP1000", "MP1002", "MP1003"):
        assert tag not in log
