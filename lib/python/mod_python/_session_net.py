"""RedisSession and MemcachedSession: sessions in a store shared by several
httpd servers (mod_python.Session imports these names on first use).

    PythonOption mod_python.session.session_type  RedisSession
    PythonOption mod_python.session.redis_url     redis://127.0.0.1:6379/0
    PythonOption mod_python.session.store_secret  <the same on every host>

redis_url is redis-py's: redis://, rediss:// (TLS; the certificate checked
against the system's CAs or ?ssl_ca_certs=FILE, and its host name unless
?ssl_check_hostname=false) or unix:///path/to/socket?db=N.

What is stored is signed: HMAC-SHA256 keyed by store_secret over the
record's key (prefix + session id) and the pickled data, so a value the
module did not write, or one copied from another session, is never
unpickled.  The session lock lives in the store (Redis: SET NX PX and a
compare-and-delete script; memcached: add with an expiry, released by a
CAS that expires it), so every server sharing the store serialises the
requests of one session; a lock whose holder died expires after
lock_timeout.  Expiry is the store's own TTL.  Every store call times out
after store_timeout; a store that is down or frozen gives the request a 503
and one log line.

The client libraries are Debian's python3-redis and python3-pymemcache,
imported only when a class is first used.

Messages are tagged MP1010-MP1029.
"""
import math
import pickle
import random
import secrets
import threading
import time
import traceback
from urllib.parse import unquote, urlsplit, urlunsplit

from mod_python import apache
from mod_python.Session import BaseSession, _held, _log, _option, sign, unsign

DFT_REDIS_URL = "redis://127.0.0.1:6379/0"
DFT_MEMCACHED_SERVERS = "127.0.0.1:11211"
DFT_PREFIX = "mp_sess:"
DFT_LOCK_TIMEOUT = 30.0        # seconds
DFT_STORE_TIMEOUT = 2.0        # seconds, per store call
DFT_MEMCACHED_ITEM_SIZE = 1024 * 1024   # memcached's default -I
_ITEM_OVERHEAD = 64            # memcached's item header, roughly, besides the key
_MEMCACHED_MAX_RELATIVE = 30 * 24 * 3600
_LOCK_SUFFIX = ":lock"


class StoreError(Exception):
    """A store call failed (down, frozen, refused): the request gets a 503."""


def _need(module, package, kind):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as e:
        raise ImportError("mod_python.Session.%s needs the Python module '%s': install "
                          "Debian's %s" % (kind, module.split(".")[0], package)) from e


# ------------------------------------------------------------------ Redis

_LOCK_LUA = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('get', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""
_UNLOCK_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


_SECRET_QUERY = ("password", "ssl_password")


def _redact(url):
    """The URL without its password or ssl_password (for the log)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(a URL that does not parse)"
    netloc, query = parts.netloc, parts.query
    if password is not None:
        netloc = "%s:***@%s" % (parts.username or "", netloc.rpartition("@")[2])
    if query:
        items = [item.partition("=") for item in query.split("&")]
        query = "&".join(name + sep + ("***" if unquote(name) in _SECRET_QUERY else value)
                         for name, sep, value in items)
    # by hand: urlunsplit drops the empty host of unix:///path
    return "%s://%s%s%s%s" % (parts.scheme, netloc, parts.path, "?" + query if query else "",
                              "#" + parts.fragment if parts.fragment else "")


def _readable(option, path):
    """ValueError unless this process can read the file path (the ssl_*
    file named by the URL's query parameter option)."""
    try:
        with open(path, "rb"):
            pass
    except OSError as e:
        raise ValueError("%s %s cannot be read: %s" % (option, path, e.strerror)) from None


class _RedisStore:
    """One connection pool per URL and process (redis-py's, thread-safe);
    a connection found dead (server restarted) is reconnected and the
    command sent once more (every command here may safely run twice).

    The URL's query parameters go to redis-py's connection (rediss://:
    ssl_ca_certs, ssl_cert_reqs, ssl_certfile, ssl_keyfile,
    ssl_check_hostname...).  rediss:// checks the certificate's host name
    unless ?ssl_check_hostname=false.  A URL redis-py would refuse only at
    its first connection (a parameter the scheme does not take, a bad value,
    an ssl_* file that cannot be read) raises ValueError here."""

    def __init__(self, url, timeout):
        redis = _need("redis", "python3-redis", "RedisSession")
        self.name = _redact(url)
        scheme = urlsplit(url).scheme
        extra = {}
        if scheme != "unix":
            # a Unix socket connection has no separate connect timeout:
            # socket_timeout covers the connect as well
            extra["socket_connect_timeout"] = timeout
        if scheme == "rediss":
            extra["ssl_check_hostname"] = True     # the URL's own value wins
        pool = redis.ConnectionPool.from_url(
            url, socket_timeout=timeout,
            retry_on_error=[redis.exceptions.ConnectionError], **extra)
        try:
            pool.connection_class(**pool.connection_kwargs)     # made, not connected
        except TypeError as e:
            raise ValueError("a query parameter a %s:// URL does not take (%s)"
                             % (scheme, e)) from None
        except redis.exceptions.RedisError as e:
            raise ValueError(str(e)) from None
        for option in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile"):
            if pool.connection_kwargs.get(option):
                _readable(option, pool.connection_kwargs[option])
        self._r = redis.Redis(connection_pool=pool)
        self._lock = self._r.register_script(_LOCK_LUA)
        self._unlock = self._r.register_script(_UNLOCK_LUA)
        self._errors = (redis.exceptions.RedisError, OSError)

    def where(self, key):
        return self.name

    def call(self, method, *args):
        try:
            return getattr(self, "_" + method)(*args)
        except self._errors as e:
            raise StoreError("%s: %s" % (type(e).__name__, e)) from None

    def _get(self, key):
        return self._r.get(key), None

    def _put(self, key, record, ttl, version, max_size):
        self._r.set(key, record, px=max(1, int(ttl * 1000)))
        return True

    def _delete(self, key):
        self._r.delete(key)

    def _lock_try(self, key, token, ttl):
        return bool(self._lock(keys=[key], args=[token, max(1, int(ttl * 1000))]))

    def _unlock_key(self, key, token):
        self._unlock(keys=[key], args=[token])


# ------------------------------------------------------------------ memcached

def _memcached_expire(ttl):
    """memcached's exptime for a TTL in seconds: whole seconds (at least
    1); past 30 days memcached wants an absolute time."""
    secs = max(1, int(math.ceil(ttl)))
    return int(time.time()) + secs if secs > _MEMCACHED_MAX_RELATIVE else secs


def _parse_servers(text):
    servers = []
    for item in text.split(","):
        host, sep, port = item.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(item.strip())
        servers.append((host.strip("[]"), int(port)))
    return servers


class _MemcachedStore:
    """Keys sharded over the servers by rendezvous (consistent) hashing,
    fixed: a server that is down fails the keys it holds, nothing moves.
    One connection pool per server and process (pymemcache's); when a
    pooled connection turns out closed (server restarted), the idle ones are
    dropped and the call made once more on a new connection."""

    def __init__(self, servers, timeout):
        base = _need("pymemcache.client.base", "python3-pymemcache", "MemcachedSession")
        rendezvous = _need("pymemcache.client.rendezvous", "python3-pymemcache",
                           "MemcachedSession")
        exc = _need("pymemcache.exceptions", "python3-pymemcache", "MemcachedSession")
        self._clients = {}
        for host, port in servers:
            name = "%s:%d" % (host, port)
            self._clients[name] = base.PooledClient(
                (host, port), connect_timeout=timeout, timeout=timeout, no_delay=True,
                default_noreply=False)
        self._ring = rendezvous.RendezvousHash(nodes=list(self._clients))
        self._stale = (exc.MemcacheUnexpectedCloseError, ConnectionResetError,
                       BrokenPipeError)
        self._errors = (exc.MemcacheError, OSError)
        self.name = "memcached " + ",".join(self._clients)

    def _node(self, key):
        # a session's lock lives on the server of its data
        return self._ring.get_node(key[:-len(_LOCK_SUFFIX)] if key.endswith(_LOCK_SUFFIX)
                                   else key)

    def where(self, key):
        return "memcached " + self._node(key)

    def call(self, method, key, *args):
        client = self._clients[self._node(key)]
        try:
            try:
                return getattr(self, "_" + method)(client, key, *args)
            except self._stale:
                client.client_pool.clear()
                return getattr(self, "_" + method)(client, key, *args)
        except self._errors as e:
            raise StoreError("%s: %s" % (type(e).__name__, e)) from None

    @staticmethod
    def _get(client, key):
        return client.gets(key)

    @staticmethod
    def _put(client, key, record, ttl, version, max_size):
        """Add a new session, or CAS over the version it was loaded as (or
        over what this object wrote last): False when someone else wrote
        meanwhile."""
        if len(record) + len(key) + _ITEM_OVERHEAD > max_size:
            raise ValueError(len(record))
        expire = _memcached_expire(ttl)
        if version is None:
            return bool(client.add(key, record, expire=expire, noreply=False))
        if isinstance(version, tuple):          # ("written", record)
            value, cas = client.gets(key)
            if value != version[1]:
                return False
            version = cas
        return bool(client.cas(key, record, version, expire=expire, noreply=False))

    @staticmethod
    def _delete(client, key):
        client.delete(key, noreply=False)

    @staticmethod
    def _lock_try(client, key, token, ttl):
        token = token.encode("ascii")
        if client.add(key, token, expire=_memcached_expire(ttl), noreply=False):
            return True
        return client.get(key) == token         # ours already (a retried add)

    @staticmethod
    def _unlock_key(client, key, token):
        value, cas = client.gets(key)
        if value == token.encode("ascii"):
            # compare-and-expire: a negative exptime expires the item at once
            client.cas(key, b"-", cas, expire=-1, noreply=False)


# ------------------------------------------------------------------ sessions

_stores = {}
_stores_lock = threading.Lock()


def _store(factory, *config):
    """The process's store client for this configuration (made once)."""
    key = (factory,) + config
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = factory(*config)
        return store


def _seconds(req, kind, name, value, default):
    """The value of PythonOption mod_python.session.<name>: seconds > 0."""
    if value is None:
        return default
    try:
        secs = float(value)
        if secs > 0 and secs != float("inf"):
            return secs
    except ValueError:
        pass
    _fail(req, "MP1015: %s: PythonOption mod_python.session.%s %r is not a positive "
          "number of seconds" % (kind, name, value))


def _fail(req, message, status=apache.HTTP_INTERNAL_SERVER_ERROR):
    _log(req, message, apache.APLOG_ERR)
    raise apache.SERVER_RETURN(status)


class _NetSession(BaseSession):
    """A BaseSession in a shared store, locked in the store."""

    _kind = None

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1):
        opts = req.get_options()
        kind = self._kind
        store_secret = _option(opts, "mod_python.session.store_secret")
        if not store_secret:
            _fail(req, "MP1010: %s: PythonOption mod_python.session.store_secret is not "
                  "set; it is required (the same value on every server sharing the "
                  "store) to sign what is stored" % kind)
        self._store_key = store_secret.encode("utf-8")
        self._lock_timeout = _seconds(req, kind, "lock_timeout", _option(
            opts, "mod_python.session.lock_timeout"), DFT_LOCK_TIMEOUT)
        store_timeout = _seconds(req, kind, "store_timeout", _option(
            opts, "mod_python.session.store_timeout"), DFT_STORE_TIMEOUT)
        self._prefix, self._store = self._connect(req, store_timeout)
        self._version = self._version_key = None
        BaseSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _checked_prefix(self, req, name, prefix):
        """The key prefix (PythonOption mod_python.session.<name>)."""
        if not prefix.isascii() or not prefix.isprintable() or " " in prefix \
                or len(prefix) > 150:
            _fail(req, "MP1015: %s: PythonOption mod_python.session.%s %r must be printable "
                  "ASCII without spaces, at most 150 characters" % (self._kind, name, prefix))
        return prefix

    def _data_key(self):
        return self._prefix + self._sid

    # ---------------------------------------------------------- store calls
    def _call(self, doing, method, key, *args, fatal=True):
        """store.call(...); a StoreError is logged (one line) and, when
        fatal, answered with 503."""
        try:
            return self._store.call(method, key, *args)
        except StoreError as e:
            _log(self._req, "MP1011: %s: the session store (%s) failed while %s session "
                 "%s: %s%s" % (self._kind, self._store.where(key), doing, self._sid, e,
                               "; answering 503" if fatal else ""), apache.APLOG_ERR)
            if fatal:
                raise apache.SERVER_RETURN(apache.HTTP_SERVICE_UNAVAILABLE) from None
            return None

    # ---------------------------------------------------------- locking
    def _lock_slot(self):
        return ("store", self._store.name, self._prefix, self._sid)

    def _take_lock(self):
        """Wait for the session's lock in the store.  A live holder keeps it
        at most lock_timeout (then it expires), so this waits about that
        long at worst; past twice that it gives up with a 503.  Sleeps
        between tries (1 ms doubling to 50 ms, jittered; the GIL released)."""
        key = self._data_key() + _LOCK_SUFFIX
        token = secrets.token_hex(16)
        start = time.monotonic()
        delay = 0.001
        while not self._call("locking", "lock_try", key, token, self._lock_timeout):
            waited = time.monotonic() - start
            if waited > 2 * self._lock_timeout:
                _fail(self._req, "MP1012: %s: waited %.1f s for the lock of session %s "
                      "(lock_timeout %g s); answering 503"
                      % (self._kind, waited, self._sid, self._lock_timeout),
                      apache.HTTP_SERVICE_UNAVAILABLE)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.05)
        return key, token

    def _lock_take(self):
        # the id was validated by BaseSession before any key is built
        held, slot = _held(self._req), self._lock_slot()
        entry = held.get(slot)
        if entry is None:
            held[slot] = [self._take_lock(), 1]
        else:
            entry[1] += 1                 # a second object for this session
        return slot

    def _lock_give(self, slot):
        held = _held(self._req)
        entry = held.get(slot)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del held[slot]
            key, token = entry[0]
            self._call("unlocking", "unlock_key", key, token, fatal=False)

    # ---------------------------------------------------------- storage
    def do_load(self):
        key = self._data_key()
        record, version = self._call("loading", "get", key)
        self._version, self._version_key = version, key
        if record is None:
            return None
        payload = unsign(self._store_key, key, record)
        if payload is None:
            _log(self._req, "MP1013: %s: the record of session %s in %s is not signed "
                 "with this store_secret (not written by mod_python with this secret, or "
                 "copied from another session); it is not loaded, a new session starts"
                 % (self._kind, self._sid, self._store.where(key)), apache.APLOG_WARNING)
            return None
        try:
            return pickle.loads(payload)
        except Exception:
            _log(self._req, "MP1016: %s: cannot unpickle session %s:\n%s"
                 % (self._kind, self._sid, traceback.format_exc()), apache.APLOG_ERR)
            return None

    def do_save(self, state):
        key = self._data_key()
        if state["_timeout"] <= 0:
            self.do_delete()
            return
        record = sign(self._store_key, key, pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        version = self._version if self._version_key == key else None
        try:
            ok = self._call("saving", "put", key, record, state["_timeout"], version,
                            self._max_item_size())
        except ValueError:
            _fail(self._req, "MP1017: %s: session %s is %d bytes, more than the store's "
                  "item size (PythonOption mod_python.session.memcached_max_item_size "
                  "%d, memcached -I); not saved"
                  % (self._kind, self._sid, len(record), self._max_item_size()))
        if not ok:
            _fail(self._req, "MP1014: %s: session %s was changed in the store since this "
                  "request loaded it (its lock expired, or lock=0); this save is refused, "
                  "answering 503" % (self._kind, self._sid), apache.HTTP_SERVICE_UNAVAILABLE)
        self._version, self._version_key = ("written", record), key

    def do_delete(self):
        key = self._data_key()
        self._call("deleting", "delete", key)
        self._version = self._version_key = None

    def do_cleanup(self):
        pass                              # the store expires sessions itself

    def _max_item_size(self):
        return 0


class RedisSession(_NetSession):
    """Sessions in Redis (PythonOption mod_python.session.redis_url,
    redis://[[user]:password@]host:port/db, rediss://...[?ssl_ca_certs=FILE],
    unix://[[user]:password@]/path/to/socket[?db=N])."""

    _kind = "RedisSession"

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1):
        _NetSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _connect(self, req, store_timeout):
        """(key prefix, store client) from the options."""
        opts = req.get_options()
        url = _option(opts, "mod_python.session.redis_url", default=DFT_REDIS_URL)
        prefix = _option(opts, "mod_python.session.redis_prefix", default=DFT_PREFIX)
        try:
            scheme = urlsplit(url).scheme
        except ValueError:                # e.g. an unclosed [ of an IPv6 address
            scheme = None
        if scheme not in ("redis", "rediss", "unix"):
            _fail(req, "MP1015: RedisSession: PythonOption mod_python.session.redis_url %r "
                  "is not a redis://, rediss:// or unix:// URL" % _redact(url))
        prefix = self._checked_prefix(req, "redis_prefix", prefix)
        try:
            return prefix, _store(_RedisStore, url, store_timeout)
        except ValueError as e:
            _fail(req, "MP1015: RedisSession: PythonOption mod_python.session.redis_url %r: "
                  "%s" % (_redact(url), e))


class MemcachedSession(_NetSession):
    """Sessions in memcached (PythonOption mod_python.session.memcached_servers
    host:port[,host:port...]); a record must fit memcached's item size."""

    _kind = "MemcachedSession"

    def __init__(self, req, sid=0, secret=None, timeout=0, lock=1):
        opts = req.get_options()
        size = _option(opts, "mod_python.session.memcached_max_item_size",
                       default=str(DFT_MEMCACHED_ITEM_SIZE))
        if not str(size).isdigit() or int(size) < 1024:
            _fail(req, "MP1015: MemcachedSession: PythonOption "
                  "mod_python.session.memcached_max_item_size %r is not a size in bytes "
                  "(at least 1024)" % (size,))
        self._item_size = int(size)
        _NetSession.__init__(self, req, sid=sid, secret=secret, timeout=timeout, lock=lock)

    def _connect(self, req, store_timeout):
        """(key prefix, store client) from the options."""
        opts = req.get_options()
        text = _option(opts, "mod_python.session.memcached_servers",
                       default=DFT_MEMCACHED_SERVERS)
        prefix = _option(opts, "mod_python.session.memcached_prefix", default=DFT_PREFIX)
        try:
            servers = tuple(_parse_servers(text))
        except ValueError as e:
            _fail(req, "MP1015: MemcachedSession: PythonOption "
                  "mod_python.session.memcached_servers: %r is not host:port" % str(e))
        return (self._checked_prefix(req, "memcached_prefix", prefix),
                _store(_MemcachedStore, servers, store_timeout))

    def _max_item_size(self):
        return self._item_size
