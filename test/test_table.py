"""mp_table (mod_python 3.5 manual: "Table Object (mp_table)"): every method of
apache.table() and of the live request tables, run inside a real httpd.  The handler
runs each check and returns the results as JSON; the fixes of 3.5's table bugs
(setdefault with a default, popitem, copy with duplicates, repr order) are covered
explicitly."""
import http.client
import json

import pytest

from harness import MPMS, TIMEOUT_SCALE

pytestmark = pytest.mark.mpms(*MPMS)

TABLE_PY = r'''
import json
from mod_python import apache

T = apache.table

def _res(fn):
    try:
        v = fn()
        if isinstance(v, tuple):
            v = list(v)
        return {"ok": v}
    except Exception as e:
        return {"exc": type(e).__name__, "msg": str(e)}

def c_types():
    t = T()
    return [type(t).__name__, T.__name__, apache.table is type(t),
            type(_REQ.headers_in).__name__, isinstance(_REQ.headers_out, T)]

def c_case_insensitive():
    t = T()
    t["Foo"] = "1"
    r = [t["foo"], t["FOO"], "fOO" in t, "bar" in t, len(t)]
    t["FOO"] = "2"                       # set replaces, keeps the spelling
    return r + [t.items(), len(t)]

def c_multi():
    t = T()
    t.add("X-A", "1")
    t.add("x-a", "2")
    t.add("Other", "o")
    t.add("X-A", "3")
    return [t["x-a"], t["other"], len(t), t.keys(), t.values(),
            [list(i) for i in t.items()]]

def c_missing_key():
    return T()["nope"]

def c_del():
    t = T([("a", "1"), ("b", "2")])
    t.add("A", "3")
    del t["a"]
    del t["zzz"]                         # absent: no error
    return t.items()

def c_get():
    t = T([("a", "1")])
    t.add("a", "2")
    return [t.get("A"), t.get("missing"), t.get("missing", "d")]

def c_has_key():
    t = T({"a": "1"})
    return [t.has_key("A"), t.has_key("b"), type(t.has_key("a")).__name__]

def c_list_types():
    t = T({"a": "1"})
    return [type(t.keys()).__name__, type(t.values()).__name__, type(t.items()).__name__,
            type(t.items()[0]).__name__]

def c_iterators():
    t = T()
    t.add("a", "1"); t.add("b", "2"); t.add("A", "3")
    return [list(t), list(iter(t)), list(t.iterkeys()), list(t.itervalues()),
            [list(i) for i in t.iteritems()], sorted(k.lower() for k in t)]

def c_iter_size_change():
    t = T({"a": "1", "b": "2"})
    for k in t:
        t["new"] = "x"
    return "no error"

def c_iteritems_size_change():
    t = T({"a": "1", "b": "2"})
    for k, v in t.iteritems():
        del t["b"]
    return "no error"

def c_update_mapping():
    t = T({"a": "old"})
    t.update({"A": 1, "b": "2"})
    t.update(c="3")
    return t.items()

def c_update_pairs_and_table():
    t = T()
    t.update([("k", "v"), ("k", "w")])   # set semantics: later replaces
    src = T()
    src.add("m", "1"); src.add("m", "2")
    t.update(src)                         # duplicates of a table are kept
    return t.items()

def c_setdefault():
    t = T({"a": "1"})
    t.add("a", "2")
    r1 = t.setdefault("A")
    r2 = t.setdefault("b")                # absent, no default: stores ""
    r3 = t.setdefault("c", "dflt")        # 3.5 crashed the process here
    r4 = t.setdefault("c", "other")
    return [r1, r2, r3, r4, t.items()]

def c_clear():
    t = T({"a": "1", "b": "2"})
    t.clear()
    return [len(t), t.items(), repr(t)]

def c_copy():
    t = T()
    t.add("a", "1"); t.add("a", "2"); t.add("b", "3")
    c = t.copy()
    c["b"] = "changed"
    return [type(c).__name__, c.items(), t.items(), c is t]

def c_copy_of_view():
    c = _REQ.headers_in.copy()
    c["X-Copy-Only"] = "1"
    return ["X-Copy-Only" in _REQ.headers_in, c["host"] == _REQ.headers_in["host"]]

def c_popitem():
    t = T()
    t.add("first", "1"); t.add("mid", "2"); t.add("first", "3"); t.add("last", "4")
    p1 = t.popitem()
    p2 = t.popitem()
    return [list(p1), list(p2), t.items(), t["first"]]

def c_popitem_empty():
    return T().popitem()

def c_compare():
    a = T([("a", "1"), ("b", "2")])
    b = T([("b", "2"), ("a", "1")])
    c = T([("a", "1")])
    m = T(); m.add("k", "1"); m.add("k", "2")
    return [a == b, a != b, a == c, a != c, a == {"a": "1", "b": "2"},
            {"a": "1"} == c, m == {"k": ["1", "2"]}, a == 5]

def c_order_compare():
    return T({"a": "1"}) < T({"b": "1"})

def c_repr():
    t = T()
    t.add("b", "2"); t.add("a", "1"); t.add("b", "3")
    return [repr(t), repr(T()), str(T({"k": "v"}))]

def c_ctor_forms():
    return [T().items(), T({"a": "1"}).items(), T([("a", "1"), ("b", "2")]).items(),
            T((("x", "y"),)).items(), T({1: 2, "n": None}).items(), T(a="1").items()]

def c_ctor_bad_length():
    return T([("a", "1"), ("b",)])

def c_ctor_not_sequence():
    return T([("a", "1"), 5])

def c_set_int_value():
    t = T()
    t["k"] = 1
    return t.items()

def c_set_int_key():
    t = T()
    t[1] = "v"
    return t.items()

def c_set_wide_char():
    t = T()
    t["k"] = "\u0100"
    return t.items()

def c_latin1_roundtrip():
    t = T()
    t["k"] = "caf\xe9"                   # stored as one Latin-1 byte
    t["b"] = b"\xff\xfe"                  # bytes stored as is
    t[b"bk"] = b"bytes-key"
    t["u"] = "caf\xc3\xa9".encode("latin-1")   # valid UTF-8 bytes
    return [t["k"], t["b"], t["bk"], t["u"], t.items()]

def c_unhashable():
    return hash(T())

def c_subclass():
    class Sub(T):
        def extra(self):
            return "extra:" + self["a"]
    s = Sub({"a": "1"})
    s.attr = 5
    e = s.extra()
    s.add("a", "2")
    return [type(s).__name__, isinstance(s, T), e, s.attr, s["a"], len(s),
            type(s.copy()).__name__]

def c_subclass_init():
    class Sub(T):
        def __init__(self, *a, **kw):
            T.__init__(self, *a, **kw)
            self.inited = True
    s = Sub([("x", "y")])
    return [s.inited, s.items()]

def c_headers_in_view():
    h = _REQ.headers_in
    return [h["host"].startswith("127.0.0.1"), h.get("X-Test-Header"),
            "HOST" in h, len(h) >= 2]

def c_headers_out_multi():
    _REQ.headers_out.add("X-Multi", "one")
    _REQ.headers_out.add("X-Multi", "two")
    _REQ.headers_out["X-Single"] = "s"
    return _REQ.headers_out["x-multi"]

def c_latin1_header():
    return _REQ.headers_in.get("X-Latin")

def c_utf8_header():
    return _REQ.headers_in.get("X-Utf8")

def c_bad_header_items():
    # iterating every header (including the non-UTF-8 ones) never raises
    return sorted(k.lower() for k, v in _REQ.headers_in.items())

def c_same_view_cached():
    return _REQ.headers_in is _REQ.headers_in

def c_notes_live():
    _REQ.notes["n1"] = "v1"
    return [_REQ.notes["N1"], apache.table is type(_REQ.notes)]

def c_mutation_through_view_visible():
    _REQ.subprocess_env["MP_TABLE_TEST"] = "yes"
    return _REQ.subprocess_env.get("mp_table_test")

def c_update_from_same_table():
    # two wrappers of one apr_table_t: updating one from the other is a no-op
    a = apache.main_server.get_options()
    b = apache.main_server.get_options()
    before = a.items()
    a.update(b)
    return [a is b, a.items() == before, len(a) > 0]

def c_copy_module():
    import copy
    t = T(); t.add("a", "1"); t.add("a", "2")
    c = copy.copy(t)
    return [type(c).__name__, c.items(), c is t]

def c_nonstr_lookup():
    return 5 in T()

# ---- dict-protocol corners as mod_python 3.5's own test suite has them

def c_update_none():
    return T().update(None)               # 3.5 called None.keys()

def c_update_not_a_mapping():
    return T().update(5)

def c_ctor_none():
    return T(None)

def c_update_iterables_of_pairs():
    t = T()
    t.update([["a", "1"]])
    t.update((("b", "2"),))
    t.update(iter([("c", "3")]))
    t.update(zip(["d"], ["4"]))
    t.update((k, v) for k, v in [("e", 5)])
    return t.items()

class _UserDict:
    def __init__(self):
        self.d = {1: 1, 2: 2, 3: 3}
    def keys(self):
        return list(self.d.keys())
    def __getitem__(self, k):
        return self.d[k]

def c_update_user_mapping():
    t = T()
    t.update(_UserDict())
    return [t == T({1: 1, 2: 2, 3: 3}), t.items()]

class _KeysFail:
    def keys(self):
        raise ValueError("keys")

class _IterFail:
    def keys(self):
        class It:
            def __iter__(self):
                raise ValueError("iter")
        return It()

class _NextFail:
    def keys(self):
        class It:
            def __init__(self):
                self.first = True
            def __iter__(self):
                return self
            def __next__(self):
                if self.first:
                    self.first = False
                    return "a"
                raise ValueError("next")
        return It()
    def __getitem__(self, k):
        return k

class _GetitemFail:
    def keys(self):
        return ["a", "b"]
    def __getitem__(self, k):
        raise ValueError("getitem")

def c_update_failures():
    out = []
    for m in (_KeysFail(), _IterFail(), _NextFail(), _GetitemFail()):
        try:
            T().update(m)
            out.append("no error")
        except Exception as e:
            out.append([type(e).__name__, str(e)])
    return out

def c_setdefault_no_default_is_empty_str():
    t = T()
    first = t.setdefault("key0")
    second = t.setdefault("key0")
    return [first, second, type(first).__name__, t.items()]

def c_pop():
    t = T()
    t.add("a", "1"); t.add("A", "2"); t.add("b", "3")
    r = [t.pop("a"), t.items(), t.pop("b"), t.items(), t.pop("zz", "dflt"),
         t.pop("zz", None)]
    return r

def c_pop_missing():
    return T().pop("nope")

def c_pop_nonstr():
    return T().pop(5, "d")

def c_popitem_until_empty():
    for size in (1, 2, 7, 64):
        a = T()
        for i in range(size):
            a[repr(i)] = str(i)
        b = a.copy()
        for _ in range(size):
            ka, va = a.popitem()
            kb, vb = b.popitem()
            if ka != va or (ka, va) != (kb, vb):
                return "popitem gave %r / %r" % ((ka, va), (kb, vb))
        if len(a) or len(b):
            return "not empty"
    return "ok"

def c_equality_with_dicts():
    t = T([("a", "1"), ("b", "2")])
    m = T(); m.add("k", "1"); m.add("k", "2")
    return [t == {"a": "1", "b": "2"}, {"a": "1", "b": "2"} == t, t != {"a": "1"},
            t == {"a": 1, "b": 2}, T() == {}, {} == T(), m == {"k": ["1", "2"]},
            t == [("a", "1"), ("b", "2")], t != None]

def c_in_with_bytes_and_nonstr():
    t = T({"a": "1"})
    out = [b"a" in t, "A" in t]
    for k in (5, None, ("a",)):
        try:
            out.append(k in t)
        except TypeError as e:
            out.append("TypeError: " + str(e))
    return out

_CHECKS = {k[2:]: v for k, v in list(globals().items()) if k.startswith("c_")}
_REQ = None

def handler(req):
    global _REQ
    _REQ = req
    try:
        out = {name: _res(fn) for name, fn in _CHECKS.items()}
    finally:
        _REQ = None
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK

_KEPT = {}

def keep(req):
    """First call stores live views; later calls use them (same process)."""
    import os
    req.content_type = "application/json"
    if "headers" not in _KEPT:
        _KEPT["headers"] = req.headers_in
        _KEPT["finfo"] = req.finfo
        _KEPT["hlist"] = req.hlist
        _KEPT["pid"] = os.getpid()
        req.write(json.dumps({"pid": os.getpid(), "stored": True}))
        return apache.OK
    h, f, hl = _KEPT.pop("headers"), _KEPT.pop("finfo"), _KEPT.pop("hlist")
    out = {"pid": _KEPT.pop("pid"), "now": os.getpid()}
    out["headers_len"] = _res(lambda: len(h))
    out["headers_get"] = _res(lambda: h["host"])
    out["headers_set"] = _res(lambda: h.__setitem__("a", "b"))
    out["headers_iter"] = _res(lambda: list(h))
    out["headers_repr"] = _res(lambda: repr(h))
    out["finfo"] = _res(lambda: f.fname)
    out["hlist"] = _res(lambda: [hl.handler, hl.directory, hl.is_location, hl.silent])
    req.write(json.dumps(out))
    return apache.OK
'''

CONFIG = r'''
# two requests on one keep-alive connection must reach the same child even
# when the machine is slow: httpd must not close it in between (default 5 s)
KeepAliveTimeout 120
PythonPath "sys.path+['@ROOT@/lib']"
PythonOption table_opt on
<Directory @DOCROOT@/t>
    SetHandler mod_python
    PythonHandler tabletest
</Directory>
<Directory @DOCROOT@/k>
    SetHandler mod_python
    PythonHandler tabletest::keep
</Directory>
'''

FILES = {
    "lib/tabletest.py": TABLE_PY,
    "htdocs/t/x.txt": "x\n",
    "htdocs/k/x.txt": "k\n",
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="table")


def raw_get(srv, path, headers):
    """GET with raw (bytes) header values."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port,
                                      timeout=30 * TIMEOUT_SCALE)
    try:
        conn.putrequest("GET", path)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def results(srv):
    status, headers, body = raw_get(srv, "/t/x.txt", {
        "X-Test-Header": b"hello",
        "X-Latin": b"caf\xe9",
        "X-Utf8": "caf\u00e9".encode("utf-8"),
    })
    assert status == 200, body
    return json.loads(body), headers


def ok(results, name):
    res = results[0][name]
    assert "ok" in res, res
    return res["ok"]


def exc(results, name):
    res = results[0][name]
    assert "exc" in res, res
    return res["exc"], res["msg"]


def test_types(results):
    assert ok(results, "types") == ["mp_table", "mp_table", True, "mp_table", True]


def test_case_insensitive(results):
    assert ok(results, "case_insensitive") == ["1", "1", True, False, 1, [["Foo", "2"]], 1]


def test_multi_valued(results):
    assert ok(results, "multi") == [
        ["1", "2", "3"], "o", 4, ["X-A", "x-a", "Other", "X-A"], ["1", "2", "o", "3"],
        [["X-A", "1"], ["x-a", "2"], ["Other", "o"], ["X-A", "3"]]]


def test_missing_key(results):
    assert exc(results, "missing_key") == ("KeyError", "'nope'")


def test_del(results):
    assert ok(results, "del") == [["b", "2"]]


def test_get(results):
    assert ok(results, "get") == ["1", None, "d"]


def test_has_key(results):
    assert ok(results, "has_key") == [1, 0, "int"]


def test_list_types(results):
    assert ok(results, "list_types") == ["list", "list", "list", "tuple"]


def test_iterators(results):
    assert ok(results, "iterators") == [
        ["a", "b", "A"], ["a", "b", "A"], ["a", "b", "A"], ["1", "2", "3"],
        [["a", "1"], ["b", "2"], ["A", "3"]], ["a", "a", "b"]]


@pytest.mark.parametrize("name", ["iter_size_change", "iteritems_size_change"])
def test_iteration_size_change(results, name):
    assert exc(results, name) == ("RuntimeError", "table changed size during iteration")


def test_update_mapping(results):
    assert ok(results, "update_mapping") == [["a", "1"], ["b", "2"], ["c", "3"]]


def test_update_pairs_and_table(results):
    assert ok(results, "update_pairs_and_table") == [["k", "w"], ["m", "1"], ["m", "2"]]


def test_setdefault(results):
    # 3.5 bug fixed: setdefault(k, d) on a missing key stores and returns d
    assert ok(results, "setdefault") == [
        "1", "", "dflt", "dflt", [["a", "1"], ["a", "2"], ["b", ""], ["c", "dflt"]]]


def test_clear(results):
    assert ok(results, "clear") == [0, [], "{}"]


def test_copy_keeps_duplicates(results):
    # 3.5 bug fixed: copy() keeps every value of a duplicated key
    assert ok(results, "copy") == [
        "mp_table", [["a", "1"], ["a", "2"], ["b", "changed"]],
        [["a", "1"], ["a", "2"], ["b", "3"]], False]


def test_copy_of_view_is_independent(results):
    assert ok(results, "copy_of_view") == [False, True]


def test_popitem_removes_what_it_returns(results):
    # 3.5 bug fixed: returned the first pair but removed the last
    assert ok(results, "popitem") == [
        ["last", "4"], ["first", "3"], [["first", "1"], ["mid", "2"]], "1"]


def test_popitem_empty(results):
    assert exc(results, "popitem_empty") == ("KeyError", "'popitem(): table is empty'")


def test_compare(results):
    assert ok(results, "compare") == [True, False, False, True, True, True, True, False]


def test_order_compare_is_dict_like(results):
    # dicts do not support ordering in Python 3; neither do tables
    assert exc(results, "order_compare")[0] == "TypeError"


def test_repr_in_insertion_order(results):
    # 3.5 listed the entries in reverse
    assert ok(results, "repr") == ["{'b': '2', 'a': '1', 'b': '3'}", "{}", "{'k': 'v'}"]


def test_constructor_forms(results):
    assert ok(results, "ctor_forms") == [
        [], [["a", "1"]], [["a", "1"], ["b", "2"]], [["x", "y"]],
        [["1", "2"], ["n", "None"]], [["a", "1"]]]


def test_constructor_bad_length(results):
    assert exc(results, "ctor_bad_length") == (
        "ValueError", "table update sequence element #1 has length 1; 2 is required")


def test_constructor_not_sequence(results):
    assert exc(results, "ctor_not_sequence") == (
        "TypeError", "cannot convert table update sequence element #1 to a sequence")


@pytest.mark.parametrize("name", ["set_int_value", "set_int_key"])
def test_assignment_rejects_non_strings(results, name):
    assert exc(results, name)[0] == "TypeError"


def test_assignment_rejects_above_latin1(results):
    name, msg = exc(results, "set_wide_char")
    assert name == "TypeError"
    assert "ISO-8859-1" in msg


def test_latin1_and_bytes_roundtrip(results):
    v = ok(results, "latin1_roundtrip")
    assert v[0] == "caf\xe9"           # Latin-1 byte read back via the fallback
    assert v[1] == "\xff\xfe"
    assert v[2] == "bytes-key"
    assert v[3] == "caf\xe9"           # valid UTF-8 decodes as UTF-8
    assert [k for k, _ in v[4]] == ["k", "b", "bk", "u"]


def test_unhashable(results):
    assert exc(results, "unhashable") == ("TypeError", "mp_table objects are unhashable")


def test_subclass(results):
    assert ok(results, "subclass") == ["Sub", True, "extra:1", 5, ["1", "2"], 2, "mp_table"]


def test_subclass_init(results):
    assert ok(results, "subclass_init") == [True, [["x", "y"]]]


def test_headers_in_view(results):
    assert ok(results, "headers_in_view") == [True, "hello", True, True]


def test_headers_out_multi(results):
    assert ok(results, "headers_out_multi") == ["one", "two"]
    hdrs = results[1]
    assert [v for k, v in hdrs if k.lower() == "x-multi"] == ["one", "two"]
    assert [v for k, v in hdrs if k.lower() == "x-single"] == ["s"]


def test_non_utf8_header_does_not_raise(results):
    assert ok(results, "latin1_header") == "caf\xe9"
    assert ok(results, "utf8_header") == "caf\xe9"
    keys = ok(results, "bad_header_items")
    assert "x-latin" in keys and "x-utf8" in keys


def test_view_is_cached(results):
    assert ok(results, "same_view_cached") is True


def test_notes_and_subprocess_env_live(results):
    assert ok(results, "notes_live") == ["v1", True]
    assert ok(results, "mutation_through_view_visible") == "yes"


def test_update_from_same_table(results):
    assert ok(results, "update_from_same_table") == [False, True, True]


def test_copy_module(results):
    assert ok(results, "copy_module") == ["mp_table", [["a", "1"], ["a", "2"]], False]


def test_non_string_lookup(results):
    assert exc(results, "nonstr_lookup")[0] == "TypeError"


def test_views_of_finished_request_raise(srv):
    """A table/finfo view kept past its request raises; a kept hlist reads
    as exhausted.  Two requests on one keep-alive connection reach the same
    child process."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port,
                                      timeout=30 * TIMEOUT_SCALE)
    try:
        conn.request("GET", "/k/x.txt")
        r = conn.getresponse()
        first = json.loads(r.read())
        assert r.status == 200 and first["stored"]
        conn.request("GET", "/k/x.txt")
        r = conn.getresponse()
        second = json.loads(r.read())
    finally:
        conn.close()
    assert second["pid"] == second["now"]
    for key in ("headers_len", "headers_get", "headers_set", "headers_iter",
                "headers_repr", "finfo"):
        assert second[key].get("exc") == "RuntimeError", (key, second[key])
        assert "no longer valid" in second[key]["msg"]
    assert second["hlist"] == {"ok": [None, None, None, None]}
    srv.assert_no_crash()


def test_concurrent_requests(srv):
    """Many threads creating, copying and destroying tables at once (own
    pools are created and destroyed concurrently in threaded MPMs)."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        status, _, body = raw_get(srv, "/t/x.txt", {"X-Test-Header": b"hello"})
        return status, json.loads(body)["setdefault"]

    with ThreadPoolExecutor(8) as ex:
        res = list(ex.map(one, range(48)))
    assert all(st == 200 for st, _ in res)
    assert all(r == res[0][1] for _, r in res)
    srv.assert_no_crash()


# ---- dict-protocol corners (mod_python 3.5's own test suite)

def test_update_none_is_attribute_error_as_in_3_5(results):
    assert exc(results, "update_none") == ("AttributeError",
                                           "'NoneType' object has no attribute 'keys'")
    assert exc(results, "update_not_a_mapping")[0] == "AttributeError"
    assert exc(results, "ctor_none")[0] == "TypeError"


def test_update_with_iterables_of_pairs(results):
    assert ok(results, "update_iterables_of_pairs") == [
        ["a", "1"], ["b", "2"], ["c", "3"], ["d", "4"], ["e", "5"]]


def test_update_with_user_mapping(results):
    assert ok(results, "update_user_mapping") == [True, [["1", "1"], ["2", "2"], ["3", "3"]]]


def test_update_passes_on_the_mappings_errors(results):
    assert ok(results, "update_failures") == [
        ["ValueError", "keys"], ["ValueError", "iter"], ["ValueError", "next"],
        ["ValueError", "getitem"]]


def test_setdefault_without_default(results):
    assert ok(results, "setdefault_no_default_is_empty_str") == ["", "", "str", [["key0", ""]]]


def test_pop_with_and_without_default(results):
    assert ok(results, "pop") == [["1", "2"], [["b", "3"]], "3", [], "dflt", None]
    assert exc(results, "pop_missing") == ("KeyError", "'nope'")
    assert exc(results, "pop_nonstr")[0] == "TypeError"


def test_popitem_until_empty(results):
    assert ok(results, "popitem_until_empty") == "ok"


def test_equality_with_dicts(results):
    assert ok(results, "equality_with_dicts") == [True, True, True, False, True, True, True,
                                                  False, True]


def test_in_with_non_string_keys_as_in_3_5(results):
    assert ok(results, "in_with_bytes_and_nonstr") == [
        True, True, "TypeError: table keys must be strings, not int",
        "TypeError: table keys must be strings, not NoneType",
        "TypeError: table keys must be strings, not tuple"]
