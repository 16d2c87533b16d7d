"""mod_python.cache (mod_python 3.5's cache module): Cache build/check/rebuild, LRU, one
build per key under concurrency, WeakCache, FileCache, ModuleCache,
FunctionCache, parseRFC822Time, and HTTPCache / HttpModuleCache against a
real httpd (max-age freshness, ETag / Last-Modified revalidation with 304)."""
import gc
import os
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "lib" / "python"))

from mod_python import cache  # noqa: E402
from mod_python.cache import (NOT_INITIALIZED, Cache, FileCache,  # noqa: E402
                              FunctionCache, HTTPCache, HTTPEntity, HttpModuleCache,
                              ModuleCache, WeakCache, parseRFC822Time)



class Counting(Cache):
    def __init__(self, max_size=0):
        super().__init__(max_size)
        self.builds = []
        self.commits = 0
        self.stale = set()

    def check(self, key, name, entry):
        if key in self.stale:
            self.stale.discard(key)
            return "reopened"
        return None

    def build(self, key, name, opened, entry):
        self.builds.append((key, opened))
        return "%s#%d" % (key, len(self.builds))

    def commit(self):
        self.commits += 1


def test_build_once_then_cached():
    c = Counting()
    assert c["a"] == "a#1"
    assert c["a"] == "a#1"
    assert c.builds == [("a", None)]
    assert c.commits == 1
    assert "a" in c and "b" not in c and len(c) == 1


def test_check_triggers_rebuild():
    c = Counting()
    c["a"]
    c.stale.add("a")
    assert c["a"] == "a#2"
    assert c.builds[-1] == ("a", "reopened")
    assert c["a"] == "a#2"


def test_setitem_delitem_clear():
    c = Counting()
    c["x"] = 42
    assert c["x"] == 42 and c.builds == []
    del c["x"]
    assert "x" not in c
    with pytest.raises(KeyError):
        del c["x"]
    c["y"]
    c.clear()
    assert len(c) == 0
    assert c["y"] == "y#2"


def test_lru_eviction_and_mru():
    c = Counting(max_size=2)
    assert c.mru() is None and c.lru() is None
    c["a"], c["b"]
    assert (c.mru(), c.lru()) == ("b", "a")
    c["a"]                                   # a becomes most recently used
    assert (c.mru(), c.lru()) == ("a", "b")
    c["c"]                                   # evicts b
    assert len(c) == 2 and "b" not in c and "a" in c
    c["b"]
    assert c.builds[-1][0] == "b" and len([k for k, _ in c.builds if k == "b"]) == 2


def test_failed_build_is_not_cached():
    class Failing(Cache):
        calls = 0

        def build(self, key, name, opened, entry):
            Failing.calls += 1
            if Failing.calls == 1:
                raise RuntimeError("first build fails")
            return "ok"
    c = Failing()
    with pytest.raises(RuntimeError):
        c["k"]
    assert "k" not in c and len(c) == 0
    assert c["k"] == "ok"


def test_base_build_not_implemented():
    with pytest.raises(NotImplementedError):
        Cache()["x"]
    assert repr(NOT_INITIALIZED) == "NOT_INITIALIZED"


def test_one_build_per_key_under_concurrency():
    started = threading.Event()
    release = threading.Event()

    class Slow(Cache):
        builds = 0

        def build(self, key, name, opened, entry):
            Slow.builds += 1
            started.set()
            release.wait(60)
            return object()
    c = Slow()
    results = []
    threads = [threading.Thread(target=lambda: results.append(c["k"])) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait(60)
    release.set()
    for t in threads:
        t.join(60)
    assert Slow.builds == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_weak_cache():
    class Obj:
        pass

    class W(WeakCache):
        builds = 0

        def build(self, key, name, opened, entry):
            W.builds += 1
            return Obj()
    c = W()
    v = c["a"]
    assert c["a"] is v and W.builds == 1
    del v
    gc.collect()
    assert len(c) == 0                       # the entry went with its value
    v2 = c["a"]
    assert W.builds == 2 and c["a"] is v2


def _rewrite(path, data, bump_ns):
    path.write_bytes(data)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_ns))


def test_file_cache(tmp_path):
    f = tmp_path / "data.txt"
    f.write_bytes(b"one")
    c = FileCache()
    v1 = c[str(f)]
    assert v1 == b"one"
    assert c[str(f)] is v1
    _rewrite(f, b"two", 1_000_000)
    assert c[str(f)] == b"two"
    # same size, only the mtime moves
    _rewrite(f, b"six", 2_000_000)
    assert c[str(f)] == b"six"
    t = FileCache(mode="r")
    assert t[str(f)] == "six"
    # relative and absolute names share the key
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert c["data.txt"] is c[str(f)]
    finally:
        os.chdir(old)
    with pytest.raises(FileNotFoundError):
        c[str(tmp_path / "missing")]
    assert str(tmp_path / "missing") not in c


def test_module_cache(tmp_path):
    f = tmp_path / "page.py"
    f.write_text("X = 1\ndef f():\n    return 'v1'\n")
    c = ModuleCache()
    m = c[str(f)]
    assert m.__name__ == "page" and m.__file__ == str(f)
    assert m.X == 1 and m.f() == "v1"
    assert c[str(f)] is m
    _rewrite(f, b"X = 2\ndef f():\n    return 'v2'\n", 1_000_000)
    m2 = c[str(f)]
    assert m2 is not m and m2.X == 2 and m2.f() == "v2"


def test_function_cache():
    calls = []

    def f(a, b=0, **kw):
        calls.append((a, b, kw))
        return a + b

    c = FunctionCache(f, max_size=10)
    assert c(1, b=2) == 3
    assert c(1, b=2) == 3
    assert c(1, 2) == 3                      # positional: another key
    assert c(5) == 5
    assert c(1, z=1, b=2) == 3 and c(1, b=2, z=1) == 3
    assert len(calls) == 4


def test_parse_rfc822_time():
    assert parseRFC822Time("Thu, 01 Jan 1970 00:00:10 GMT") == 10.0
    assert parseRFC822Time("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777.0
    with pytest.raises(ValueError):
        parseRFC822Time("yesterday")
    with pytest.raises(ValueError):
        parseRFC822Time(None)


def test_http_entity():
    e = HTTPEntity("é".encode("latin-1"), {"Content-Type": "text/plain; charset=ISO-8859-1"})
    assert str(e) == "é" and bytes(e) == b"\xe9"
    assert str(HTTPEntity(b"ok", {})) == "ok"
    assert repr(HTTPEntity(b"x", {"A": "b"})) == "HTTPEntity(b'x', {'A': 'b'})"


# ------------------------------------------------------------ over HTTP

HTTP_CONF = """
<Directory @DOCROOT@/fresh>
    Header set Cache-Control "max-age=3600"
</Directory>
<Directory @DOCROOT@/nocache>
    Header set Cache-Control "no-cache"
</Directory>
"""


@pytest.fixture(scope="module")
def web(httpd):
    return httpd(HTTP_CONF, files={"htdocs/fresh/a.txt": "fresh v1",
                                   "htdocs/nocache/b.txt": "revalidated v1",
                                   "htdocs/nocache/mod.py": "VALUE = 'm1'\n"},
                 modules=("headers",), load_python=False, name="cache")


def _hits(web, path):
    return [l for l in web.access_log().splitlines() if '"GET %s ' % path in l]


def _wait_hits(web, path, n):
    import time
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_hits(web, path)) < n:
        time.sleep(0.05)
    return _hits(web, path)


def test_http_cache_max_age(web):
    c = HTTPCache()
    url = "http://127.0.0.1:%d/fresh/a.txt" % web.port
    e = c[url]
    assert isinstance(e, HTTPEntity)
    assert e.entity == b"fresh v1" and str(e) == "fresh v1"
    assert "max-age=3600" in e.metadata["Cache-Control"]
    assert c[url] is e
    assert c[url] is e
    assert len(_wait_hits(web, "/fresh/a.txt", 1)) == 1     # served from the cache


def test_http_cache_revalidation(web):
    c = HTTPCache()
    path = "/nocache/b.txt"
    url = "http://127.0.0.1:%d%s" % (web.port, path)
    e = c[url]
    assert e.entity == b"revalidated v1"
    assert c[url] is e                       # 304: the cached entity is kept
    hits = _wait_hits(web, path, 2)
    assert len(hits) == 2 and '" 304 ' in hits[1]
    web.write("htdocs" + path, "revalidated v2 (longer)")
    e2 = c[url]
    assert e2 is not e and e2.entity == b"revalidated v2 (longer)"
    assert '" 200 ' in _wait_hits(web, path, 3)[2]


def test_http_cache_error(web):
    c = HTTPCache()
    with pytest.raises(cache.urllib.error.HTTPError):
        c["http://127.0.0.1:%d/missing.txt" % web.port]
    assert len(c) == 0


def test_http_module_cache(web):
    c = HttpModuleCache()
    url = "http://127.0.0.1:%d/nocache/mod.py" % web.port
    m = c[url]
    assert m.VALUE == "m1" and m.__file__ == url
    assert c[url] is m
    web.write("htdocs/nocache/mod.py", "VALUE = 'm2 changed'\n")
    assert c[url].VALUE == "m2 changed"
