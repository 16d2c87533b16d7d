"""apache.setup_cgi / CGIStdin / CGIStdout / restore_nocgi / build_cgi_env."""
import pytest


CONF = """
<Directory @DOCROOT@>
  SetHandler mod_python
  PythonHandler cgiish
</Directory>
"""

SRC = r'''
import os, sys
from mod_python import apache

def handler(req):
    env = apache.build_cgi_env(req)
    saved = apache.setup_cgi(req)
    try:
        body = sys.stdin.read()
        sys.stdout.write("Status: 201\r\nContent-Type: application/octet-stream\r\n"
                         "X-Method: %s\r\n\r\n" % os.environ["REQUEST_METHOD"])
        sys.stdout.write(b"\x00\xff\xfe" + body)
        sys.stdout.write("|%s|%s" % (env["GATEWAY_INTERFACE"], env["SCRIPT_NAME"]))
    finally:
        stdin, stdout = sys.stdin, sys.stdout
        apache.restore_nocgi(*saved)
    assert sys.stdin is saved[1] and sys.stdout is saved[2]
    assert "REQUEST_METHOD" not in os.environ
    return apache.OK
'''


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONF, files={"htdocs/cgiish.py": SRC}, name="apache-cgi")


def test_cgi_emulation_binary_round_trip(srv):
    r = srv.post("/cgiish.py/extra", body=b"\x80\x81 body")
    assert r.status == 201
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["X-Method"] == "POST"
    assert r.body == b"\x00\xff\xfe\x80\x81 body|Python-CGI/1.1|/cgiish.py"
