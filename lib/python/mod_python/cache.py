"""mod_python.cache: generic thread-safe caches.

    cache = FileCache(max_size=100)
    data = cache["/etc/motd"]          # read once, again when the file changes

A `Cache` maps a name to a value it builds on demand.  `cache[name]` turns
the name into a key (`key(name)`), finds or creates the key's entry, and,
holding that entry's lock (so one thread builds while others wait for the
result, and different keys build in parallel):

* if the entry has no value yet: `opened = check(key, name, entry)`, then
  `value = build(key, name, opened, entry)`;
* else `opened = check(...)`; a non-None result means the value is stale
  and is rebuilt with `build(key, name, opened, entry)`.

After each build `commit()` is called.  A failed first build leaves nothing
in the cache.  With `max_size > 0` the cache keeps at most that many
entries, evicting the least recently used.  Subclasses override `key`,
`check`, `build` and `commit`; the entry object is theirs to keep extra
state on (e.g. a file's mtime).

Caches here: `WeakCache` (keeps weak references), `FileCache` (file
contents, rebuilt when the file changes), `ModuleCache` (Python modules
built from files), `HTTPCache` (URL contents as `HTTPEntity`, honouring
Cache-Control max-age / Expires and revalidating with ETag /
Last-Modified), `HttpModuleCache` (modules from URLs) and `FunctionCache`
(memoises a function).  This module does not need httpd.
"""

import collections
import email.utils
import os
import re
import threading
import time
import types
import urllib.error
import urllib.request
import weakref


class _NotInitialized:
    def __repr__(self):
        return "NOT_INITIALIZED"

    def __bool__(self):
        return False


NOT_INITIALIZED = _NotInitialized()


class Entry:
    """One cache slot: its key, value and lock; subclasses of Cache keep
    their own bookkeeping on it as attributes."""

    def __init__(self, key):
        self._key = key
        self._value = NOT_INITIALIZED
        self._lock = threading.Lock()

    def key(self):
        return self._key


class Cache:
    """Thread-safe cache of values built on demand (see the module doc)."""

    def __init__(self, max_size=0):
        self._maxsize = max_size
        self._dict = collections.OrderedDict()     # key -> Entry, LRU first
        self._lock = threading.RLock()

    # -------------------------------------------------------- overridables

    def key(self, name):
        """The cache key for name (default: name itself)."""
        return name

    def check(self, key, name, entry):
        """None if entry's value is still good; otherwise something `build`
        uses (e.g. an opened file).  Called before the first build too."""
        return None

    def build(self, key, name, opened, entry):
        """Make the value for key."""
        raise NotImplementedError("%s.build() is not implemented" % type(self).__name__)

    def commit(self):
        """Called after every build (e.g. to persist the cache)."""

    # -------------------------------------------------- value storage hooks

    def _pack(self, entry, value):
        entry._value = value

    def _unpack(self, entry):
        return entry._value

    # ---------------------------------------------------------- entries

    def _housekeeping(self):
        """Hook run under the cache lock before every lookup."""

    def _entry(self, key):
        with self._lock:
            self._housekeeping()
            entry = self._dict.get(key)
            if entry is None:
                entry = self._dict[key] = Entry(key)
                if self._maxsize > 0:
                    while len(self._dict) > self._maxsize:
                        self._dict.popitem(last=False)
            else:
                self._dict.move_to_end(key)
            return entry

    def _drop(self, key, entry):
        with self._lock:
            if self._dict.get(key) is entry:
                del self._dict[key]

    # ---------------------------------------------------------- mapping

    def __getitem__(self, name):
        key = self.key(name)
        entry = self._entry(key)
        with entry._lock:
            value = self._unpack(entry)
            if value is NOT_INITIALIZED:
                try:
                    opened = self.check(key, name, entry)
                    value = self.build(key, name, opened, entry)
                except BaseException:
                    self._drop(key, entry)
                    raise
                self._pack(entry, value)
                self.commit()
            else:
                opened = self.check(key, name, entry)
                if opened is not None:
                    value = self.build(key, name, opened, entry)
                    self._pack(entry, value)
                    self.commit()
            return value

    def __setitem__(self, name, value):
        key = self.key(name)
        entry = self._entry(key)
        with entry._lock:
            self._pack(entry, value)
            self.commit()

    def __delitem__(self, name):
        key = self.key(name)
        with self._lock:
            del self._dict[key]
        self.commit()

    def __contains__(self, name):
        with self._lock:
            entry = self._dict.get(self.key(name))
        return entry is not None and self._unpack(entry) is not NOT_INITIALIZED

    def __len__(self):
        with self._lock:
            self._housekeeping()
            return len(self._dict)

    def clear(self):
        with self._lock:
            self._dict.clear()
        self.commit()

    def mru(self):
        """The most recently used key (None when empty)."""
        with self._lock:
            return next(reversed(self._dict), None)

    def lru(self):
        """The least recently used key, the next to go (None when empty)."""
        with self._lock:
            return next(iter(self._dict), None)


class WeakCache(Cache):
    """Keeps only weak references: an entry goes away with its value."""

    def __init__(self, max_size=0):
        super().__init__(max_size)
        self._dead = []             # (key, entry) whose value was collected

    def _pack(self, entry, value):
        key, dead = entry._key, self._dead
        # the callback may run inside any allocation: it only takes a note
        entry._value = weakref.ref(value, lambda ref: dead.append((key, entry)))

    def _unpack(self, entry):
        ref = entry._value
        if ref is NOT_INITIALIZED:
            return NOT_INITIALIZED
        value = ref()
        return NOT_INITIALIZED if value is None else value

    def _housekeeping(self):
        while self._dead:
            key, entry = self._dead.pop()
            if self._dict.get(key) is entry and self._unpack(entry) is NOT_INITIALIZED:
                del self._dict[key]


class FileCache(Cache):
    """File contents by path, read again when the file changes (mtime or
    size); `mode` is the open() mode ('rb': bytes, 'r': text)."""

    def __init__(self, max_size=0, mode="rb"):
        super().__init__(max_size)
        self.mode = mode

    def key(self, name):
        return os.path.abspath(name)

    def check(self, key, name, entry):
        st = os.stat(key)
        stamp = (st.st_mtime_ns, st.st_size)
        if getattr(entry, "_timestamp", None) == stamp and \
                self._unpack(entry) is not NOT_INITIALIZED:
            return None
        opened = open(key, self.mode)
        entry._timestamp = stamp
        return opened

    def build(self, key, name, opened, entry):
        with opened:
            return opened.read()


_NOT_WORD = re.compile(r"\W")


def _module_from_source(name, filename, source):
    module = types.ModuleType(name)
    module.__file__ = filename
    code = compile(source, filename, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module


class ModuleCache(FileCache):
    """Python modules built from source files (a changed file gives a new
    module); the module is named after the file's base name."""

    def __init__(self, max_size=0):
        super().__init__(max_size, "rb")

    def build(self, key, name, opened, entry):
        with opened:
            source = opened.read()
        base = os.path.splitext(os.path.basename(key))[0]
        return _module_from_source(base, key, source)


def parseRFC822Time(t):
    """Seconds since the epoch for an HTTP (RFC 822/1123) date; ValueError
    if t is not one."""
    parsed = email.utils.parsedate_tz(t) if t else None
    if parsed is None:
        raise ValueError("not an RFC 822 date: %r" % (t,))
    return float(email.utils.mktime_tz(parsed))


class HTTPEntity:
    """A fetched URL: `entity` (bytes) and `metadata` (response headers)."""

    def __init__(self, entity, metadata):
        self.entity = entity
        self.metadata = metadata

    def __bytes__(self):
        return bytes(self.entity)

    def __str__(self):
        if isinstance(self.entity, str):
            return self.entity
        ctype = {k.lower(): v for k, v in self.metadata.items()}.get("content-type", "")
        m = re.search(r"charset=\"?([\w.:-]+)", ctype, re.I)
        try:
            return self.entity.decode(m.group(1) if m else "utf-8", "replace")
        except LookupError:
            return self.entity.decode("utf-8", "replace")

    def __repr__(self):
        return "HTTPEntity(%r, %r)" % (self.entity, self.metadata)


_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.I)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-cache|no-store)\b", re.I)


class HTTPCache(Cache):
    """URL contents (`HTTPEntity`).  Fresh for Cache-Control max-age, else
    until Expires; then revalidated with If-None-Match (ETag) or
    If-Modified-Since (Last-Modified): 304 keeps the cached value."""

    timeout = 60

    def check(self, key, name, entry):
        has_value = self._unpack(entry) is not NOT_INITIALIZED
        if has_value and time.time() < getattr(entry, "_expires", 0):
            return None
        request = urllib.request.Request(key)
        validator = getattr(entry, "_validator", None)
        if has_value and validator:
            request.add_header(*validator)
        try:
            opened = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as e:
            try:
                if e.code == 304 and has_value:
                    self._freshness(entry, e.headers)
                    return None
            finally:
                e.close()
            raise
        self._freshness(entry, opened.headers)
        etag, modified = opened.headers.get("ETag"), opened.headers.get("Last-Modified")
        entry._validator = (("If-None-Match", etag) if etag else
                            ("If-Modified-Since", modified) if modified else None)
        return opened

    @staticmethod
    def _freshness(entry, headers):
        now = time.time()
        cc = headers.get("Cache-Control", "") or ""
        if _NO_CACHE.search(cc):
            entry._expires = 0
            return
        m = _MAX_AGE.search(cc)
        if m:
            entry._expires = now + int(m.group(1))
            return
        try:
            expires = parseRFC822Time(headers.get("Expires"))
            date = parseRFC822Time(headers.get("Date")) if headers.get("Date") else now
            entry._expires = now + (expires - date)
        except ValueError:
            entry._expires = 0

    def build(self, key, name, opened, entry):
        with opened:
            return HTTPEntity(opened.read(), dict(opened.headers.items()))


class HttpModuleCache(HTTPCache):
    """Python modules built from the source at a URL (rebuilt when the URL's
    content changes, with HTTPCache's freshness rules)."""

    def build(self, key, name, opened, entry):
        with opened:
            source = opened.read()
        return _module_from_source(_NOT_WORD.sub("_", key), key, source)


class FunctionCache(Cache):
    """Memoises function(*args, **kw): `cache(*args, **kw)`.  The arguments
    must be hashable."""

    def __init__(self, function, max_size=0):
        super().__init__(max_size)
        self.function = function

    def __call__(self, *args, **kw):
        return self[(args, tuple(sorted(kw.items())))]

    def build(self, key, name, opened, entry):
        args, kw = key
        return self.function(*args, **dict(kw))
