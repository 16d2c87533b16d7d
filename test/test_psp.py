"""Python Server Pages (mod_python 3.5 manual: "psp - Python Server Pages"): the _psp
translator and mod_python.psp, against a real httpd.

Pages under psp/ (PythonDebug On) and nodebug/ run through
`PythonHandler mod_python.psp`; py/api.py uses the PSP class API from a
handler; dbm/ keeps compiled pages in a dbm file; sess/ uses sessions.
"""
import dbm
import marshal
import os
import re
import threading
import time

import pytest

pytestmark = pytest.mark.mpms("event", "prefork")

CONFIG = r'''
<Directory @DOCROOT@/psp>
    AddHandler mod_python .psp .psp_
    PythonHandler mod_python.psp
    PythonDebug On
</Directory>
<Directory @DOCROOT@/nodebug>
    AddHandler mod_python .psp .psp_
    PythonHandler mod_python.psp
</Directory>
<Directory @DOCROOT@/dbm>
    AddHandler mod_python .psp
    PythonHandler mod_python.psp
    PythonDebug On
    PythonOption mod_python.psp.cache_database_filename @ROOT@/tmp/pspcache
</Directory>
<Directory @DOCROOT@/sess>
    AddHandler mod_python .psp
    PythonHandler mod_python.psp
    PythonDebug On
    PythonOption mod_python.session.session_type FileSession
    PythonOption mod_python.session.database_directory @ROOT@/tmp
</Directory>
<Directory @DOCROOT@/py>
    AddHandler mod_python .py
    PythonHandler api
    PythonDebug On
</Directory>
'''

HELLO = '''<html>
<%
greeting = "Hello"
%>
<p><%= greeting %>, <%= 6 * 7 %>!</p>
<%-- dropped: <% raise Exception("never") %> --%>
<%
for i in range(3):
%>[<%= i %>]<%
# the loop ends at a line in column 0
%>
<%
if 1 > 2:
%>NEVER<%

%>
<%
for i in range(2):
    for j in range(2):
        pair = (i, j)
%>(<%= pair[0] %><%= pair[1] %>)<%
%>
done
</html>
'''

API_PY = r'''
import os
from mod_python import apache, psp

def handler(req):
    what = req.args or ""
    req.content_type = "text/plain"
    if what == "parsestring":
        req.write(psp.parsestring("a<%= b %>c\n<% x = 1 %>"))
    elif what == "parsebytes":
        req.write(psp.parsestring("é<%= 1 %>".encode("utf-8")))
    elif what == "parse":
        d = os.path.dirname(req.filename) + "/"
        req.write(psp.parse("tmpl.html", d))
    elif what == "string":
        psp.PSP(req, string="<%= x %>+<%= y %>=<%= x + y %>", vars={"x": 1}).run({"y": 2})
    elif what == "template":
        psp.PSP(req, "tmpl.html", vars={"items": ["a", "b"]}).run()
    elif what == "str":
        req.write(str(psp.PSP(req, string="S<%= 1 %>")))
    elif what == "both":
        try:
            psp.PSP(req, filename="tmpl.html", string="x")
        except ValueError as e:
            req.write("ValueError: %s" % e)
    elif what == "missing":
        psp.PSP(req, "nope.html")
    elif what == "display":
        psp.PSP(req, string='<%= "a" %>\n\tb').display_code()
    return apache.OK
'''

TMPL = '''<ul><%
for it in items:
%><li><%= it %></li><%
%></ul>'''

FILES = {
    "htdocs/psp/hello.psp": HELLO,
    "htdocs/psp/text.psp": 'say "hi" \\n \\t \\\\ C:\\dir\\new \'single\' """triple"""\\',
    "htdocs/psp/incl.psp": ('<% title = "T" %><%@ include file="inc/header.psp" %>'
                            'body<%@ include file="inc/footer.psp"%>\n'),
    "htdocs/psp/inc/header.psp": "<h1><%= title %></h1>",
    "htdocs/psp/inc/footer.psp": '<i>foot</i><%@ include file="inc/sig.psp" %>',
    "htdocs/psp/inc/sig.psp": "--sig",
    "htdocs/psp/badincl.psp": 'x<%@ include file="inc/nope.psp" %>y',
    "htdocs/psp/selfincl.psp": 'x<%@ include file="selfincl.psp" %>y',
    "htdocs/psp/redirect.psp": '<% psp.redirect("/psp/hello.psp") %>never',
    "htdocs/psp/err_main.psp": ('okay\n<%\npsp.set_error_page("err_page.psp")\n'
                                'raise ValueError("boom")\n%>\nnot reached'),
    "htdocs/psp/err_abs.psp": ('<%\npsp.set_error_page("/psp/err_page.psp")\n'
                               'raise KeyError("k")\n%>'),
    "htdocs/psp/err_page.psp": ("ERROR PAGE: <%= exception[0].__name__ %> "
                                "<%= exception[1] %> <%= type(exception[2]).__name__ %>"),
    "htdocs/psp/raise.psp": 'a<%\nraise RuntimeError("psp-raised")\n%>b',
    "htdocs/psp/syntax.psp": "<% for x in y: %>z<% %>",
    "htdocs/psp/utf8.psp": '<p>Grüße, 日本 — <%= "é" * 2 %></p>',
    "htdocs/psp/form.psp": '<%= form.getfirst("name", "none") %>|<%= form.getfirst("x", "?") %>',
    "htdocs/psp/apply.psp": ('<%\ndef add(a, b):\n    return int(a) + int(b)\n\n%>'
                             '<%= psp.apply_data(add) %>'),
    "htdocs/psp/names.psp": ('<%= type(psp).__name__ %>|<%= globals()["form"] %>|'
                             '<%= globals()["session"] %>|'
                             '<%= __file__.endswith("names.psp") %>|<%= req.uri %>|'
                             '<%= util.__name__ %>'),
    "htdocs/psp/cached.psp": "cached page",
    "htdocs/nodebug/page.psp": "plain <%= 1 + 1 %>",
    "htdocs/nodebug/raise.psp": '<% raise RuntimeError("hidden") %>',
    "htdocs/dbm/page.psp": "dbm <%= 40 + 2 %>",
    "htdocs/sess/count.psp": ('<%\nsession["n"] = session.get("n", 0) + 1\n%>'
                              'n=<%= session["n"] %>'),
    "htdocs/py/api.py": API_PY,
    "htdocs/py/tmpl.html": TMPL,
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, name="psp")


def settle(path):
    """A page changed in the last two seconds is not trusted to the caches
    (time stamp granularity): wait until `path` is older than that."""
    wait = 2.2 - (time.time() - os.stat(path).st_ctime)
    if wait > 0:
        time.sleep(wait)


def compiled_by_pid(log, path):
    """pid -> how many times the log says `path` was compiled."""
    counts = {}
    for line in log.splitlines():
        if "MP0343" in line and ("compiled '%s'" % path) in line:
            pid = re.search(r"\[pid (\d+)", line).group(1)
            counts[pid] = counts.get(pid, 0) + 1
    return counts


def ok(srv, path, **kw):
    r = srv.get(path, **kw)
    assert r.status == 200, (path, r.status, r.text[:2000])
    return r


# ------------------------------------------------------------ the syntax

def test_code_expressions_and_blocks(srv):
    r = ok(srv, "/psp/hello.psp")
    assert r.headers["Content-Type"].startswith("text/html")
    body = r.text
    assert "<p>Hello, 42!</p>" in body
    assert "[0][1][2]" in body
    assert "(00)(01)(10)(11)" in body
    assert "NEVER" not in body and "dropped" not in body and "never" not in body
    assert body.startswith("<html>\n") and body.rstrip().endswith("done\n</html>")


def test_text_is_written_literally(srv):
    r = ok(srv, "/psp/text.psp")
    assert r.text == 'say "hi" \\n \\t \\\\ C:\\dir\\new \'single\' """triple"""\\'


def test_include_nested_and_relative_to_the_page(srv):
    r = ok(srv, "/psp/incl.psp")
    assert r.text == "<h1>T</h1>body<i>foot</i>--sig\n"


def test_missing_include_is_an_error(srv):
    r = srv.get("/psp/badincl.psp")
    assert r.status == 500
    assert "FileNotFoundError" in r.text and "inc/nope.psp" in r.text


def test_recursive_include_is_an_error(srv):
    r = srv.get("/psp/selfincl.psp")
    assert r.status == 500
    assert "RecursionError" in r.text
    srv.assert_no_crash()


def test_syntax_error_gives_500(srv):
    r = srv.get("/psp/syntax.psp")
    assert r.status == 500
    assert "SyntaxError" in r.text


def test_utf8_template(srv):
    r = ok(srv, "/psp/utf8.psp")
    assert r.body == '<p>Grüße, 日本 — éé</p>'.encode("utf-8")


def test_crlf_template(srv):
    srv.write("htdocs/psp/crlf.psp",
              b"a\r\n<%\r\nfor i in range(2):\r\n    n = i\r\n%>x<%= n %><%\r\n%>\r\nb\r\n")
    assert ok(srv, "/psp/crlf.psp").text == "a\nx0x1\nb\n"


def test_lone_cr_in_text_is_a_newline(srv):
    # found by the PSP fuzzer (test/fuzz/fuzz_psp.c): a lone CR right before
    # a CRLF merged with it in the generated literal and a line was lost
    srv.write("htdocs/psp/cr.psp", b"a\r\r\nb\rc<%= 1 %>\r")
    assert ok(srv, "/psp/cr.psp").text == "a\n\nb\nc1\n"


def test_large_page(srv):
    block = '<%\nfor i in range(2):\n%>"<%= i %>" \\ <%\n%>é\n'
    srv.write("htdocs/psp/large.psp", block * 5000)
    r = ok(srv, "/psp/large.psp")
    assert r.text == '"0" \\ "1" \\ é\n' * 5000


def test_missing_page_is_404(srv):
    assert srv.get("/psp/nothere.psp").status == 404


# --------------------------------------------------------- page globals

def test_page_globals(srv):
    r = ok(srv, "/psp/names.psp")
    assert r.text == "PSPInterface|None|None|True|/psp/names.psp|mod_python.util"


def test_form_variables(srv):
    assert ok(srv, "/psp/form.psp?name=joe&x=1").text == "joe|1"
    assert ok(srv, "/psp/form.psp").text == "none|?"
    r = srv.post("/psp/form.psp", body=b"name=ann&x=%C3%A9",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200 and r.text == "ann|é"


def test_apply_data(srv):
    assert ok(srv, "/psp/apply.psp?a=2&b=3").text == "5"


def test_session_is_created_saved_and_released(srv):
    r1 = ok(srv, "/sess/count.psp")
    assert r1.text == "n=1"
    cookie = r1.headers["Set-Cookie"].split(";")[0]
    assert cookie.startswith("pysid=")
    r2 = ok(srv, "/sess/count.psp", headers={"Cookie": cookie})
    assert r2.text == "n=2"
    # the lock was released: a third request does not hang
    assert ok(srv, "/sess/count.psp", headers={"Cookie": cookie}).text == "n=3"


# ------------------------------------------------------ psp.* functions

def test_redirect(srv):
    r = srv.get("/psp/redirect.psp")
    assert r.status == 302
    assert r.headers["Location"] == "/psp/hello.psp"
    assert "never" not in r.text


def test_error_page(srv):
    r = ok(srv, "/psp/err_main.psp")
    assert r.text.startswith("okay\n")
    assert "ERROR PAGE: ValueError boom traceback" in r.text
    assert "not reached" not in r.text


def test_error_page_from_document_root(srv):
    r = ok(srv, "/psp/err_abs.psp")
    assert "ERROR PAGE: KeyError 'k' traceback" in r.text


def test_exception_without_error_page(srv):
    r = srv.get("/psp/raise.psp")
    assert r.status == 500
    assert "psp-raised" in r.text and "raise.psp" in r.text     # PythonDebug
    r = srv.get("/nodebug/raise.psp")
    assert r.status == 500 and "hidden" not in r.text
    assert "hidden" in srv.error_log()


# ---------------------------------------------------- the debug listing

def test_debug_source_listing(srv):
    r = ok(srv, "/psp/hello.psp_")
    assert "PSP-produced Python Code:" in r.text
    assert "req.write(" in r.text
    assert '<font color="green">&lt;p&gt;&lt;%=&nbsp;greeting' in r.text
    # one row per line, numbered
    assert "%d.&nbsp;" % HELLO.count("\n") in r.text


def test_no_listing_without_debug(srv):
    assert ok(srv, "/nodebug/page.psp").text == "plain 2"
    assert srv.get("/nodebug/page.psp_").status == 404


# ------------------------------------------------------------ the API

def test_parsestring(srv):
    r = ok(srv, "/py/api.py?parsestring")
    assert r.text == ('req.write("""a""",0); req.write(str( b ),0); req.write("""c\n'
                      '""",0); x = 1 ;req.write("""""",0)\n')
    r = ok(srv, "/py/api.py?parsebytes")
    assert r.text == 'req.write("""é""",0); req.write(str( 1 ),0); req.write("""""",0)\n'


def test_parse(srv):
    r = ok(srv, "/py/api.py?parse")
    assert r.text.startswith('req.write("""<ul>""",0);\nfor it in items:\n')


def test_psp_from_string_with_vars(srv):
    assert ok(srv, "/py/api.py?string").text == "1+2=3"


def test_psp_template_file(srv):
    assert ok(srv, "/py/api.py?template").text == "<ul><li>a</li><li>b</li></ul>"


def test_str_of_psp(srv):
    r = ok(srv, "/py/api.py?str")
    assert r.text == "S1"
    assert r.headers["Content-Type"].startswith("text/html")


def test_filename_and_string_is_value_error(srv):
    assert ok(srv, "/py/api.py?both").text == "ValueError: Must specify either filename or string"


def test_missing_template_is_404(srv):
    assert srv.get("/py/api.py?missing").status == 404


def test_display_code_of_string(srv):
    r = ok(srv, "/py/api.py?display")
    assert "&nbsp;&nbsp;&nbsp;&nbsp;b" in r.text      # a tab is four spaces
    assert "2.&nbsp;" in r.text


# ----------------------------------------------------------- the cache

def test_edited_template_is_recompiled(srv):
    srv.write("htdocs/psp/edit.psp", "version <%= 1 %>")
    assert ok(srv, "/psp/edit.psp").text == "version 1"
    srv.write("htdocs/psp/edit.psp", "version <%= 2 %> longer")
    assert ok(srv, "/psp/edit.psp").text == "version 2 longer"
    # rewritten in place: same inode, same size
    path = os.path.join(srv.docroot, "psp", "edit.psp")
    with open(path, "r+b") as f:
        f.write(b"VERSION <%= 3 %> LONGER")
    assert ok(srv, "/psp/edit.psp").text == "VERSION 3 LONGER"


def test_edited_include_is_picked_up(srv):
    srv.write("htdocs/psp/inc2.psp", "[<%@ include file=\"inc/part.psp\" %>]")
    srv.write("htdocs/psp/inc/part.psp", "one")
    assert ok(srv, "/psp/inc2.psp").text == "[one]"
    with open(os.path.join(srv.docroot, "psp", "inc", "part.psp"), "r+b") as f:
        f.write(b"two")
    assert ok(srv, "/psp/inc2.psp").text == "[two]"


def test_settled_page_is_compiled_once_per_process(srv):
    path = os.path.join(srv.docroot, "psp", "cached.psp")
    settle(path)
    mark = srv.log_mark()
    for _ in range(12):
        assert ok(srv, "/psp/cached.psp").text == "cached page"
    counts = compiled_by_pid(srv.log_since(mark), path)
    assert counts and set(counts.values()) == {1}


def test_dbm_cache(srv):
    path = os.path.join(srv.docroot, "dbm", "page.psp")
    settle(path)
    mark = srv.log_mark()
    for _ in range(6):
        assert ok(srv, "/dbm/page.psp").text == "dbm 42"
    # compiled once, then shared by every process through the dbm file
    assert sum(compiled_by_pid(srv.log_since(mark), path).values()) == 1
    with dbm.open(os.path.join(srv.root, "tmp", "pspcache"), "r") as db:
        assert path.encode() in db.keys()
    srv.write("htdocs/dbm/page.psp", "dbm <%= 40 + 3 %>!")
    assert ok(srv, "/dbm/page.psp").text == "dbm 43!"
    log = srv.error_log()
    assert "MP0341" not in log and "MP0342" not in log


def test_precompiled_file(srv):
    code = compile('req.write("from the psc")', "pre", "exec")
    src = srv.write("htdocs/psp/pre.psp", "from the source")
    psc = os.path.join(srv.docroot, "psp", "pre.psc")
    with open(psc, "wb") as f:
        f.write(marshal.dumps(code))
    st = os.stat(src)
    os.utime(psc, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert ok(srv, "/psp/pre.psp").text == "from the psc"
    os.unlink(psc)


def test_concurrent_requests(srv):
    results = []

    def worker():
        for _ in range(5):
            r = srv.get("/psp/hello.psp")
            results.append((r.status, "(00)(01)(10)(11)" in r.text))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(200, True)] * 40
    srv.assert_no_crash()
