"""Session stores cannot be used to run code (issue: attacker pickles).

FileSession and DbmSession unpickle what they read back.  A store another
local user could write (world-/group-writable, owned by someone else, a
symbolic link) is refused: 500 and one log line naming the path and what is
wrong.  In a good store, a record the server did not write (unsigned, a
forged signature, another session's record copied) is never unpickled: a new
session starts and the log says why.  Cleanups never unpickle such records
either.  Every planted record here is a pickle whose loading would create a
marker file, and no marker ever appears.

Multi-process servers, event and prefork; one more server whose default
store directory another user made before httpd started.
"""
import dbm
import json
import os
import pickle
import pwd
import shutil
import time

import pytest

from harness import Httpd

pytestmark = pytest.mark.mpms("event", "prefork")

NOBODY = pwd.getpwnam("nobody").pw_uid
WWW_DATA = pwd.getpwnam("www-data").pw_uid

HANDLER = r'''
import json, urllib.parse
from mod_python import apache, Session


def handler(req):
    a = {k: v[-1] for k, v in urllib.parse.parse_qs(req.args or "").items()}
    s = Session.Session(req)
    if a.get("op") == "cleanup":
        s.cleanup()
    elif a.get("op") == "expire":
        s.set_timeout(-1)
    s["n"] = s.get("n", 0) + 1
    s.save()
    req.content_type = "application/json"
    req.write(json.dumps({"id": s.id(), "new": s.is_new(), "n": s["n"],
                          "type": type(s).__name__}))
    return apache.OK
'''

# (url directory, session type, store directory under @ROOT@/tmp)
STORES = {
    "fs": ("FileSession", "fs"),
    "fsww": ("FileSession", "fsww"),
    "fsforeign": ("FileSession", "fsforeign"),
    "fsbase": ("FileSession", "fsbase"),
    "dbm": ("DbmSession", "dbm"),
    "dbmforeign": ("DbmSession", "dbmforeign"),
    "dbmww": ("DbmSession", "dbmww"),
}

CONF = "PythonDebug Off\nPythonOption mod_python.session.cleanup_chance 0\n" + "".join(
    '''<Directory "@DOCROOT@/%s">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type %s
    PythonOption mod_python.session.database_directory @ROOT@/tmp/%s
    PythonOption mod_python.file_session.cleanup_grace_period 0
    PythonOption mod_python.file_session.cleanup_time_limit 0
</Directory>
''' % (d, kind, store) for d, (kind, store) in STORES.items())

FILES = {"htdocs/%s/sess.py" % d: HANDLER for d in STORES}


class _Payload:
    """Unpickling this creates `path` (stands for any code an attacker runs)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_pickle(path):
    return pickle.dumps({"_data": _Payload(path), "_created": time.time(),
                         "_accessed": time.time(), "_timeout": 3600}, 2)


def test_payload_is_live(tmp_path):
    """The planted pickles really would run code when loaded."""
    probe = str(tmp_path / "probe")
    pickle.loads(evil_pickle(probe))
    assert os.path.exists(probe)


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files=FILES, name="sesssafe")


class Marker:
    """A path the children could create (www-data writes @ROOT@/tmp)."""

    count = 0

    def __init__(self, srv):
        Marker.count += 1
        self.path = os.path.join(srv.root, "tmp", "MARKER-%d" % Marker.count)

    def pickle(self):
        return evil_pickle(self.path)

    def assert_absent(self):
        assert not os.path.exists(self.path), "planted pickle was loaded"


def get(srv, path, sid=None, **args):
    q = "&".join("%s=%s" % kv for kv in args.items())
    headers = {"Cookie": "pysid=" + sid} if sid else None
    return srv.get(path + ("?" + q if q else ""), headers=headers, timeout=30)


def ok(srv, path, sid=None, **args):
    r = get(srv, path, sid, **args)
    assert r.status == 200, (r, srv.error_log()[-2000:])
    return json.loads(r.body)


def fresh_sid():
    return os.urandom(16).hex()


def plant_file(directory, sid, data, uid=0, mode=0o644):
    sub = os.path.join(directory, sid[:2])
    os.makedirs(sub, exist_ok=True)
    path = os.path.join(sub, sid)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, uid, uid)
    os.chmod(path, mode)
    return path


def store(srv, name):
    return os.path.join(srv.root, "tmp", name)


def assert_refused(srv, url, sid, text):
    mark = srv.log_mark()
    r = get(srv, url, sid)
    assert r.status == 500
    assert b"Traceback" not in r.body
    log = srv.log_since(mark)
    lines = [l for l in log.splitlines() if "MP1002" in l]
    assert len(lines) == 1 and text in lines[0], log
    assert "Traceback" not in log
    return lines[0]


# ------------------------------------------------------------------ bad stores

def test_world_writable_store_dir_refused(srv):
    sessdir = os.path.join(store(srv, "fsww"), "mp_sess")
    os.makedirs(sessdir)
    os.chmod(sessdir, 0o777)
    marker, sid = Marker(srv), fresh_sid()
    plant_file(sessdir, sid, marker.pickle(), uid=NOBODY, mode=0o666)
    line = assert_refused(srv, "/fsww/sess.py", sid,
                          "%s: it is writable by group or others (mode 0777)" % sessdir)
    assert "FileSession" in line
    # also without a cookie: the store is never used
    assert_refused(srv, "/fsww/sess.py", None, sessdir)
    marker.assert_absent()


def test_foreign_store_dir_refused(srv):
    sessdir = os.path.join(store(srv, "fsforeign"), "mp_sess")
    os.makedirs(sessdir)
    marker, sid = Marker(srv), fresh_sid()
    plant_file(sessdir, sid, marker.pickle(), uid=NOBODY)
    for d in (sessdir, os.path.join(sessdir, sid[:2])):
        os.chown(d, NOBODY, NOBODY)
        os.chmod(d, 0o755)
    assert_refused(srv, "/fsforeign/sess.py", sid,
                   "%s: it is owned by nobody (uid %d), not by www-data (uid %d) or root"
                   % (sessdir, NOBODY, WWW_DATA))
    marker.assert_absent()


def test_writable_base_dir_refused(srv):
    base = store(srv, "fsbase")
    os.makedirs(base)
    os.chmod(base, 0o777)           # not sticky: anyone could swap mp_sess
    assert_refused(srv, "/fsbase/sess.py", None,
                   "%s: it is writable by group or others (mode 0777)" % base)


def test_foreign_dbm_file_refused(srv):
    base = store(srv, "dbmforeign")
    os.makedirs(base)
    marker, sid = Marker(srv), fresh_sid()
    db = dbm.open(os.path.join(base, "mp_sess.dbm"), "c")
    db[sid.encode()] = marker.pickle()
    db.close()
    for name in os.listdir(base):
        os.chown(os.path.join(base, name), NOBODY, NOBODY)
    assert_refused(srv, "/dbmforeign/sess.py", sid, "it is owned by nobody")
    marker.assert_absent()


def test_world_writable_dbm_dir_refused(srv):
    base = store(srv, "dbmww")
    os.makedirs(base)
    os.chmod(base, 0o777)
    assert_refused(srv, "/dbmww/sess.py", None,
                   "%s: it is writable by group or others (mode 0777)" % base)


# ------------------------------------------------------------------ good stores

def _good_fs(srv):
    out = ok(srv, "/fs/sess.py")
    return out, os.path.join(store(srv, "fs"), "mp_sess")


def assert_not_loaded(srv, url, sid, marker=None):
    mark = srv.log_mark()
    out = ok(srv, url, sid)
    assert out["new"] is True and out["id"] != sid and out["n"] == 1
    log = srv.log_since(mark)
    assert "MP1003" in log and sid in log and "not signed" in log, log
    if marker:
        marker.assert_absent()
    return out


def test_unsigned_file_ignored(srv):
    _, sessdir = _good_fs(srv)
    marker, sid = Marker(srv), fresh_sid()
    plant_file(sessdir, sid, marker.pickle())          # root's, 3.5's format
    assert_not_loaded(srv, "/fs/sess.py", sid, marker)


def test_forged_signature_ignored(srv):
    _, sessdir = _good_fs(srv)
    marker, sid = Marker(srv), fresh_sid()
    plant_file(sessdir, sid, b"MPS1" + os.urandom(32) + marker.pickle())
    assert_not_loaded(srv, "/fs/sess.py", sid, marker)


def test_record_copied_from_other_session_ignored(srv):
    first, sessdir = _good_fs(srv)
    with open(os.path.join(sessdir, first["id"][:2], first["id"]), "rb") as f:
        record = f.read()
    sid = fresh_sid()
    plant_file(sessdir, sid, record)
    assert_not_loaded(srv, "/fs/sess.py", sid)
    # the original still works
    assert ok(srv, "/fs/sess.py", first["id"])["n"] == 2


def test_foreign_file_in_good_store_refused(srv):
    _, sessdir = _good_fs(srv)
    marker, sid = Marker(srv), fresh_sid()
    path = plant_file(sessdir, sid, marker.pickle(), uid=NOBODY)
    assert_refused(srv, "/fs/sess.py", sid, "%s: it is owned by nobody" % path)
    marker.assert_absent()


def test_symlink_in_good_store_refused(srv):
    _, sessdir = _good_fs(srv)
    marker, sid = Marker(srv), fresh_sid()
    target = plant_file(sessdir, fresh_sid(), marker.pickle())
    link = os.path.join(sessdir, sid[:2], sid)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(target, link)
    assert_refused(srv, "/fs/sess.py", sid, "%s: it is a symbolic link" % link)
    marker.assert_absent()


def test_key_readable_by_others_refused(srv):
    _, sessdir = _good_fs(srv)
    key = os.path.join(sessdir, "mp_sess.key")
    os.chmod(key, 0o644)
    try:
        assert_refused(srv, "/fs/sess.py", None, "%s: the key is accessible" % key)
    finally:
        os.chmod(key, 0o600)
    assert ok(srv, "/fs/sess.py")["new"] is True


def test_unsigned_dbm_record_ignored(srv):
    first = ok(srv, "/dbm/sess.py")
    marker, sid = Marker(srv), fresh_sid()
    db = dbm.open(os.path.join(store(srv, "dbm"), "mp_sess.dbm"), "w")
    try:
        db[sid.encode()] = marker.pickle()
    finally:
        db.close()
    assert_not_loaded(srv, "/dbm/sess.py", sid, marker)
    assert ok(srv, "/dbm/sess.py", first["id"])["n"] == 2


# ------------------------------------------------------------------ cleanups

def test_filesession_cleanup_never_unpickles_foreign_records(srv):
    _, sessdir = _good_fs(srv)
    marker = Marker(srv)
    old = plant_file(sessdir, fresh_sid(), marker.pickle())
    young = plant_file(sessdir, fresh_sid(), marker.pickle())
    t = time.time() - 100000
    os.utime(old, (t, t))
    mark = srv.log_mark()
    ok(srv, "/fs/sess.py", op="cleanup")
    assert srv.wait_log("MP0383: FileSession cleanup: deleted", mark=mark)
    assert not os.path.exists(old) and os.path.exists(young)
    marker.assert_absent()


def test_dbm_cleanup_never_unpickles_foreign_records(srv):
    ok(srv, "/dbm/sess.py")
    marker, sid = Marker(srv), fresh_sid()
    path = os.path.join(store(srv, "dbm"), "mp_sess.dbm")
    db = dbm.open(path, "w")
    try:
        db[sid.encode()] = marker.pickle()
    finally:
        db.close()
    mark = srv.log_mark()
    ok(srv, "/dbm/sess.py", op="cleanup")
    assert srv.wait_log("MP0386: DbmSession cleanup: deleted", mark=mark)
    db = dbm.open(path, "r")
    try:
        assert sid.encode() not in db
    finally:
        db.close()
    marker.assert_absent()


def test_no_crash_no_traceback(srv):
    srv.assert_no_crash()
    assert "Traceback" not in srv.error_log()


# ------------------------------------------------------------------ default store

def test_default_store_taken_before_start():
    """Another user made <runtime dir>/mod_python-sessions (and filled it)
    before httpd started: the parent says so, the stores refuse it."""
    conf = '''PythonDebug On
<Directory "@DOCROOT@/f">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type FileSession
</Directory>
<Directory "@DOCROOT@/d">
    SetHandler mod_python
    PythonHandler sess
    PythonOption mod_python.session.session_type DbmSession
</Directory>
'''
    s = Httpd(conf, files={"htdocs/f/sess.py": HANDLER, "htdocs/d/sess.py": HANDLER},
              mpm="prefork", name="sesssafe-taken")
    base = os.path.join(s.root, "logs", "mod_python-sessions")
    sid = fresh_sid()
    marker = Marker(s)
    plant_file(os.path.join(base, "mp_sess"), sid, marker.pickle(), uid=NOBODY, mode=0o666)
    for d in (base, os.path.join(base, "mp_sess"), os.path.join(base, "mp_sess", sid[:2])):
        os.chown(d, NOBODY, NOBODY)
        os.chmod(d, 0o777)
    s.start()
    try:
        assert "MP1000" in s.error_log() and base in s.error_log()
        for url in ("/f/sess.py", "/d/sess.py"):
            mark = s.log_mark()
            r = get(s, url, sid)
            assert r.status == 500
            assert "MP1002" in s.log_since(mark) and base in s.log_since(mark)
        marker.assert_absent()
        s.assert_no_crash()
    finally:
        s.stop()
        shutil.rmtree(base, ignore_errors=True)
