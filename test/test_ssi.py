"""Server-side includes: the mod_include "#python" element (mod_python 3.5 manual:
"Server Side Includes").

mod_include is loaded; pages under ssi/ are parsed (Options +Includes,
AddOutputFilter INCLUDES .shtml).  Covers eval and exec (print to the
filter), the request object, globals shared by the elements of one page,
ordering with the surrounding text, attribute errors, exceptions,
IncludesNOEXEC and false #if branches.
"""
import pytest


ERR = "[an error occurred while processing this directive]"

CONFIG = r'''
PythonPath "sys.path+['@ROOT@/lib']"
AddType text/html .shtml
<Directory @DOCROOT@/ssi>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
</Directory>
<Directory @DOCROOT@/ssidebug>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
    PythonDebug On
</Directory>
<Directory @DOCROOT@/noexec>
    Options +IncludesNOEXEC
    AddOutputFilter INCLUDES .shtml
</Directory>
<Directory @DOCROOT@/prefill>
    Options +Includes
    AddOutputFilter INCLUDES .shtml
    PythonFixupHandler ssiprep
</Directory>
'''

SSIPREP_PY = r'''
from mod_python import apache

def fixuphandler(req):
    req.ssi_globals = {"greeting": "hi from fixup"}
    return apache.OK
'''

FILES = {
    "lib/ssiprep.py": SSIPREP_PY,
    "htdocs/ssi/eval.shtml": 'before <!--#python eval="1+1" --> after\n',
    "htdocs/ssi/exec.shtml": (
        'A\n'
        '<!--#python exec="\n'
        'import sys\n'
        'print(\'uri:\', filter.req.uri, file=filter)\n'
        'filter.write(\'written;\')\n'
        'for i in range(3):\n'
        '    filter.write(str(i))\n'
        '" -->\n'
        'B\n'),
    "htdocs/ssi/req.shtml": (
        '<!--#python eval="filter.req.uri" -->|'
        '<!--#python eval="filter.name" -->|'
        '<!--#python eval="type(filter).__name__" -->|'
        '<!--#python eval="__file__.endswith(\'req.shtml\')" -->\n'),
    "htdocs/ssi/globals.shtml": (
        '<!--#python exec="x = 21" -->'
        '[<!--#python eval="x * 2" -->]'
        '<!--#python exec="y = x + 1" -->'
        '[<!--#python eval="y" -->]'
        '[<!--#python eval="None" -->]\n'),
    "htdocs/ssi/fresh.shtml": '<!--#python eval="\'x\' in globals()" -->\n',
    "htdocs/ssi/order.shtml": (
        'one <!--#python eval="\'two\'" --> three '
        '<!--#python exec="filter.write(\'four\')" --> five '
        '<!--#echo var="DOCUMENT_NAME" --> six\n'),
    "htdocs/ssi/error.shtml": 'start <!--#python eval="1/0" --> end\n',
    "htdocs/ssi/badattr.shtml": 'a <!--#python foo="1" --> b\n',
    "htdocs/ssi/missing.shtml": 'a <!--#python --> b\n',
    "htdocs/ssi/multiple.shtml": 'a <!--#python eval="1" exec="2" --> b\n',
    "htdocs/ssi/empty.shtml": 'a <!--#python eval="" --> b\n',
    "htdocs/ssi/iffalse.shtml": (
        '<!--#if expr="1 = 0" -->hidden <!--#python eval="undefined_name" -->'
        '<!--#else -->shown <!--#python eval="3*3" --><!--#endif -->\n'),
    "htdocs/ssidebug/error.shtml": 'start <!--#python eval="1/0" --> end\n',
    "htdocs/noexec/page.shtml": 'x <!--#python eval="1+1" --> y\n',
    "htdocs/prefill/page.shtml": '<!--#python eval="greeting" -->\n',
}


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG, files=FILES, modules=("include",), name="ssi")


def test_eval(srv):
    r = srv.get("/ssi/eval.shtml")
    assert r.status == 200
    assert r.text == "before 2 after\n"


def test_exec_with_print_to_filter(srv):
    r = srv.get("/ssi/exec.shtml")
    assert r.status == 200
    assert r.text == "A\nuri: /ssi/exec.shtml\nwritten;012\nB\n"


def test_filter_and_request_attributes(srv):
    r = srv.get("/ssi/req.shtml")
    assert r.status == 200
    assert r.text == "/ssi/req.shtml|includes|mp_filter|True\n"


def test_globals_shared_within_a_page(srv):
    r = srv.get("/ssi/globals.shtml")
    assert r.text == "[42][22][]\n"
    # ... but not across requests
    assert srv.get("/ssi/fresh.shtml").text == "False\n"


def test_globals_prefilled_by_a_handler(srv):
    assert srv.get("/prefill/page.shtml").text == "hi from fixup\n"


def test_output_order_with_surrounding_text(srv):
    r = srv.get("/ssi/order.shtml")
    assert r.text == "one two three four five order.shtml six\n"


def test_exception_inserts_error_text_and_logs(srv):
    mark = srv.log_mark()
    r = srv.get("/ssi/error.shtml")
    assert r.status == 200
    assert r.text == "start %s end\n" % ERR
    log = srv.log_since(mark)
    assert "ZeroDivisionError" in log
    srv.assert_no_crash()


def test_exception_with_debug_shows_traceback(srv):
    r = srv.get("/ssidebug/error.shtml")
    assert r.status == 200
    assert r.text.startswith("start ")
    assert "Mod_python error" in r.text
    assert "ZeroDivisionError" in r.text
    assert r.text.endswith(" end\n")


@pytest.mark.parametrize("page, message", [
    ("badattr", "unexpected 'foo' parameter in tag python"),
    ("missing", "missing 'eval/exec' parameter in tag python"),
    ("multiple", "multiple 'eval/exec' parameters in tag python"),
    ("empty", "empty value for 'eval' parameter in tag python"),
])
def test_attribute_errors(srv, page, message):
    mark = srv.log_mark()
    r = srv.get("/ssi/%s.shtml" % page)
    assert r.status == 200
    assert r.text == "a %s b\n" % ERR
    assert message in srv.log_since(mark)


def test_includes_noexec_refuses(srv):
    mark = srv.log_mark()
    r = srv.get("/noexec/page.shtml")
    assert r.status == 200
    assert r.text == "x %s y\n" % ERR
    assert "#python used but not allowed in" in srv.log_since(mark)


def test_false_if_branch_is_skipped(srv):
    mark = srv.log_mark()
    r = srv.get("/ssi/iffalse.shtml")
    assert r.text == "shown 9\n"
    assert "undefined_name" not in srv.log_since(mark)


def test_server_healthy(srv):
    assert srv.get("/ssi/eval.shtml").text == "before 2 after\n"
    srv.assert_no_crash()
