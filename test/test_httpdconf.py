"""mod_python.httpdconf (mod_python 3.5 manual: "httpdconf", write_basic_config): pure
Python, no httpd.  Rendering (str) and code (repr) of directives, comments,
containers and sections, only_if, write_basic_config's files, messages and
httpd-2.4-only output."""
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYLIB = REPO / "lib" / "python"
sys.path.insert(0, str(PYLIB))

from mod_python import _buildinfo, httpdconf  # noqa: E402
from mod_python.httpdconf import *  # noqa: E402,F401,F403

SPEC_DIRECTIVES = """AddHandler AddOutputFilter AddType AuthBasicAuthoritative
AuthBasicProvider AuthType AuthName CustomLog DirectoryIndex DocumentRoot ErrorLog
KeepAliveTimeout Listen LoadModule LogLevel LogFormat LockFile MaxConnectionsPerChild
MaxClients MaxRequestsPerChild MaxSpareServers MaxSpareThreads MaxThreadsPerChild
MinSpareThreads Mutex NameVirtualHost NumServers Options PidFile PythonAuthenHandler
PythonAuthzHandler PythonCleanupHandler PythonConnectionHandler PythonDebug
PythonHandler PythonAccessHandler PythonPostReadRequestHandler PythonTransHandler
PythonFixupHandler PythonImport PythonPath PythonOutputFilter PythonOption Require
SetHandler ServerAdmin ServerName ServerPath ServerRoot StartServers StartThreads
ThreadsPerChild Timeout TypesConfig PythonInterpPerDirectory
PythonInterpPerDirective""".split()

SPEC_SECTIONS = ["Directory", "Files", "IfModule", "Location", "VirtualHost"]

TWO_TWO_ONLY = ("LockFile", "MaxRequestsPerChild", "MaxClients", "NameVirtualHost",
                "Order ", "Allow from", "Deny from", "AcceptMutex")


def run_py(code, cwd, **kw):
    env = dict(os.environ, PYTHONPATH=str(PYLIB))
    return subprocess.run(["/usr/bin/python3", "-c", code], cwd=cwd, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, **kw)


def test_imports_without_httpd(tmp_path):
    p = run_py("import sys, mod_python.httpdconf as h; "
               "print('_apache' in sys.modules, 'mod_python.apache' in sys.modules); "
               "print(h.Listen('80'), end='')", tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "False False\nListen 80\n"


def test_directive_str_repr():
    d = Directive("KeepAlive", "On")
    assert str(d) == "KeepAlive On\n"
    assert repr(d) == "Directive('KeepAlive', 'On')"
    assert str(Listen("8080")) == "Listen 8080\n"
    assert repr(Listen("8080")) == "Listen('8080')"
    assert str(Timeout(30)) == "Timeout 30\n"


def test_flipslash():
    assert str(DocumentRoot("C:\\www\\htdocs")) == "DocumentRoot C:/www/htdocs\n"
    assert repr(DocumentRoot("C:\\www")) == "DocumentRoot('C:/www')"
    assert str(Directive("X", "a\\b", flipslash=0)) == "X a\\b\n"
    # LogFormat and PythonPath keep their backslashes
    fmt = r'"%h \"%r\"" common'
    assert str(LogFormat(fmt)) == "LogFormat " + fmt + "\n"
    assert eval(repr(LogFormat(fmt))).val == fmt
    pp = r'"sys.path+[r\"C:\\x\"]"'
    assert str(PythonPath(pp)) == "PythonPath " + pp + "\n"


def test_defaults_and_names():
    assert str(PythonInterpPerDirectory()) == "PythonInterpPerDirectory Off\n"
    assert str(PythonInterpPerDirective()) == "PythonInterpPerDirective Off\n"
    for name in SPEC_DIRECTIVES:
        cls = getattr(httpdconf, name)
        assert issubclass(cls, Directive), name
        assert name in httpdconf.__all__
    for name in SPEC_SECTIONS:
        assert issubclass(getattr(httpdconf, name), ContainerTag)
    assert str(LockFile("logs/lock")).startswith(
        "#LockFile" if sys.platform == "win32" else "LockFile")


def test_comment():
    assert str(Comment("one\ntwo")) == "# one\n# two\n"
    assert str(Comment("\nx")) == "#\n# x\n"
    assert repr(Comment("a'b")) == 'Comment("a\'b")'


def test_container_and_sections():
    c = Container(
        Listen("80"),
        VirtualHost("*:80",
                    ServerName("example.com"),
                    Directory("/srv/app",
                              SetHandler("mod_python"),
                              PythonHandler("app::handler"),
                              PythonOption("key value")),
                    Comment("inside")),
        Container(Timeout("5")))
    assert str(c) == (
        "Listen 80\n"
        "<VirtualHost *:80>\n"
        "  ServerName example.com\n"
        "  <Directory /srv/app>\n"
        "    SetHandler mod_python\n"
        "    PythonHandler app::handler\n"
        "    PythonOption key value\n"
        "  </Directory>\n"
        "  # inside\n"
        "</VirtualHost>\n"
        "Timeout 5\n")
    # repr is code that rebuilds the same configuration
    code = repr(c)
    assert code.startswith("Container(\n    Listen('80'),\n    VirtualHost('*:80',\n")
    assert str(eval(code, vars(httpdconf))) == str(c)


def test_generic_container_tag():
    t = ContainerTag("IfDefine", "FOO", [Listen("1")])
    assert str(t) == "<IfDefine FOO>\n  Listen 1\n</IfDefine>\n"
    assert str(eval(repr(t), vars(httpdconf))) == str(t)


def test_append_type_check():
    c = Container()
    c.append(Listen("1"))
    c.append(Comment("x"))
    c.append(Container())
    c.append(Location("/x"))
    for bad in ("Listen 1", 3, None, ["x"]):
        with pytest.raises(TypeError):
            c.append(bad)
    with pytest.raises(TypeError):
        Container("text")
    with pytest.raises(TypeError):
        Directory("/x").append("text")


def test_only_if():
    assert str(Container(Listen("1"), only_if="1 == 1")) == "Listen 1\n"
    assert str(Container(Listen("1"), only_if="1 == 2")) == ""
    v = _buildinfo.get().HTTPD_VERSION
    expr = "mod_python.version.HTTPD_VERSION == %r" % v
    assert str(Container(Listen("1"), only_if=expr)) == "Listen 1\n"
    # the version module's own names are there too
    assert str(Container(Listen("1"), only_if="mod_python.version.version != ''")) \
        == "Listen 1\n"
    code = repr(Container(Listen("1"), only_if="1 == 2"))
    assert "only_if='1 == 2'" in code
    assert eval(code, vars(httpdconf)).only_if == "1 == 2"


def test_quote_if_space():
    assert quote_if_space("/a b/c") == '"/a b/c"'
    assert quote_if_space("/a/b") == "/a/b"
    assert quote_if_space('"/a b"') == '"/a b"'


def _basic(tmp_path, capsys, **kw):
    root = tmp_path / "srv"
    path = write_basic_config(str(root), **kw)
    err = capsys.readouterr().err
    return root, path, err


def test_write_basic_config(tmp_path, capsys):
    root, path, err = _basic(tmp_path, capsys, listen="127.0.0.1:9999",
                             pythonhandler="mod_python.testhandler",
                             pythonpath=["/opt/app", "", "/a b"],
                             pythonoptions=["k1 v1", "k2 v2"],
                             mp_comments=["PythonOption x y"])
    assert path == str(root / "conf" / "httpd_conf.py")
    for d in ("", "public", "conf", "logs"):
        assert (root / d).is_dir()
        assert "Creating directory '%s'." % os.path.join(str(root), d).rstrip("/") in err
    assert (root / "conf" / "mime.types").is_file()
    assert "Copying " in err and "Writing '%s'." % path in err
    text = Path(path).read_text()
    assert text.startswith("#!")
    assert "from mod_python.httpdconf import *" in text
    assert "config = Container(" in text and text.rstrip().endswith("print(config)")
    # executing the file prints the configuration
    p = subprocess.run(["/usr/bin/python3", path], cwd=tmp_path, text=True,
                       env=dict(os.environ, PYTHONPATH=str(PYLIB)),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr
    conf = p.stdout
    libexec = _buildinfo.get().LIBEXECDIR
    assert "ServerRoot %s\n" % root in conf
    assert "Listen 127.0.0.1:9999\n" in conf
    assert "DocumentRoot %s/public\n" % root in conf
    assert "MaxConnectionsPerChild 65536\n" in conf
    for line in ("ErrorLog logs/error_log", "CustomLog logs/access_log combined",
                 "LogLevel warn", "PidFile logs/httpd.pid", "TypesConfig conf/mime.types",
                 "ServerName 127.0.0.1", "SetHandler mod_python", "# PythonDebug On",
                 "PythonHandler mod_python.testhandler", "PythonOption k1 v1",
                 "PythonOption k2 v2", "# PythonOption x y",
                 "PythonPath \"sys.path+['/opt/app','/a b',]\"",
                 "LoadModule python_module %s/mod_python.so" % libexec,
                 "LoadModule alias_module %s/mod_alias.so" % libexec):
        assert line + "\n" in conf, line
    assert 'LogFormat "%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" ' \
           '\\"%{User-Agent}i\\"" combined\n' in conf
    for bad in TWO_TWO_ONLY:
        assert bad not in conf, bad


def test_write_basic_config_no_pythonpath(tmp_path, capsys):
    root, path, err = _basic(tmp_path, capsys, pythonpath=[""])
    text = Path(path).read_text()
    assert "PythonPath" not in text
    assert "PythonHandler('mod_python.publisher')" in text


def test_write_basic_config_exists(tmp_path, capsys):
    root, path, err = _basic(tmp_path, capsys)
    assert path
    root2, again, err = _basic(tmp_path, capsys)
    assert again is None
    assert "Error: '%s' already exists, aborting." % path in err
    root3, replaced, err = _basic(tmp_path, capsys, replace_config=True,
                                  pythonhandler="other")
    assert replaced == path
    assert "Warning: directory '%s' already exists, continuing." % root in err
    assert "PythonHandler('other')" in Path(path).read_text()


def test_write_basic_config_without_createdirs(tmp_path, capsys):
    root = tmp_path / "bare"
    (root / "conf").mkdir(parents=True)
    path = write_basic_config(str(root), createdirs=False)
    err = capsys.readouterr().err
    assert path and os.path.exists(path)
    assert "mime.types" in err and "does not exist" in err
    assert not (root / "logs").exists()


def test_httpd_22_rendering(monkeypatch):
    """With an httpd 2.2 the same tree renders the 2.2 directives instead."""
    tree = httpdconf._basic_tree("/srv", "80", "/srv/public", "conf", "logs", "h", [], [],
                                 [], _buildinfo.get())
    conf24 = str(tree)
    assert "MaxConnectionsPerChild" in conf24 and "LockFile" not in conf24
    assert "mpm_" in conf24
    ns = _buildinfo.version_namespace()
    fake = types.SimpleNamespace(**dict(vars(ns), HTTPD_VERSION="2.2.34"))
    monkeypatch.setattr(_buildinfo, "version_namespace", lambda: fake)
    conf22 = str(tree)
    assert "MaxRequestsPerChild 65536\n" in conf22
    assert "LockFile logs/accept.lock\n" in conf22
    assert "MaxConnectionsPerChild" not in conf22 and "mpm_" not in conf22
