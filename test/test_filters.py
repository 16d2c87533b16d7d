"""Python input and output filters (mod_python 3.5 manual: "Overview of a Filter
Handler", "Filter Object (mp_filter)").

Static filters (PythonOutputFilter/PythonInputFilter activated with
SetOutputFilter/AddOutputFilter/SetInputFilter), per-request filters
(req.register_*_filter + req.add_*_filter), the filter object's API, error
handling (a raising filter never hangs the connection), and streaming: a
100 MiB response through a Python output filter keeps the child's memory
bounded.  One child process (SINGLE_CHILD), so module globals persist
between requests and the RSS of "the" child can be sampled.
"""
import http.client
import os
import socket
import threading
import time

import pytest

from harness import MPMS, NO_RSS_UNDER_ASAN, SANITIZED, SINGLE_CHILD, Httpd

FILTERS_PY = r'''
from mod_python import apache

KEPT = {}

def uppercase(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    if s is None:
        filter.close()

def chunked_upper(filter):
    # bounded reads: never more than 64 KiB at a time
    s = filter.read(65536)
    while s:
        filter.write(s.upper())
        s = filter.read(65536)
    if s is None:
        filter.close()

def lines(filter):
    # readline(): number every line of the response (counter kept per request)
    n = getattr(filter.req, "lineno", 0)
    s = filter.readline()
    while s:
        n += 1
        filter.write(b"%d:" % n + s)
        s = filter.readline()
    filter.req.lineno = n
    if s is None:
        filter.close()

def bytes_and_str(filter):
    s = filter.read()
    while s:
        filter.write(s)
        s = filter.read()
    if s is None:
        filter.write("[str:\u00e9]")
        filter.write(bytearray(b"[bytearray]"))
        filter.write(memoryview(b"[memoryview]"))
        try:
            filter.write(12)
        except TypeError:
            filter.write(b"[int:TypeError]")
        filter.close()

def attrs(filter):
    s = filter.read()
    while s:
        filter.write(s)
        s = filter.read()
    if s is None:
        out = ["name=%s" % filter.name,
               "is_input=%r" % filter.is_input,
               "handler=%s" % filter.handler,
               "dir=%s" % filter.dir,
               "closed=%r" % filter.closed,
               "req=%s" % type(filter.req).__name__,
               "uri=%s" % filter.req.uri,
               "type=%s" % type(filter).__name__]
        filter.softspace = 3
        out.append("softspace=%r" % filter.softspace)
        for attr in ("name", "closed", "req", "is_input", "handler", "dir"):
            try:
                setattr(filter, attr, "x")
                out.append("set-%s:allowed" % attr)
            except AttributeError:
                out.append("set-%s:AttributeError" % attr)
        try:
            filter.foo = 1
            out.append("set-foo:allowed")
        except AttributeError:
            out.append("set-foo:AttributeError")
        try:
            del filter.softspace
        except AttributeError as e:
            out.append("del:%s" % e)
        filter.write("\n" + "|".join(out))
        filter.close()
        filter.close()                  # idempotent
        after = ["closed=%r" % filter.closed]
        for meth in ("read", "readline"):
            try:
                getattr(filter, meth)()
                after.append("%s:ok" % meth)
            except ValueError as e:
                after.append("%s:%s" % (meth, e))
        try:
            filter.write(b"late")
            after.append("write:ok")
        except ValueError as e:
            after.append("write:%s" % e)
        KEPT["after_close"] = "|".join(after)
        KEPT["filter"] = filter

def raiser(filter):
    s = filter.read()
    raise ValueError("filter boom %d" % len(s or b""))

def raise_at_eos(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    if s is None:
        raise RuntimeError("boom at end of stream")

def no_close(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    # forgets filter.close(): the C side must still end the stream

def disabler(filter):
    # first invocation: disable -> everything passes through untouched
    filter.disable()

def passer(filter):
    filter.pass_on()

def in_upper(filter):
    s = filter.read()
    while s:
        filter.write(s.upper())
        s = filter.read()
    if s is None:
        filter.close()

def in_double(filter):
    # changes the body length: every chunk twice
    s = filter.read()
    while s:
        filter.write(s + s)
        s = filter.read()
    if s is None:
        filter.close()

def in_attrs(filter):
    s = filter.read()
    while s:
        filter.write(s)
        s = filter.read()
    if s is None:
        filter.req.notes["in_attrs"] = "name=%s|is_input=%r|handler=%s" % (
            filter.name, filter.is_input, filter.handler)
        filter.close()

def in_raiser(filter):
    filter.read()
    raise ValueError("input filter boom")
'''

HANDLERS_PY = r'''
from mod_python import apache
import filters

def dyn(req):
    req.register_output_filter("MyUpper", "filters::uppercase")
    req.add_output_filter("MyUpper")
    req.content_type = "text/plain"
    req.write("hello dynamic filter")
    return apache.OK

def dyn_attrs(req):
    req.register_output_filter("DynAttrs", "filters::attrs", "@ROOT@/lib")
    req.add_output_filter("DynAttrs")
    req.content_type = "text/plain"
    req.write("body")
    return apache.OK

def dyn_input(req):
    req.register_input_filter("DynIn", "filters::in_upper")
    req.add_input_filter("DynIn")
    req.content_type = "text/plain"
    req.write(b"got:" + req.read())
    return apache.OK

def echo_body(req):
    req.content_type = "application/octet-stream"
    body = req.read()
    req.write(b"len=%d;" % len(body) + body)
    return apache.OK

def echo_notes(req):
    req.content_type = "text/plain"
    body = req.read()
    req.write("%d|%s" % (len(body), req.notes.get("in_attrs", "")))
    return apache.OK

def multi(req):
    req.content_type = "text/plain"
    for i in range(5):
        req.write("part %d;" % i)
    return apache.OK

def stream(req):
    req.content_type = "application/octet-stream"
    chunk = b"abcdefghij" * 104858          # ~1 MiB
    n = int(req.args or "1")
    for i in range(n):
        req.write(chunk)
    return apache.OK

def state(req):
    req.content_type = "text/plain"
    out = [filters.KEPT.get("after_close", "-")]
    kept = filters.KEPT.get("filter")
    for what in ("read", "name", "write"):
        try:
            if what == "read":
                kept.read()
            elif what == "name":
                kept.name
            else:
                kept.write(b"x")
            out.append("%s:ok" % what)
        except RuntimeError:
            out.append("%s:RuntimeError" % what)
        except Exception as e:
            out.append("%s:%s" % (what, type(e).__name__))
    out.append("repr=%s" % ("finished" in repr(kept)))
    req.write("|".join(out))
    return apache.OK
'''

CONFIG = r'''
# two requests on one keep-alive connection must reach the same child even
# when the machine is slow: httpd must not close it in between (default 5 s)
KeepAliveTimeout 120
PythonPath "sys.path+['@ROOT@/lib']"
PythonOutputFilter filters::uppercase UPPERCASE
PythonOutputFilter filters::chunked_upper CHUNKUP
PythonOutputFilter filters::lines LINES
PythonOutputFilter filters::bytes_and_str MIXED
PythonOutputFilter filters::attrs ATTRS
PythonOutputFilter filters::raiser RAISER
PythonOutputFilter filters::raise_at_eos RAISEEOS
PythonOutputFilter filters::no_close NOCLOSE
PythonOutputFilter filters::disabler DISABLER
PythonOutputFilter filters::passer PASSER
PythonInputFilter filters::in_upper INUPPER
PythonInputFilter filters::in_double INDOUBLE
PythonInputFilter filters::in_attrs INATTRS
PythonInputFilter filters::in_raiser INRAISER

AddOutputFilter UPPERCASE .up
<Directory @DOCROOT@/static>
    SetOutputFilter UPPERCASE
</Directory>
<Directory @DOCROOT@/lines>
    SetOutputFilter LINES
</Directory>
<Directory @DOCROOT@/big>
    SetOutputFilter CHUNKUP
</Directory>

<Location /py>
    SetHandler mod_python
    PythonHandler handlers::multi
</Location>
<Location /py/dyn>
    PythonHandler handlers::dyn
</Location>
<Location /py/dyn_attrs>
    PythonHandler handlers::dyn_attrs
</Location>
<Location /py/dyn_input>
    PythonHandler handlers::dyn_input
</Location>
<Location /py/state>
    PythonHandler handlers::state
</Location>
<Location /py/stream>
    PythonHandler handlers::stream
    SetOutputFilter UPPERCASE
</Location>
<Location /py/multi_upper>
    SetOutputFilter UPPERCASE
</Location>
<Location /py/mixed>
    SetOutputFilter MIXED
</Location>
<Location /py/attrs>
    SetOutputFilter ATTRS
</Location>
<Location /py/raiser>
    SetOutputFilter RAISER
</Location>
<Location /py/raiser_debug>
    PythonDebug On
    SetOutputFilter RAISER
</Location>
<Location /py/raise_eos>
    SetOutputFilter RAISEEOS
</Location>
<Location /py/noclose>
    SetOutputFilter NOCLOSE
</Location>
<Location /py/disabled>
    SetOutputFilter DISABLER
</Location>
<Location /py/passon>
    SetOutputFilter PASSER
</Location>
<Location /py/post>
    PythonHandler handlers::echo_body
    SetInputFilter INUPPER
</Location>
<Location /py/post_double>
    PythonHandler handlers::echo_body
    SetInputFilter INDOUBLE
</Location>
<Location /py/post_attrs>
    PythonHandler handlers::echo_notes
    SetInputFilter INATTRS
</Location>
<Location /py/post_raise>
    PythonHandler handlers::echo_body
    SetInputFilter INRAISER
</Location>
<Location /missing>
    SetOutputFilter MOD_PYTHON
</Location>
<Location /py/post_missing>
    PythonHandler handlers::echo_body
    SetInputFilter MOD_PYTHON
</Location>
<Directory @DOCROOT@/chain>
    SetOutputFilter UPPERCASE;LINES
</Directory>
<Location /py/chain>
    SetOutputFilter LINES;UPPERCASE;MIXED
</Location>
'''

FILES = {
    "lib/filters.py": FILTERS_PY,
    "lib/handlers.py": HANDLERS_PY,
    "htdocs/static/hello.txt": "hello static world\n",
    "htdocs/page.up": "added by extension\n",
    "htdocs/lines/abc.txt": "alpha\nbeta\ngamma\nno newline",
    "htdocs/chain/abc.txt": "alpha\nbeta\n",
    "htdocs/page.txt": "not filtered\n",
    "htdocs/missing/x.txt": "never seen\n",
}


@pytest.fixture(scope="module")
def srv(httpd):
    s = httpd(CONFIG, files=FILES, mpm_config=SINGLE_CHILD, name="filters", start=False)
    # a 3 MiB static file for the bounded-read filter
    s.write("htdocs/big/data.txt", ("abcdefghijklmnopqrstuvwxyz0123456789\n" * 85000))
    return s.start()


def _keepalive_pair(srv, first, second="/page.txt", timeout=60):
    """Two requests on one keep-alive connection: the first response must be
    correctly terminated or the second one never arrives (timeout)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    try:
        conn.request("GET", first)
        r1 = conn.getresponse()
        b1 = r1.read()
        conn.request("GET", second)
        r2 = conn.getresponse()
        b2 = r2.read()
        return (r1.status, b1), (r2.status, b2)
    finally:
        conn.close()


# ------------------------------------------------------------ static filters

def test_setoutputfilter_static_file(srv):
    r = srv.get("/static/hello.txt")
    assert r.status == 200
    assert r.body == b"HELLO STATIC WORLD\n"


def test_addoutputfilter_by_extension(srv):
    assert srv.get("/page.up").body == b"ADDED BY EXTENSION\n"
    assert srv.get("/page.txt").body == b"not filtered\n"


def test_output_filter_on_python_handler_many_invocations(srv):
    # every req.write() flushes: the filter runs once per brigade
    r = srv.get("/py/multi_upper")
    assert r.status == 200
    assert r.body == b"PART 0;PART 1;PART 2;PART 3;PART 4;"


def test_bounded_reads_of_a_big_file(srv):
    r = srv.get("/big/data.txt")
    assert r.status == 200
    assert r.body == b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\n" * 85000


def test_readline(srv):
    r = srv.get("/lines/abc.txt")
    assert r.status == 200
    assert r.body == b"1:alpha\n2:beta\n3:gamma\n4:no newline"


def test_chained_python_filters(srv):
    # the second filter runs inside the first one's flush (nested entry)
    r = srv.get("/chain/abc.txt")
    assert r.status == 200
    assert r.body == b"1:ALPHA\n2:BETA\n"
    r = srv.get("/py/chain")
    assert r.status == 200
    assert r.body.startswith(b"1:PART 0;")
    assert r.body.endswith(b"PART 4;[str:\xc3\xa9][bytearray][memoryview][int:TypeError]")


def test_write_accepts_str_and_buffers(srv):
    r = srv.get("/py/mixed")
    assert r.status == 200
    assert r.body.endswith("[str:\u00e9][bytearray][memoryview][int:TypeError]".encode())


def test_filter_attributes(srv):
    r = srv.get("/py/attrs")
    assert r.status == 200
    body, _, info = r.text.partition("\n")
    assert body.startswith("part 0;")
    fields = info.split("|")
    assert "name=attrs" in fields
    assert "is_input=0" in fields
    assert "handler=filters::attrs" in fields
    assert "closed=0" in fields
    assert "req=mp_request" in fields
    assert "uri=/py/attrs" in fields
    assert "type=mp_filter" in fields
    assert "softspace=3" in fields
    for attr in ("name", "closed", "req", "is_input", "handler", "dir"):
        assert "set-%s:AttributeError" % attr in fields
    assert "set-foo:AttributeError" in fields
    assert "del:can't delete filter attributes" in fields


def test_closed_filter_and_kept_reference(srv):
    srv.get("/py/attrs")
    r = srv.get("/py/state")
    assert r.status == 200
    parts = r.text.split("|")
    # after close(): closed flag set, I/O raises ValueError
    assert parts[0] == "closed=1"
    assert parts[1] == "read:I/O operation on closed filter"
    assert parts[2] == "readline:I/O operation on closed filter"
    assert parts[3] == "write:I/O operation on closed filter"
    # a reference kept past its invocation raises instead of touching httpd memory
    assert "read:RuntimeError" in parts
    assert "name:RuntimeError" in parts
    assert "write:RuntimeError" in parts
    assert "repr=True" in parts
    srv.assert_no_crash()


def test_disable_passes_through(srv):
    r = srv.get("/py/disabled")
    assert r.status == 200
    assert r.body == b"part 0;part 1;part 2;part 3;part 4;"


def test_pass_on(srv):
    r = srv.get("/py/passon")
    assert r.status == 200
    assert r.body == b"part 0;part 1;part 2;part 3;part 4;"
    (s1, b1), (s2, b2) = _keepalive_pair(srv, "/py/passon")
    assert (s1, b1) == (200, b"part 0;part 1;part 2;part 3;part 4;")
    assert (s2, b2) == (200, b"not filtered\n")


# ------------------------------------------------------ per-request filters

def test_register_and_add_output_filter(srv):
    r = srv.get("/py/dyn")
    assert r.status == 200
    assert r.body == b"HELLO DYNAMIC FILTER"


def test_dynamic_filter_name_and_dir(srv):
    r = srv.get("/py/dyn_attrs")
    assert r.status == 200
    body, _, info = r.text.partition("\n")
    assert body == "body"
    fields = info.split("|")
    assert "name=mod_python" in fields
    assert "handler=filters::attrs" in fields
    assert "dir=%s/lib/" % srv.root in fields


def test_dynamic_input_filter(srv):
    r = srv.post("/py/dyn_input", body=b"make me loud")
    assert r.status == 200
    assert r.body == b"got:MAKE ME LOUD"


# ------------------------------------------------------------- input filters

def test_input_filter_transforms_post_body(srv):
    r = srv.post("/py/post", body=b"hello input filter")
    assert r.status == 200
    assert r.body == b"len=18;HELLO INPUT FILTER"


def test_input_filter_large_body(srv):
    body = (b"abcdefghijklmnopqrstuvwxyz" * 40000)       # ~1 MiB
    r = srv.post("/py/post", body=body)
    assert r.status == 200
    assert r.body == b"len=%d;" % len(body) + body.upper()


def test_input_filter_chunked_body(srv):
    def gen():
        for i in range(50):
            yield b"chunk%02d-" % i
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.request("POST", "/py/post", body=gen(), encode_chunked=True,
                     headers={"Transfer-Encoding": "chunked"})
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    expected = b"".join(b"CHUNK%02d-" % i for i in range(50))
    assert r.status == 200
    assert data == b"len=%d;" % len(expected) + expected


def test_input_filter_changing_length(srv):
    # the filter returns more than the reader asked for: nothing is lost
    body = bytes(range(256)) * 1024                    # 256 KiB
    r = srv.post("/py/post_double", body=body)
    assert r.status == 200
    head, _, rest = r.body.partition(b";")
    assert head == b"len=%d" % (2 * len(body))
    assert len(rest) == 2 * len(body)
    assert rest[:256] == bytes(range(256))


def test_input_filter_attributes(srv):
    r = srv.post("/py/post_attrs", body=b"12345")
    assert r.status == 200
    assert r.text == "5|name=inattrs|is_input=1|handler=filters::in_attrs"


def test_input_filter_raising(srv):
    mark = srv.log_mark()
    r = srv.post("/py/post_raise", body=b"abc" * 1000)
    # the request completes (whatever its body) and the error is logged
    assert r.status in (200, 400, 500)
    assert srv.wait_log("input filter boom", mark=mark)
    assert srv.get("/page.txt").status == 200
    srv.assert_no_crash()


# ---------------------------------------------------------------- errors

def test_raising_filter_is_logged_and_connection_ends(srv):
    mark = srv.log_mark()
    (s1, b1), (s2, b2) = _keepalive_pair(srv, "/py/raiser")
    assert s1 in (200, 500)
    assert (s2, b2) == (200, b"not filtered\n")
    log = srv.log_since(mark)
    assert "ValueError: filter boom" in log
    assert "raiser" in log
    srv.assert_no_crash()


def test_raising_filter_debug_shows_traceback(srv):
    r = srv.get("/py/raiser_debug")
    assert b"Mod_python error" in r.body
    assert b"filter boom" in r.body
    assert srv.get("/page.txt").status == 200


def test_raise_after_end_of_stream_still_terminates(srv):
    mark = srv.log_mark()
    (s1, b1), (s2, b2) = _keepalive_pair(srv, "/py/raise_eos")
    assert s1 == 200
    assert b1 == b"PART 0;PART 1;PART 2;PART 3;PART 4;"
    assert (s2, b2) == (200, b"not filtered\n")
    assert srv.wait_log("boom at end of stream", mark=mark)


def test_filter_forgetting_close_still_terminates(srv):
    (s1, b1), (s2, b2) = _keepalive_pair(srv, "/py/noclose")
    assert (s1, b1) == (200, b"PART 0;PART 1;PART 2;PART 3;PART 4;")
    assert (s2, b2) == (200, b"not filtered\n")


def test_unregistered_generic_filter_is_500(srv):
    mark = srv.log_mark()
    r = srv.get("/missing/x.txt")
    assert r.status == 500
    assert b"never seen" not in r.body
    assert "Could not find registered filter" in srv.log_since(mark)
    assert srv.get("/static/hello.txt").body == b"HELLO STATIC WORLD\n"
    srv.assert_no_crash()


def test_unregistered_generic_input_filter_fails_the_read(srv):
    mark = srv.log_mark()
    r = srv.post("/py/post_missing", body=b"abc")
    assert r.status in (400, 500)
    assert "Could not find registered filter" in srv.log_since(mark)
    assert srv.post("/py/post", body=b"ok").body == b"len=2;OK"
    srv.assert_no_crash()


# ------------------------------------------------------------- streaming

def _vmrss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children_rss(srv):
    return sum(_vmrss_kib(p) for p in srv._children_of(srv.pid()))


def _download(srv, path, timeout=120):
    """Stream a response, return (status, total bytes, all uppercase?)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)
    total, upper = 0, True
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        r = conn.getresponse()
        while True:
            block = r.read(1 << 20)
            if not block:
                break
            total += len(block)
            if upper and block.translate(None, b"ABCDEFGHIJ"):
                upper = False
        return r.status, total, upper
    finally:
        conn.close()


@pytest.mark.skipif(SANITIZED, reason=NO_RSS_UNDER_ASAN)
def test_100mib_through_output_filter_memory_stays_flat(srv):
    chunk = len(b"abcdefghij" * 104858)
    # warm up: interpreter, modules, allocator pools
    status, total, upper = _download(srv, "/py/stream?8")
    assert (status, total, upper) == (200, 8 * chunk, True)
    time.sleep(0.5)
    baseline = _children_rss(srv)
    assert baseline > 0

    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append(_children_rss(srv))
            time.sleep(0.05)

    t = threading.Thread(target=sampler, daemon=True)
    t.start()
    try:
        status, total, upper = _download(srv, "/py/stream?100")
    finally:
        stop.set()
        t.join()
    samples.append(_children_rss(srv))  # at least one, however the threads ran
    assert status == 200
    assert total == 100 * chunk
    assert upper
    assert samples
    growth_mib = (max(samples) - baseline) / 1024.0
    assert growth_mib < 50, "children RSS grew by %.1f MiB (baseline %d KiB)" % (
        growth_mib, baseline)
    srv.assert_no_crash()


def test_client_abort_mid_stream(srv):
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
    sock.sendall(b"GET /py/stream?50 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    got = 0
    while got < 3 * 1024 * 1024:
        data = sock.recv(65536)
        if not data:
            break
        got += len(data)
    sock.close()                        # the filter's next pass_on/flush fails
    assert got >= 3 * 1024 * 1024
    # the aborted request has ended once it is in the access log
    deadline = time.monotonic() + 60
    while "GET /py/stream?50 " not in srv.access_log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "GET /py/stream?50 " in srv.access_log()
    r = srv.get("/py/stream?2")
    assert r.status == 200
    assert r.body == b"ABCDEFGHIJ" * 104858 * 2
    srv.assert_no_crash()


# ------------------------------------------------------- MPMs, concurrency

@pytest.mark.parametrize("mpm", MPMS)
def test_filters_under_every_mpm_concurrently(mp_module, mpm):
    s = Httpd(CONFIG, files=FILES, mpm=mpm, name="filters-" + mpm)
    s.start()
    try:
        errors = []

        def worker(n):
            try:
                for i in range(10):
                    body = b"worker %d request %d " % (n, i) * 50
                    r = s.post("/py/post", body=body)
                    assert r.body == b"len=%d;" % len(body) + body.upper(), r
                    r = s.get("/py/multi_upper")
                    assert r.body == b"PART 0;PART 1;PART 2;PART 3;PART 4;", r
                    r = s.get("/py/dyn")
                    assert r.body == b"HELLO DYNAMIC FILTER", r
                    r = s.get("/chain/abc.txt")
                    assert r.body == b"1:ALPHA\n2:BETA\n", r
            except Exception as e:          # pragma: no cover - reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not errors, errors[:3]
        (s1, b1), (s2, b2) = _keepalive_pair(s, "/py/raise_eos")
        assert (s2, b2) == (200, b"not filtered\n")
        s.assert_no_crash()
    finally:
        s.stop()
    assert not [l for l in s.error_log().splitlines()
                if "Segmentation fault" in l or "Fatal Python error" in l]


def test_server_healthy_at_end(srv):
    assert srv.get("/static/hello.txt").body == b"HELLO STATIC WORLD\n"
    srv.assert_no_crash()
