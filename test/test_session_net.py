"""RedisSession and MemcachedSession on real redis-server and memcached
processes, shared by two httpd servers (A and B), under event and prefork.

A session made on A is read and changed on B; 2 x 16 clients incrementing
one counter through both servers lose no update; a killed or frozen store
gives 503s (no traceback, PythonDebug Off) and service comes back after it
does; a memcached server that is down costs only the sessions on it; a lock
holder killed mid-request blocks the others no longer than lock_timeout;
what is stored is signed with store_secret (forged and copied records are
never unpickled); nothing is written under a key made from a bad cookie;
importing mod_python.Session needs neither client library.
"""
import json
import os
import pickle
import signal
import threading
import time

import pytest

from storeservers import MemcachedServer, RedisServer

pytestmark = pytest.mark.mpms("event", "prefork")

LOCK_TIMEOUT = 3            # seconds (short, for the killed-holder test)
SECRET = "t3st-store-s3cret"

HANDLER = r'''
import json, os, sys, time, urllib.parse
from mod_python import apache


def handler(req):
    a = {k: v[-1] for k, v in urllib.parse.parse_qs(req.args or "").items()}
    op = a.get("op", "counter")
    if op == "imports":
        from mod_python import Session
        mods = sorted(m for m in ("redis", "pymemcache", "mod_python._session_net")
                      if m in sys.modules)
        req.content_type = "application/json"
        req.write(json.dumps({"loaded": mods, "has": hasattr(Session, "RedisSession")}))
        return apache.OK
    if op == "nolib":
        sys.modules["redis"] = None          # as if python3-redis were missing
        sys.modules["pymemcache"] = None
        out = {}
        from mod_python import Session
        for cls in ("RedisSession", "MemcachedSession"):
            try:
                getattr(Session, cls)(req)
                out[cls] = "no error"
            except ImportError as e:
                out[cls] = str(e)
        req.content_type = "application/json"
        req.write(json.dumps(out))
        return apache.OK
    from mod_python import Session
    kw = {}
    if "lock" in a:
        kw["lock"] = int(a["lock"])
    if "timeout" in a:
        kw["timeout"] = int(a["timeout"])
    s = Session.Session(req, **kw)
    out = {"id": s.id(), "new": s.is_new(), "type": type(s).__name__, "pid": os.getpid()}
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
        out["timeout"] = s.timeout()
    elif op == "hold":
        # holds the session lock until killed
        with open(a["file"] + ".tmp", "w") as f:
            json.dump({"pid": os.getpid(), "time": time.time()}, f)
        os.rename(a["file"] + ".tmp", a["file"])
        time.sleep(120)
    elif op == "big":
        s["blob"] = "x" * int(a["size"])
        s.save()
    elif op == "invalidate":
        s.invalidate()
    elif op == "twice":
        t = Session.Session(req, sid=s.id())
        out["same"] = t.id() == s.id()
        t.unlock()
        s["n"] = s.get("n", 0) + 1
        s.save()
        out["n"] = s["n"]
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK
'''

KINDS = {"r": "RedisSession", "m": "MemcachedSession"}


def _conf(redis, mc1, mc2):
    common = '''    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.redis_url %s
    PythonOption mod_python.session.memcached_servers %s,%s
    PythonOption mod_python.session.store_timeout 1
''' % (redis.url, mc1.spec, mc2.spec)
    conf = "PythonDebug Off\n"
    for d, kind in KINDS.items():
        # d: default lock_timeout (30 s); dk: a short one
        for dd, extra in ((d, ""), (d + "k", "    PythonOption mod_python.session.lock_timeout "
                                           "%d\n" % LOCK_TIMEOUT)):
            conf += '''<Directory "@DOCROOT@/%s">
%s%s    PythonOption mod_python.session.session_type %s
    PythonOption mod_python.session.store_secret %s
</Directory>
''' % (dd, common, extra, kind, SECRET)
    conf += '''<Directory "@DOCROOT@/nosecret">
%s    PythonOption mod_python.session.session_type RedisSession
</Directory>
<Directory "@DOCROOT@/msmall">
%s    PythonOption mod_python.session.session_type MemcachedSession
    PythonOption mod_python.session.store_secret %s
    PythonOption mod_python.session.memcached_max_item_size 2048
</Directory>
<Directory "@DOCROOT@/fresh">
    SetHandler mod_python
    PythonHandler sess
    PythonInterpreter fresh_for_import_check
</Directory>
<Directory "@DOCROOT@/nolib">
    SetHandler mod_python
    PythonHandler sess
    PythonInterpreter without_client_libraries
    PythonOption mod_python.session.store_secret %s
</Directory>
''' % (common, common, SECRET, SECRET)
    return conf


DIRS = ("r", "m", "rk", "mk", "nosecret", "msmall", "fresh", "nolib")
FILES = {"htdocs/%s/sess.py" % d: HANDLER for d in DIRS}


@pytest.fixture(scope="module")
def stores():
    r, m1, m2 = RedisServer().start(), MemcachedServer().start(), MemcachedServer().start()
    yield r, m1, m2
    for s in (r, m1, m2):
        s.stop()


class Pair:
    def __init__(self, a, b, killed):
        self.a, self.b, self.killed = a, b, killed


@pytest.fixture(scope="module")
def pair(httpd, stores):
    conf = _conf(*stores)
    # children are killed on purpose: the crash check below leaves those out
    a, b = (httpd(conf, files=FILES, name="sessnet-" + n, check_crash=False) for n in "ab")
    killed = set()
    yield Pair(a, b, killed)
    for s in (a, b):
        bad = [l for l in s.crash_lines()
               if not any("pid %d exit signal Killed" % p in l for p in killed)]
        assert not bad, bad


def call(srv, path, sid=None, status=200, **args):
    q = "&".join("%s=%s" % kv for kv in args.items())
    headers = {"Cookie": "pysid=" + sid} if sid else None
    r = srv.get(path + ("?" + q if q else ""), headers=headers, timeout=60)
    assert r.status == status, (r, srv.error_log()[-2000:])
    return json.loads(r.body) if status == 200 else r


def url(d):
    return "/%s/sess.py" % d


# ------------------------------------------------------------------ basics

@pytest.mark.parametrize("d", sorted(KINDS))
def test_session_moves_between_servers(pair, d):
    first = call(pair.a, url(d))
    assert first["new"] is True and first["type"] == KINDS[d] and first["n"] == 1
    sid = first["id"]
    on_b = call(pair.b, url(d), sid)
    assert on_b["id"] == sid and on_b["new"] is False and on_b["n"] == 2
    back = call(pair.a, url(d), sid, op="peek")
    assert back["n"] == 2 and back["timeout"] == 1800


@pytest.mark.parametrize("d", sorted(KINDS))
def test_two_objects_one_request(pair, d):
    sid = call(pair.a, url(d))["id"]
    out = call(pair.b, url(d), sid, op="twice")
    assert out["same"] is True and out["n"] == 2


@pytest.mark.parametrize("d", sorted(KINDS))
def test_invalidate(pair, d):
    sid = call(pair.a, url(d))["id"]
    r = pair.b.get(url(d) + "?op=invalidate", headers={"Cookie": "pysid=" + sid})
    assert r.status == 200 and "01-Jan-1970" in r.headers.get("Set-Cookie", "")
    out = call(pair.a, url(d), sid)
    assert out["new"] is True and out["id"] != sid


def test_redis_ttl_is_the_session_timeout(pair, stores):
    sid = call(pair.a, url("r"), timeout=77)["id"]
    pttl = stores[0].client().pttl("mp_sess:" + sid)
    assert 0 < pttl <= 77000
    # the lock is released by a request cleanup, after the response
    assert _until(lambda: stores[0].client().exists("mp_sess:%s:lock" % sid) == 0)


def test_lost_updates(pair, stores):
    """2 x 16 clients, each incrementing one session's counter 5 times,
    half through A, half through B: the final count is exact."""
    per_client, clients = 5, 32
    results = {}
    for d in sorted(KINDS):
        sid = call(pair.a, url(d))["id"]
        errors = []

        def work(i):
            srv = pair.a if i % 2 else pair.b
            try:
                for _ in range(per_client):
                    call(srv, url(d), sid, sleep="0.005")
            except Exception as e:          # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        assert not errors, errors[:3]
        final = call(pair.b, url(d), sid, op="peek")["n"]
        results[d] = final
        assert final == 1 + clients * per_client
    print("lost-update test (%s): %s" % (pair.a.mpm, results))


# ------------------------------------------------------------------ signing

def test_store_secret_required(pair):
    mark = pair.a.log_mark()
    r = call(pair.a, url("nosecret"), status=500)
    assert b"Traceback" not in r.body
    log = pair.a.log_since(mark)
    assert "MP1010" in log and "mod_python.session.store_secret" in log


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_forged_and_copied_records_are_not_loaded(pair, stores):
    client = stores[0].client()
    marker = os.path.join(pair.a.root, "tmp", "MARKER")
    sid = os.urandom(16).hex()
    client.set("mp_sess:" + sid, pickle.dumps({"_data": _Payload(marker)}))
    other = call(pair.a, url("r"))["id"]
    copy = os.urandom(16).hex()
    client.set("mp_sess:" + copy, client.get("mp_sess:" + other))
    for bad in (sid, copy):
        mark = pair.b.log_mark()
        out = call(pair.b, url("r"), bad)
        assert out["new"] is True and out["id"] != bad
        assert "MP1013" in pair.b.log_since(mark)
    assert not os.path.exists(marker)
    assert call(pair.a, url("r"), other)["n"] == 2


@pytest.mark.parametrize("d", sorted(KINDS))
def test_bad_cookie_writes_nothing(pair, stores, d):
    bad = "../../" + "A" * 26
    if d == "r":
        before = set(stores[0].client().keys())
    out = call(pair.a, url(d), bad)
    assert out["new"] is True and out["id"] != bad
    if d == "r":
        new = set(stores[0].client().keys()) - before
        mine = b"mp_sess:" + out["id"].encode()
        # the new session's lock may still be there: it is released by a
        # request cleanup, after the response
        assert mine in new and new <= {mine, mine + b":lock"}
    else:
        for m in stores[1:]:
            assert m.client().get("mp_sess:" + bad) is None


def test_lock_zero_takes_no_lock(pair, stores):
    sid = call(pair.a, url("r"), lock=0)["id"]
    before = set(stores[0].client().keys())
    assert call(pair.b, url("r"), sid, lock=0, sleep="0")["n"] == 2
    assert not [k for k in set(stores[0].client().keys()) - before if b":lock" in k]


def test_memcached_item_size_enforced(pair):
    sid = call(pair.a, url("msmall"))["id"]
    mark = pair.a.log_mark()
    call(pair.a, url("msmall"), sid, status=500, op="big", size=4000)
    assert "MP1017" in pair.a.log_since(mark)
    assert call(pair.b, url("msmall"), sid)["n"] == 2      # the old record stays


# ------------------------------------------------------------------ imports

def test_importing_session_needs_no_client_library(pair):
    out = call(pair.a, url("fresh"), op="imports")
    assert out == {"loaded": [], "has": True}


def test_missing_client_library_names_the_package(pair):
    out = call(pair.a, url("nolib"), op="nolib")
    assert "python3-redis" in out["RedisSession"]
    assert "python3-pymemcache" in out["MemcachedSession"]


# ------------------------------------------------------------------ failures

def _until(fn, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_redis_killed_and_back(pair, stores):
    redis = stores[0]
    sid = call(pair.a, url("r"))["id"]
    redis.kill()
    try:
        for srv in (pair.a, pair.b):
            mark = srv.log_mark()
            for _ in range(3):
                r = srv.get(url("r"), headers={"Cookie": "pysid=" + sid}, timeout=60)
                assert r.status == 503 and b"Traceback" not in r.body
            log = srv.log_since(mark)
            assert "MP1011" in log and "answering 503" in log and "Traceback" not in log
    finally:
        redis.start()
    # back as soon as the store is (pooled connections to the dead store are
    # reconnected, the call repeated); its data died with it: a new session
    for srv in (pair.a, pair.b):
        for _ in range(6):
            out = call(srv, url("r"), sid)
            assert out["new"] is True and out["n"] == 1


def test_redis_frozen_times_out(pair, stores):
    """A frozen store: 503 after store_timeout.  The lock that request asked
    for may be taken when the store wakes up, by no one alive: it expires
    after lock_timeout (short here)."""
    redis = stores[0]
    sid = call(pair.a, url("rk"))["id"]
    redis.freeze()
    try:
        mark = pair.b.log_mark()
        r = pair.b.get(url("rk"), headers={"Cookie": "pysid=" + sid}, timeout=60)
        assert r.status == 503 and b"Traceback" not in r.body
        assert "Timeout" in pair.b.log_since(mark)
    finally:
        redis.thaw()
    assert call(pair.a, url("rk"), sid)["n"] == 2


def test_memcached_server_down_costs_only_its_sessions(pair, stores):
    from pymemcache.client.rendezvous import RendezvousHash
    m1, m2 = stores[1], stores[2]
    ring = RendezvousHash(nodes=[m1.spec, m2.spec])
    sids = {}
    while len(sids) < 6 or len(set(sids.values())) < 2:
        sid = call(pair.a, url("m"))["id"]
        sids[sid] = ring.get_node("mp_sess:" + sid)
    m2.kill()
    try:
        for sid, node in sids.items():
            r = pair.b.get(url("m"), headers={"Cookie": "pysid=" + sid}, timeout=60)
            if node == m2.spec:
                assert r.status == 503 and b"Traceback" not in r.body
            else:
                assert r.status == 200 and json.loads(r.body)["n"] == 2
    finally:
        m2.start()
    # back as soon as the server is; what it held is gone (new sessions)
    for sid, node in sids.items():
        out = call(pair.a, url("m"), sid, op="peek")
        assert out["n"] == 2 if node == m1.spec else (out["new"] is True and out["id"] != sid)


@pytest.mark.parametrize("d", sorted(KINDS))
def test_killed_lock_holder_blocks_no_longer_than_lock_timeout(pair, d):
    d += "k"                               # lock_timeout LOCK_TIMEOUT
    sid = call(pair.a, url(d))["id"]
    holder = os.path.join(pair.a.root, "tmp", "holder-" + d)

    def hold():
        try:
            pair.a.get(url(d) + "?op=hold&file=" + holder,
                       headers={"Cookie": "pysid=" + sid}, timeout=150)
        except OSError:
            pass                      # its child is killed: no response
    t = threading.Thread(target=hold)
    t.daemon = True
    sent = time.time()                     # the lock is taken after this
    t.start()
    assert _until(lambda: os.path.exists(holder), 60)
    with open(holder) as f:
        info = json.load(f)
    pair.killed.add(info["pid"])
    os.kill(info["pid"], signal.SIGKILL)
    killed_at = time.time()
    out = call(pair.b, url(d), sid)
    done = time.time()
    assert out["id"] == sid and out["n"] == 2
    # it had to wait for the lock to expire (memcached's clock ticks in
    # whole seconds: an item may go up to 1 s early), and not much longer
    assert done - sent >= LOCK_TIMEOUT - 1.1
    assert info["time"] >= sent
    assert done - killed_at <= LOCK_TIMEOUT + 15
    t.join(30)
