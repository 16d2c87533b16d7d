"""mod_python.Session: server-side sessions identified by a cookie.

    from mod_python import Session

    sess = Session.Session(req)          # type from PythonOption or the MPM
    sess["count"] = sess.get("count", 0) + 1
    sess.save()                          # must be called explicitly

Classes: BaseSession (a dict), MemorySession (per process), DbmSession
(one dbm file, the stdlib `dbm` module), FileSession (one file per
session); RedisSession and MemcachedSession (shared by several servers,
in mod_python._session_net, loaded on first use).  While a session object is locked (the default) every other
request for the same session id waits; the lock is released when the
request ends (a request cleanup), also when the handler failed.

Storage location: PythonOption mod_python.session.database_directory
(per-type variants and the pre-3.3 names are honoured too), else the
directory httpd's parent made private for this (mode 0700, owned by the
children's User): <DefaultRuntimeDir>/mod_python-sessions.  FileSession
keeps its files in <dir>/mp_sess/<2 hex digits>/<sid>, DbmSession uses
<dir>/mp_sess.dbm.

The disk stores are read back with pickle, so whoever can write them could
run code in the server.  Therefore (see docs/api/session.rst):
* a store's directories and files are used only when they belong to the
  server's user (or root) and nobody else can write them; the directory
  holding the store may be world-writable only if sticky (like /tmp), and
  the directories above only the same way.  Otherwise the request gets a
  500 and the log one line naming the path and what is wrong with it;
* every record is signed (HMAC-SHA256 over the session id and the data)
  with a random key kept in the store (mode 0600); a record that does not
  verify is never unpickled: the request gets a new session, and the log
  says why.

Messages are tagged MP0380-MP0389 and MP1000-MP1049.
"""
import errno
import hashlib
import hmac
import os
import pickle
import pwd
import random
import re
import secrets
import stat
import tempfile
import threading
import time
import traceback

import dbm as _dbm_module

import _apache
from mod_python import apache, Cookie

__all__ = ["BaseSession", "MemorySession", "DbmSession", "FileSession",
           "RedisSession", "MemcachedSession",
           "Session", "COOKIE_NAME", "DFT_TIMEOUT", "tempdir"]

COOKIE_NAME = "pysid"
DFT_TIMEOUT = 30 * 60          # seconds
DFT_LOCK = True
CLEANUP_CHANCE = 1000          # cleanup() runs for about 1 in this many sessions

# the pre-3.6 default directory of the disk stores; kept for programs that
# read it (the default is now a private directory: _default_directory())
tempdir = tempfile.gettempdir()

_SID_RE = re.compile(r"^[0-9a-f]{32}$")


def _check_sid(sid):
    return isinstance(sid, str) and _SID_RE.match(sid) is not None


def _option(opts, *names, default=None):
    """The value of the first of `names` present in the options table."""
    for name in names:
        if name in opts:
            return opts[name]
    return default


def true_or_false(item):
    """PythonOption value -> bool (yes/true/1/on, no/false/0/off)."""
    if isinstance(item, str):
        word = item.strip().lower()
        if word in ("yes", "true", "1", "on"):
            return True
        if word in ("no", "false", "0", "off"):
            return False
    elif item in (True, False, 1, 0, None):
        return bool(item)
    raise ValueError("MP0388: mod_python.Session: %r is not a boolean option value "
                     "(use yes/no, true/false, 1/0)" % (item,))


def _cleanup_chance(req):
    """PythonOption mod_python.session.cleanup_chance: cleanup() runs for 1
    in this many new session objects (0: never; default CLEANUP_CHANCE)."""
    value = _option(req.get_options(), "mod_python.session.cleanup_chance")
    if value is None:
        return CLEANUP_CHANCE
    try:
        chance = int(value)
        if chance < 0:
            raise ValueError(value)
        return chance
    except ValueError:
        raise ValueError("MP1005: mod_python.Session: PythonOption "
                         "mod_python.session.cleanup_chance %r is not a count "
                         "(0 = never)" % (value,)) from None


# ------------------------------------------------------------------ ids

_sid_counter = 0
_sid_counter_lock = threading.Lock()


def _new_sid(req):
    """A new session id: 32 lower-case hex digits (an MD5 digest of the time,
    the pid, a per-process counter, the client address and 128 bits from the
    operating system's random source, so it cannot be guessed)."""
    global _sid_counter
    with _sid_counter_lock:
        _sid_counter += 1
        n = _sid_counter
    try:
        ip = req.connection.client_ip
    except Exception:
        ip = ""
    material = "%d%d%d%s%s" % (int(time.time() * 10000), os.getpid(), n, ip,
                               secrets.token_hex(16))
    return hashlib.md5(material.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ locking
#
# Every session lock goes through the global mutexes of _apache.  A mutex is
# not re-entrant, and several session ids share one mutex, so the mutexes a
# request holds are counted on its top-level request object: taking one the
# request already holds (a second session object for the same id, another
# id on the same mutex, DbmSession's mutex 0 when there is a single mutex)
# only bumps the count instead of dead-locking the request against itself.

def _fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def _mutex_index(key):
    """The mutex _apache._global_lock(server, key) would use (same hash as
    the C module), or None when that cannot be known."""
    count = getattr(_apache, "_mutex_count", None)
    if count is None:
        return None
    n = count()
    if n <= 0:
        return None
    if n == 1:
        return 0
    return _fnv1a(str(key).encode("utf-8", "surrogatepass")) % (n - 1) + 1


def _root_request(req):
    while True:
        nxt = getattr(req, "main", None) or getattr(req, "prev", None)
        if nxt is None:
            return req
        req = nxt


def _held(req):
    root = _root_request(req)
    try:
        return root._mp_session_mutexes
    except AttributeError:
        held = root._mp_session_mutexes = {}
        return held


def _acquire(req, key, index=None):
    """Take the global mutex for `key` (or mutex `index`) for this request.
    Returns a token for _release()."""
    if index is None:
        index = _mutex_index(key)
    slot = ("i", index) if index is not None else ("k", str(key))
    held = _held(req)
    if held.get(slot, 0) == 0:
        if index is not None:
            _apache._global_lock(req.server, key, index)
        else:
            _apache._global_lock(req.server, key)
    held[slot] = held.get(slot, 0) + 1
    return (key, slot)


def _release(req, token):
    key, slot = token
    held = _held(req)
    n = held.get(slot, 0)
    if n <= 1:
        held.pop(slot, None)
        if n == 1:
            if slot[0] == "i":
                _apache._global_unlock(req.server, key, slot[1])
            else:
                _apache._global_unlock(req.server, key)
    else:
        held[slot] = n - 1


def _unlock_session_cleanup(sess):
    try:
        sess.unlock()
    except Exception:
        _log(sess._req, "MP0387: mod_python.Session: releasing the lock of session "
             "%s failed:\n%s" % (sess._sid, traceback.format_exc()), apache.APLOG_ERR)


def _log(req, message, level=apache.APLOG_NOTICE):
    try:
        req.log_error(message, level)
    except Exception:
        apache.log_error(message, level)


# ------------------------------------------------------------------ store safety
#
# What a disk store holds is unpickled, and unpickling runs code: a store
# another user can write is a way to run code as the server.  So (1) every
# directory and file of a store is checked before it is used, and (2) every
# record is signed with a key kept in the store, and a record that does not
# verify is never unpickled.

class StoreRefused(Exception):
    """A store path that must not be used: `path`, and what is wrong with it."""

    def __init__(self, path, problem):
        Exception.__init__(self, "%s: %s" % (path, problem))
        self.path, self.problem = path, problem


def _user(uid):
    try:
        return "%s (uid %d)" % (pwd.getpwuid(uid).pw_name, uid)
    except KeyError:
        return "uid %d" % uid


def _owner_problem(st, sticky_ok=False):
    """Why a store directory or file with stat result `st` must not be used
    (None when it may): it belongs to the server's user or root, and nobody
    else can write it (a sticky directory may be world-writable if
    sticky_ok: others cannot replace what is in it)."""
    uid = os.geteuid()
    if st.st_uid not in (uid, 0):
        return "it is owned by %s, not by %s or root" % (_user(st.st_uid), _user(uid))
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not (
            sticky_ok and st.st_mode & stat.S_ISVTX):
        return "it is writable by group or others (mode %04o)" % stat.S_IMODE(st.st_mode)
    return None


def _lstat(path):
    try:
        return os.lstat(path)
    except OSError as e:
        raise StoreRefused(path, "cannot examine it: %s" % (e.strerror or e)) from None


def _checked_dir(path, create_mode=None, sticky_ok=False, parents=True):
    """The real path of store directory `path` (made first, with
    create_mode, when given and missing), checked: see _owner_problem; with
    `parents`, every directory above it must not be writable by group or
    others unless sticky.  Raises StoreRefused."""
    if create_mode is not None and not os.path.isdir(path):
        try:
            os.makedirs(path, create_mode, exist_ok=True)
        except OSError as e:
            raise StoreRefused(path, "cannot create it: %s" % (e.strerror or e)) from None
    real = os.path.realpath(path)
    st = _lstat(real)
    if stat.S_ISLNK(st.st_mode):          # replaced since realpath() looked
        raise StoreRefused(real, "it is a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        raise StoreRefused(real, "it is not a directory")
    problem = _owner_problem(st, sticky_ok)
    if problem:
        raise StoreRefused(real, problem)
    below, above = real, os.path.dirname(real)
    while parents and above != below:
        st = _lstat(above)
        if stat.S_ISLNK(st.st_mode):
            raise StoreRefused(real, "its parent %s is a symbolic link" % above)
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
            raise StoreRefused(real, "its parent directory %s is writable by group or "
                               "others (mode %04o)" % (above, stat.S_IMODE(st.st_mode)))
        below, above = above, os.path.dirname(above)
    return real


def _check_file(path, st):
    if not stat.S_ISREG(st.st_mode):
        raise StoreRefused(path, "it is not a regular file")
    problem = _owner_problem(st)
    if problem:
        raise StoreRefused(path, problem)


def _open_checked(path):
    """An fd for reading store file `path`, checked (see _owner_problem), or
    None when there is no such file.  Raises StoreRefused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise StoreRefused(path, "it is a symbolic link") from None
        raise StoreRefused(path, "cannot open it: %s" % (e.strerror or e)) from None
    try:
        _check_file(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_checked(path):
    """The content of store file `path` (None when absent), checked."""
    fd = _open_checked(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as fp:
        return fp.read()


KEY_BYTES = 32


def _make_key(path):
    """Create key file `path` (random bytes, mode 0600) unless it exists:
    written under a temporary name and hard-linked into place, so that no
    process ever reads a partial key and concurrent creators agree on one."""
    tmp = "%s.%d.%s.tmp" % (path, os.getpid(), secrets.token_hex(4))
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise StoreRefused(path, "cannot create the key: %s" % (e.strerror or e)) from None
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(secrets.token_bytes(KEY_BYTES))
            fp.flush()
            os.fsync(fp.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass                                # another process was first
        except OSError as e:
            raise StoreRefused(path, "cannot create the key: %s"
                               % (e.strerror or e)) from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def store_key(path):
    """The signing key of a store, kept in file `path` (made on first use).
    Raises StoreRefused when the file is not the server's own, is readable
    by others, or is not a key."""
    for _ in range(2):
        fd = _open_checked(path)
        if fd is None:
            _make_key(path)
            continue
        with os.fdopen(fd, "rb") as fp:
            mode = os.fstat(fp.fileno()).st_mode
            if mode & 0o077:
                raise StoreRefused(path, "the key is accessible to group or others "
                                   "(mode %04o, must be 0600)" % stat.S_IMODE(mode))
            key = fp.read(KEY_BYTES + 1)
        if len(key) != KEY_BYTES:
            raise StoreRefused(path, "it is not a %d-byte key" % KEY_BYTES)
        return key
    raise StoreRefused(path, "the key vanished while it was created")


_MAGIC = b"MPS1"
_MAC_LEN = 32


def _mac(key, sid, payload):
    return hmac.new(key, b"%s%s\0%s" % (_MAGIC, sid.encode("ascii"), payload),
                    hashlib.sha256).digest()


def sign(key, sid, payload):
    """A record for session `sid`: magic, HMAC-SHA256(key, sid + payload),
    payload.  Copied under another session id it no longer verifies."""
    return _MAGIC + _mac(key, sid, payload) + payload


def unsign(key, sid, record):
    """The payload of a record made by sign() with this key for this sid,
    else None."""
    if not isinstance(record, bytes) or len(record) < len(_MAGIC) + _MAC_LEN \
            or not record.startswith(_MAGIC):
        return None
    mac = record[len(_MAGIC):len(_MAGIC) + _MAC_LEN]
    payload = record[len(_MAGIC) + _MAC_LEN:]
    return payload if hmac.compare_digest(mac, _mac(key, sid, payload)) else None


def _refuse(req, kind, exc):
    """Log why a store is refused (one line) and answer 500."""
    _log(req, "MP1002: %s: refusing the session store %s: %s"
         % (kind, exc.path, exc.problem), apache.APLOG_ERR)
    raise apache.SERVER_RETURN(apache.HTTP_INTERNAL_SERVER_ERROR)


def _log_unsigned(req, kind, sid, where):
    _log(req, "MP1003: %s: the record of session %s in %s is not signed with this "
         "store's key (not written by this server, or copied from another session); "
         "it is not loaded, a new session starts" % (kind, sid, where), apache.APLOG_WARNING)


def _default_directory(req, kind):
    """The private directory httpd's parent made for the session stores."""
    get = getattr(_apache, "_session_directory", None)
    directory = get() if get is not None else None
    if not directory:
        _log(req, "MP1004: %s: httpd made no session directory; set PythonOption "
             "mod_python.session.database_directory" % kind, apache.APLOG_ERR)
        raise apache.SERVER_RETURN(apache.HTTP_INTERNAL_SERVER_ERROR)
    return directory


# ------------------------------------------------------------------ BaseSession

class BaseSession(dict):
    """A session: a dict with an id, stored by a subclass's do_load(),
    do_save(state), do_delete() and do_cleanup()."""

    def __init__(self, req, sid=None, secret=None, lock=1, timeout=0):
        self._req, self._sid, self._secret = req, sid, secret
        self._lock = lock
        self._new = True
        self._created = 0
        self._accessed = 0
        self._timeout = 0
        self._locked = False
        self._lock_token = None
        self._cleanup_registered = False
        self._invalid = False
        dict.__init__(self)

        if not self._sid:
            self._sid = self._sid_from_cookie()
        if self._sid and not _check_sid(self._sid):
            if sid:
                raise ValueError("Invalid Session ID: sid=%s" % (sid,))
            self._sid = None          # forged or foreign cookie: new session

        self.init_lock()

        if self._sid:
            self.lock()
            if self.load():
                self._new = False

        if self._new:
            if self._sid:
                self.unlock()
            self._sid = _new_sid(req)
            self.lock()
            Cookie.add_cookie(req, self.make_cookie())
            self._created = time.time()
            self._timeout = timeout or DFT_TIMEOUT

        self._accessed = time.time()

        chance = _cleanup_chance(req)
        if chance and random.randint(1, chance) == 1:
            self.cleanup()

    # ---------------------------------------------------------- cookie
    def _cookie_name(self):
        return _option(self._req.get_options(), "mod_python.session.cookie_name",
                       "session_cookie_name", default=COOKIE_NAME)

    def _sid_from_cookie(self):
        name = self._cookie_name()
        if self._secret:
            cookie = Cookie.get_cookie(self._req, name, Class=Cookie.SignedCookie,
                                       secret=self._secret,
                                       mismatch=Cookie.Cookie.IGNORE)
        else:
            cookie = Cookie.get_cookie(self._req, name)
        return cookie.value if cookie is not None else None

    def make_cookie(self):
        """The session cookie (SignedCookie when there is a secret)."""
        req = self._req
        opts = req.get_options()
        name = self._cookie_name()
        if self._secret:
            c = Cookie.SignedCookie(name, self._sid, secret=self._secret)
        else:
            c = Cookie.Cookie(name, self._sid)
        domain = _option(opts, "mod_python.session.application_domain")
        if domain:
            c.domain = domain
        path = _option(opts, "mod_python.session.application_path", "ApplicationPath")
        if path is None:
            # the directory of the handler's configuration, relative to the
            # document root; "/" when that does not fit the URI (Location,
            # Alias, UserDir...)
            hlist = getattr(req, "hlist", None)
            dirpath = getattr(hlist, "directory", None) if hlist is not None else None
            if dirpath:
                path = dirpath[len(req.document_root()):]
            else:
                path = "/"
            if not path or not (req.uri or "").startswith(path):
                path = "/"
        c.path = path
        return c

    # ---------------------------------------------------------- storage
    def load(self):
        state = self.do_load()
        if state is None:
            return False
        try:
            expired = (time.time() - state["_accessed"]) > state["_timeout"]
        except (KeyError, TypeError):
            return False
        if expired:
            return False
        self._created = state["_created"]
        self._accessed = state["_accessed"]
        self._timeout = state["_timeout"]
        self.update(state["_data"])
        return True

    def save(self):
        if not self._invalid:
            self.do_save({"_data": dict(self),
                          "_created": self._created,
                          "_accessed": self._accessed,
                          "_timeout": self._timeout})

    def delete(self):
        self.do_delete()
        self.clear()

    def invalidate(self):
        """Expire the cookie in the browser and delete the stored session;
        save() does nothing afterwards."""
        c = self.make_cookie()
        c.expires = 0
        Cookie.add_cookie(self._req, c)
        self.delete()
        self._invalid = True

    # ---------------------------------------------------------- locking
    def init_lock(self):
        pass

    def lock(self):
        if self._lock and not self._locked:
            self._lock_token = self._lock_take()
            self._locked = True
            if not self._cleanup_registered:
                self._req.register_cleanup(_unlock_session_cleanup, self)
                self._cleanup_registered = True

    def unlock(self):
        if self._lock and self._locked:
            token, self._lock_token = self._lock_token, None
            self._locked = False
            self._lock_give(token)

    # The lock itself: the session id's global mutex (RedisSession and
    # MemcachedSession keep it in their store).
    def _lock_take(self):
        return _acquire(self._req, self._sid)

    def _lock_give(self, token):
        _release(self._req, token)

    def __del__(self):
        try:
            self.unlock()
        except Exception:
            pass

    # ---------------------------------------------------------- accessors
    def is_new(self):
        return bool(self._new)

    def id(self):
        return self._sid

    def created(self):
        return self._created

    def last_accessed(self):
        return self._accessed

    def timeout(self):
        return self._timeout

    def set_timeout(self, secs):
        self._timeout = secs

    def cleanup(self):
        self.do_cleanup()

    # ---------------------------------------------------------- for subclasses
    def do_load(self):
        raise NotImplementedError

    def do_save(self, state):
        raise NotImplementedError

    def do_delete(self):
        raise NotImplementedError

    def do_cleanup(self):
        raise NotImplementedError


def _expired(state, now, grace=0):
    return (now - state["_accessed"]) > (state["_timeout"] + grace)


# ------------------------------------------------------------------ MemorySession

class MemorySession(BaseSession):
    """Sessions kept in a class-level dict: per process and interpreter, so
    only right when one process serves all requests."""

    sdict = {}

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1):
        BaseSession.__init__(self, req, sid=sid, secret=secret,
                             timeout=timeout, lock=lock)

    def do_cleanup(self):
        self._req.register_cleanup(mem_cleanup, MemorySession.sdict)
        _log(self._req, "MP0382: MemorySession: registered session cleanup.")

    def do_load(self):
        return MemorySession.sdict.get(self._sid)

    def do_save(self, state):
        MemorySession.sdict[self._sid] = state

    def do_delete(self):
        MemorySession.sdict.pop(self._sid, None)


def mem_cleanup(sdict):
    now = time.time()
    for sid in list(sdict):
        state = sdict.get(sid)
        try:
            if state is not None and _expired(state, now):
                sdict.pop(sid, None)
        except (KeyError, TypeError):
            sdict.pop(sid, None)


# ------------------------------------------------------------------ DbmSession

# the files a dbm module may make for name "x": x (gdbm), x.db (ndbm),
# x.dir/x.pag (ndbm, dumb), x.dat/x.bak (dumb)
_DBM_SUFFIXES = ("", ".db", ".dir", ".pag", ".dat", ".bak")


def _check_dbm_files(filename):
    for suffix in _DBM_SUFFIXES:
        path = filename + suffix
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise StoreRefused(path, "cannot examine it: %s" % (e.strerror or e)) from None
        _check_file(path, st)


def _open_dbm(filename, dbmtype):
    """Open a DbmSession file, checked before (no foreign file is ever
    parsed) and after (one made meanwhile)."""
    _check_dbm_files(filename)
    db = dbmtype.open(filename, "c", 0o640)
    try:
        _check_dbm_files(filename)
    except BaseException:
        db.close()
        raise
    return db


class DbmSession(BaseSession):
    """Sessions pickled into one dbm file, signed with the key in
    <file>.key; every access holds global mutex 0."""

    def __init__(self, req, dbm=None, sid=0, secret=None, dbmtype=_dbm_module,
                 timeout=0, lock=1):
        if not dbm:
            opts = req.get_options()
            dbm = _option(opts, "mod_python.dbm_session.database_filename", "session_dbm")
            if not dbm:
                directory = _option(opts, "mod_python.dbm_session.database_directory",
                                    "mod_python.session.database_directory",
                                    "session_directory")
                if directory is None:
                    directory = _default_directory(req, "DbmSession")
                dbm = os.path.join(directory, "mp_sess.dbm")
        try:
            directory = _checked_dir(os.path.dirname(os.path.abspath(dbm)), 0o700,
                                     sticky_ok=True)
            self._dbmfile = os.path.join(directory, os.path.basename(dbm))
            _check_dbm_files(self._dbmfile)
            self._key = store_key(self._dbmfile + ".key")
        except StoreRefused as e:
            _refuse(req, "DbmSession", e)
        self._dbmtype = dbmtype
        BaseSession.__init__(self, req, sid=sid, secret=secret,
                             timeout=timeout, lock=lock)

    def _with_dbm(self, func):
        token = _acquire(self._req, None, 0)
        try:
            try:
                db = _open_dbm(self._dbmfile, self._dbmtype)
            except StoreRefused as e:
                _refuse(self._req, "DbmSession", e)
            try:
                return func(db)
            finally:
                db.close()
        finally:
            _release(self._req, token)

    def do_cleanup(self):
        self._req.register_cleanup(dbm_cleanup,
                                   [self._dbmfile, self._req.server, self._dbmtype,
                                    self._req, self._key])
        _log(self._req, "MP0382: DbmSession: registered database cleanup.")

    def do_load(self):
        key = self._sid.encode("ascii")
        data = self._with_dbm(lambda db: db.get(key))
        if data is None:
            return None
        payload = unsign(self._key, self._sid, data)
        if payload is None:
            _log_unsigned(self._req, "DbmSession", self._sid, self._dbmfile)
            return None
        return pickle.loads(payload)

    def do_save(self, state):
        data = sign(self._key, self._sid, pickle.dumps(state))

        def save(db):
            db[self._sid.encode("ascii")] = data
        self._with_dbm(save)

    def do_delete(self):
        def delete(db):
            try:
                del db[self._sid.encode("ascii")]
            except KeyError:
                pass
        self._with_dbm(delete)


def _dbm_state(storekey, key, data):
    """The state dict of a DbmSession record, None when it does not verify."""
    try:
        sid = key.decode("ascii")
    except UnicodeDecodeError:
        return None
    payload = unsign(storekey, sid, data) if _check_sid(sid) else None
    return None if payload is None else pickle.loads(payload)


def dbm_cleanup(data):
    """Delete the expired, unsigned and unreadable entries of a DbmSession
    file.  data = [filename, server, dbm module, request, key]."""
    filename, server = data[0], data[1]
    dbmtype = data[2] if len(data) > 2 else _dbm_module
    req = data[3] if len(data) > 3 else None
    if req is not None:
        token = _acquire(req, None, 0)
    else:
        _apache._global_lock(server, None, 0)
    try:
        storekey = data[4] if len(data) > 4 else store_key(filename + ".key")
        db = _open_dbm(filename, dbmtype)
        try:
            now, old, total = time.time(), [], 0
            for key in list(db.keys()):
                total += 1
                try:
                    state = _dbm_state(storekey, key, db[key])
                    if state is None or _expired(state, now):
                        old.append(key)
                except Exception:
                    old.append(key)
            for key in old:
                try:
                    del db[key]
                except KeyError:
                    pass
        finally:
            db.close()
    except StoreRefused as e:
        apache.log_error("MP1002: DbmSession cleanup: refusing the session store %s: %s"
                         % (e.path, e.problem), apache.APLOG_ERR, server)
        return
    finally:
        if req is not None:
            _release(req, token)
        else:
            _apache._global_unlock(server, None, 0)
    apache.log_error("MP0386: DbmSession cleanup: deleted %d of %d sessions in %s"
                     % (len(old), total, filename), apache.APLOG_NOTICE, server)


# ------------------------------------------------------------------ FileSession

DFT_FAST_CLEANUP = True
DFT_VERIFY_CLEANUP = True
DFT_GRACE_PERIOD = 240
DFT_CLEANUP_TIME_LIMIT = 2
FS_STAT_VERSION = "MPFS_3.2"
FS_KEY_NAME = "mp_sess.key"


class FileSession(BaseSession):
    """One signed pickle file per session in <dir>/mp_sess/<sid[:2]>/<sid>;
    the key is <dir>/mp_sess/mp_sess.key."""

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1,
                 fast_cleanup=-1, verify_cleanup=-1):
        opts = req.get_options()
        if fast_cleanup == -1:
            fast_cleanup = true_or_false(_option(
                opts, "mod_python.file_session.enable_fast_cleanup",
                "session_fast_cleanup", default=DFT_FAST_CLEANUP))
        if verify_cleanup == -1:
            verify_cleanup = true_or_false(_option(
                opts, "mod_python.file_session.verify_session_timeout",
                "session_verify_cleanup", default=DFT_VERIFY_CLEANUP))
        self._fast_cleanup = fast_cleanup
        self._verify_cleanup = verify_cleanup
        self._grace_period = int(_option(
            opts, "mod_python.file_session.cleanup_grace_period",
            "session_grace_period", default=DFT_GRACE_PERIOD))
        self._cleanup_time_limit = int(_option(
            opts, "mod_python.file_session.cleanup_time_limit",
            "session_cleanup_time_limit", default=DFT_CLEANUP_TIME_LIMIT))
        directory = _option(opts, "mod_python.file_session.database_directory",
                            "mod_python.session.database_directory",
                            "session_directory")
        try:
            if directory is None:
                # made by httpd's parent: it must be the server's own
                directory = _checked_dir(_default_directory(req, "FileSession"))
            else:
                directory = _checked_dir(directory, 0o700, sticky_ok=True)
            self._sessdir = _checked_dir(os.path.join(directory, "mp_sess"), 0o700,
                                         parents=False)
            self._key = store_key(os.path.join(self._sessdir, FS_KEY_NAME))
        except StoreRefused as e:
            _refuse(req, "FileSession", e)
        self._cleanup_timeout = timeout or DFT_TIMEOUT
        BaseSession.__init__(self, req, sid=sid, secret=secret,
                             timeout=timeout, lock=lock)

    def _filename(self):
        return os.path.join(self._sessdir, self._sid[:2], self._sid)

    # The file operations always hold the session's mutex: the session lock
    # when it is held, else they take (and give back) the mutex themselves.
    def lock_file(self):
        return _acquire(self._req, self._sid)

    def unlock_file(self, token):
        _release(self._req, token)

    def do_cleanup(self):
        self._req.register_cleanup(filesession_cleanup, {
            "req": self._req,
            "sessdir": self._sessdir,
            "key": self._key,
            "fast_cleanup": self._fast_cleanup,
            "verify_cleanup": self._verify_cleanup,
            "timeout": self._cleanup_timeout,
            "grace_period": self._grace_period,
            "cleanup_time_limit": self._cleanup_time_limit,
        })
        _log(self._req, "MP0382: FileSession: registered filesession cleanup.")

    def _read(self, filename):
        """The verified payload of a session file, None when there is none
        (or it does not verify: logged).  Raises StoreRefused."""
        if not os.path.lexists(os.path.dirname(filename)):
            return None                   # nothing saved in this part yet
        _checked_dir(os.path.dirname(filename), parents=False)
        data = _read_checked(filename)
        if data is None:
            return None
        payload = unsign(self._key, self._sid, data)
        if payload is None:
            _log_unsigned(self._req, "FileSession", self._sid, filename)
        return payload

    def do_load(self):
        token = self.lock_file()
        try:
            filename = self._filename()
            payload = self._read(filename)
            if payload is None:
                return None
            state = pickle.loads(payload)
            if not _expired(state, time.time()):
                # a fresh mtime keeps the fast cleanup away from this file
                os.utime(filename, None)
            return state
        except StoreRefused as e:
            _refuse(self._req, "FileSession", e)
        except FileNotFoundError:
            return None                   # deleted by a cleanup meanwhile
        except Exception:
            _log(self._req, "MP0380: FileSession: error while loading session %s:\n%s"
                 % (self._sid, traceback.format_exc()), apache.APLOG_ERR)
            return None
        finally:
            self.unlock_file(token)

    def do_save(self, state):
        token = self.lock_file()
        try:
            path = os.path.join(self._sessdir, self._sid[:2])
            if not os.path.isdir(path):
                make_filesession_dirs(self._sessdir)
            _checked_dir(path, parents=False)
            _write_atomically(self._filename(),
                              sign(self._key, self._sid, pickle.dumps(state, 2)))
        except StoreRefused as e:
            _refuse(self._req, "FileSession", e)
        except Exception:
            _log(self._req, "MP0381: FileSession: error while saving session %s:\n%s"
                 % (self._sid, traceback.format_exc()), apache.APLOG_ERR)
        finally:
            self.unlock_file(token)

    def do_delete(self):
        token = self.lock_file()
        try:
            os.unlink(self._filename())
        except OSError:
            pass
        finally:
            self.unlock_file(token)


def make_filesession_dirs(sess_dir):
    """Create <sess_dir>/00 .. ff (mode 0750); safe when several processes
    do it at once."""
    for i in range(256):
        os.makedirs(os.path.join(sess_dir, "%02x" % i), 0o750, exist_ok=True)


def _write_atomically(filename, data):
    """Write to a temporary file beside `filename`, then rename it over: a
    reader (or the cleanup) never sees a half-written session."""
    tmp = "%s.%d.%d.tmp" % (filename, os.getpid(), threading.get_ident())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
                 | os.O_CLOEXEC, 0o640)
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
        os.replace(tmp, filename)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_status(status_path):
    try:
        with open(status_path) as fp:
            fields = fp.readline().split()
        next_i = int(fields[1])
        return next_i if 0 <= next_i < 256 else 0
    except (OSError, ValueError, IndexError):
        return 0


def _take_cleanup_lock(req, sessdir):
    """Create <sessdir>/.mp_sess.lck exclusively; returns its fd or None
    (another cleanup runs, or a stale lock file was just removed)."""
    lockfile = os.path.join(sessdir, ".mp_sess.lck")
    try:
        return os.open(lockfile, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o660)
    except FileExistsError:
        pass
    try:
        stale = os.stat(lockfile).st_mtime < time.time() - 3600
        if stale:
            os.remove(lockfile)
    except FileNotFoundError:
        return None
    if stale:
        _log(req, "MP0384: FileSession cleanup: stale lock file %s removed; "
             "cleanup deferred" % lockfile)
    else:
        _log(req, "MP0384: FileSession cleanup: another process is already running")
    return None


def _cleanup_file(filename, now, opts):
    """Delete one session file if it expired; True when deleted.  A file
    whose record does not verify goes by its age alone."""
    timeout, grace = opts["timeout"], opts["grace_period"]
    name = os.path.basename(filename)
    old = now - os.lstat(filename).st_mtime >= timeout + grace
    if not _SID_RE.match(name):
        # a temporary file a crashed writer left behind
        if not old:
            return False
        os.unlink(filename)
        return True
    if opts["fast_cleanup"] and not old:
        return False
    if not opts["fast_cleanup"] or opts["verify_cleanup"]:
        data = _read_checked(filename)
        payload = None if data is None else unsign(opts["key"], name, data)
        if payload is None:
            if not old:
                return False
        elif not _expired(pickle.loads(payload), now, grace):
            return False
    os.unlink(filename)
    return True


def _scan_dirs(req, sessdir, next_i, opts):
    """Clean sub-directories from index next_i on; returns (next index,
    expired, total)."""
    start = time.time()
    expired = total = 0
    for i in range(next_i, 256):
        path = os.path.join(sessdir, "%02x" % i)
        try:
            names = os.listdir(path)
        except FileNotFoundError:
            names = []
        total += len(names)
        for name in names:
            try:
                if _cleanup_file(os.path.join(path, name), time.time(), opts):
                    expired += 1
            except FileNotFoundError:
                pass
            except Exception:
                _log(req, "MP0385: FileSession cleanup error on %s:\n%s"
                     % (os.path.join(path, name), traceback.format_exc()))
        next_i = (i + 1) % 256
        limit = opts["cleanup_time_limit"]
        if limit > 0 and time.time() - start > limit:
            break
    return next_i, expired, total


def filesession_cleanup(data):
    """Delete expired FileSession files (a request cleanup).

    Files are kept for a grace period past their timeout, so a session that
    a request is about to save is not deleted under it.  Runs at most once
    at a time (lock file), resumes where the last run stopped when it ran
    out of time."""
    req = data["req"]
    sessdir = data["sessdir"]
    _log(req, "MP0383: FileSession cleanup: (fast=%s, verify=%s) ..."
         % (data["fast_cleanup"], data["verify_cleanup"]), apache.APLOG_INFO)
    if not os.path.isdir(sessdir):
        return
    lockfd = _take_cleanup_lock(req, sessdir)
    if lockfd is None:
        return
    try:
        if data.get("key") is None:
            data = dict(data, key=store_key(os.path.join(sessdir, FS_KEY_NAME)))
        status_path = os.path.join(sessdir, "fs_status.txt")
        start = time.time()
        next_i, expired, total = _scan_dirs(req, sessdir, _read_status(status_path), data)
        total_time = time.time() - start
        # status first: whoever reads the log line finds the status written
        _write_atomically(status_path, ("%s %d %d %d %f\n" % (
            FS_STAT_VERSION, next_i, expired, total, total_time)).encode("ascii"))
        if next_i == 0:
            _log(req, "MP0383: FileSession cleanup: deleted %d of %d in %.4f seconds"
                 % (expired, total, total_time))
        else:
            _log(req, "MP0383: FileSession cleanup incomplete: next cleanup will start "
                 "at index %d (%02x)" % (next_i, next_i))
    except Exception:
        _log(req, "MP0385: FileSession cleanup failed:\n%s" % traceback.format_exc(),
             apache.APLOG_ERR)
    finally:
        os.close(lockfd)
        try:
            os.unlink(os.path.join(sessdir, ".mp_sess.lck"))
        except OSError:
            pass


# ------------------------------------------------------------------ factory

def Session(req, sid=0, secret=None, timeout=0, lock=1):
    """A session of the type named by PythonOption
    mod_python.session.session_type (FileSession, DbmSession, MemorySession,
    RedisSession, MemcachedSession);
    without it MemorySession when one multi-threaded process serves all
    requests, else DbmSession."""
    sess_type = _option(req.get_options(), "mod_python.session.session_type", "session")
    if sess_type is None:
        threaded = _apache.mpm_query(apache.AP_MPMQ_IS_THREADED)
        forked = _apache.mpm_query(apache.AP_MPMQ_IS_FORKED)
        daemons = _apache.mpm_query(apache.AP_MPMQ_MAX_DAEMONS)
        if threaded and (not forked or daemons == 1):
            sess_type = "MemorySession"
        else:
            sess_type = "DbmSession"
    classes = {"FileSession": FileSession, "DbmSession": DbmSession,
               "MemorySession": MemorySession}
    if sess_type in _NET_CLASSES:
        cls = __getattr__(sess_type)
    elif sess_type in classes:
        cls = classes[sess_type]
    else:
        raise Exception("Unknown session type %s" % sess_type)
    return cls(req, sid=sid, secret=secret, timeout=timeout, lock=lock)


# RedisSession and MemcachedSession live in mod_python._session_net, loaded
# on first use (their client libraries only then).
_NET_CLASSES = ("RedisSession", "MemcachedSession")


def __getattr__(name):
    if name in _NET_CLASSES:
        from mod_python import _session_net
        return getattr(_session_net, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
