"""PythonVirtualEnv: two virtual hosts with two virtual environments (made
with /usr/bin/python3 -m venv) holding two versions of one package each see
their own; .pth files are processed; system site-packages only when
pyvenv.cfg includes them; the environment is never reloaded; PythonImport
in a virtual host uses that host's PythonPath and environment; apachectl -t
refuses a path that is not an environment or one for another Python."""
import os
import subprocess
import sys
import time

import pytest

import harness
from harness import Httpd

PYVER = "%d.%d" % sys.version_info[:2]

HANDLER = """\
import json, sys
from mod_python import apache

def handler(req):
    out = {"prefix": sys.prefix,
           # Debian's system directories are dist-packages, a venv's site-packages
           "system": [p for p in sys.path if p.endswith("/dist-packages")]}
    try:
        import tinypkg
        out["tinypkg"] = tinypkg.__version__
        out["file"] = tinypkg.__file__
    except ImportError:
        out["tinypkg"] = None
    try:
        import extra_mod
        out["extra"] = extra_mod.WHERE
    except ImportError:
        out["extra"] = None
    sm = sys.modules.get("startup_mod")
    out["startup"] = getattr(sm, "SEEN", None)
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK
"""


def make_venv(path, version, include_system=False, extra_dir=None):
    """A real virtual environment with tinypkg <version> in its site-packages
    (and, through a .pth file, extra_dir on its path)."""
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", path], check=True,
                   timeout=300)
    if include_system:
        cfg = os.path.join(path, "pyvenv.cfg")
        text = open(cfg).read().replace("include-system-site-packages = false",
                                        "include-system-site-packages = true")
        open(cfg, "w").write(text)
    site = os.path.join(path, "lib", "python" + PYVER, "site-packages")
    os.makedirs(os.path.join(site, "tinypkg"))
    with open(os.path.join(site, "tinypkg", "__init__.py"), "w") as f:
        f.write("__version__ = %r\n" % version)
    if extra_dir:
        with open(os.path.join(site, "extra.pth"), "w") as f:
            f.write("# a comment\n%s\n" % extra_dir)
    return site


@pytest.fixture(scope="module")
def envs():
    base = harness._mkdtemp("mp-venvs-")
    harness._roots.append(base)
    extra = os.path.join(base, "extra")
    os.makedirs(extra)
    with open(os.path.join(extra, "extra_mod.py"), "w") as f:
        f.write("WHERE = 'pth'\n")
    a = make_venv(os.path.join(base, "venv-a"), "1.0")
    b = make_venv(os.path.join(base, "venv-b"), "2.0", include_system=True, extra_dir=extra)
    harness._world_readable_tree(base)
    return {"a": os.path.join(base, "venv-a"), "b": os.path.join(base, "venv-b"),
            "site_a": a, "site_b": b, "base": base}


CONFIG = """\
<Directory "@DOCROOT@">
    SetHandler mod_python
    PythonHandler app
    PythonAutoReload On
</Directory>
<VirtualHost *:@PORT@>
    ServerName a.test
    PythonVirtualEnv {a}
    PythonPath "sys.path + ['@ROOT@/imp', '@DOCROOT@']"
    PythonImport startup_mod a.test
</VirtualHost>
<VirtualHost *:@PORT@>
    ServerName b.test
    PythonVirtualEnv {b}
</VirtualHost>
<VirtualHost *:@PORT@>
    ServerName shared.test
    PythonInterpreter a.test
</VirtualHost>
<VirtualHost *:@PORT@>
    ServerName plain.test
</VirtualHost>
"""

STARTUP = """\
import tinypkg
SEEN = tinypkg.__version__
"""


@pytest.fixture(scope="module", params=["event", "prefork"])
def srv(request, envs):
    s = Httpd(CONFIG.format(**envs), files={"htdocs/app.py": HANDLER,
                                             "imp/startup_mod.py": STARTUP},
              mpm=request.param, mpm_config=harness.SINGLE_CHILD[request.param],
              name="venv-" + request.param)
    s.start()
    yield s
    s.stop()


def ask(srv, host):
    import json
    r = srv.get("/app", headers={"Host": host})
    assert r.status == 200, (r.status, r.text, srv.error_log()[-3000:])
    return json.loads(r.text)


def test_each_virtual_host_sees_its_own_environment(srv, envs):
    a, b = ask(srv, "a.test"), ask(srv, "b.test")
    assert a["tinypkg"] == "1.0" and a["file"].startswith(envs["site_a"])
    assert b["tinypkg"] == "2.0" and b["file"].startswith(envs["site_b"])
    assert a["prefix"] == envs["a"] and b["prefix"] == envs["b"]
    # venv-a excludes the system site-packages, venv-b includes them
    assert a["system"] == []
    assert b["system"], b
    # .pth files of the environment are processed
    assert b["extra"] == "pth" and a["extra"] is None
    # a virtual host without PythonVirtualEnv has neither
    plain = ask(srv, "plain.test")
    assert plain["tinypkg"] is None and plain["system"]
    srv.assert_no_crash()


def test_python_import_in_virtual_host_uses_its_path_and_environment(srv):
    a = ask(srv, "a.test")
    assert a["startup"] == "1.0"
    assert "MP0208" not in srv.error_log()


def test_interpreter_shared_with_another_environment_warns_once(srv):
    ask(srv, "shared.test")
    ask(srv, "shared.test")
    assert srv.wait_log("MP0112")
    assert srv.error_log().count("MP0112") == 1
    assert "virtual host shared.test asks for (none)" in srv.error_log()


def test_environment_is_never_reloaded(srv, envs):
    init = os.path.join(envs["site_a"], "tinypkg", "__init__.py")
    before = open(init).read()
    try:
        assert ask(srv, "a.test")["tinypkg"] == "1.0"
        with open(init, "w") as f:
            f.write("__version__ = '1.1'\n")
        time.sleep(0.2)
        # the handler (a managed module) changes and is reloaded; the
        # package in the environment's site-packages is not
        srv.write("htdocs/app.py", HANDLER + "\nCHANGED = 1\n")
        time.sleep(0.2)
        assert ask(srv, "a.test")["tinypkg"] == "1.0"
        assert srv.wait_log("reloaded module 'app'")
        assert "tinypkg" not in "".join(l for l in srv.error_log().splitlines()
                                        if "MP0350" in l)
    finally:
        with open(init, "w") as f:
            f.write(before)
        srv.write("htdocs/app.py", HANDLER)


@pytest.mark.parametrize("kind", ["not-a-venv", "other-python", "directory"])
def test_apachectl_t_refuses_bad_environments(kind, envs, tmp_path):
    base = harness._mkdtemp("mp-badvenv-")
    harness._roots.append(base)
    if kind == "not-a-venv":
        path = base
        conf = "PythonVirtualEnv %s\n" % path
    elif kind == "other-python":
        path = os.path.join(base, "old")
        os.makedirs(os.path.join(path, "lib", "python3.9", "site-packages"))
        with open(os.path.join(path, "pyvenv.cfg"), "w") as f:
            f.write("home = /usr/bin\ninclude-system-site-packages = false\n"
                    "version = 3.9.2\n")
        conf = "<VirtualHost *:@PORT@>\n  ServerName x.test\n  PythonVirtualEnv %s\n" \
               "</VirtualHost>\n" % path
    else:
        path = envs["a"]
        conf = "<Directory /tmp>\n  PythonVirtualEnv %s\n</Directory>\n" % path
    rc, out = Httpd(conf, name="badvenv").configtest()
    assert rc != 0, out
    assert "PythonVirtualEnv" in out
    if kind == "not-a-venv":
        assert "PythonVirtualEnv %s: not a virtual environment" % path in out
        assert "mod_python runs Python %s" % PYVER in out
    elif kind == "other-python":
        assert ("PythonVirtualEnv %s: the environment is for Python 3.9.2 (pyvenv.cfg), "
                "but mod_python runs Python %s" % (path, PYVER)) in out
    else:
        assert "PythonVirtualEnv not allowed in <Directory> context" in out
