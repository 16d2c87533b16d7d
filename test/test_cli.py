"""The `mod_python` command-line tool (mod_python 3.5 manual: "Command Line Tool"):
`make install-cli` (into a DESTDIR, with its buildinfo.py), `version`, `create` +
`genconfig` giving an httpd.conf that `apache2 -t` accepts with our LoadModule, and
start / restart / stop of that server serving mod_python.testhandler."""
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import harness

REPO = Path(__file__).resolve().parents[1]
PYTHON = "/usr/bin/python3"


def _pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    """The tool installed by `make install-cli` into a DESTDIR, the package
    staged with that buildinfo.py, and a module directory holding httpd's
    modules and the freshly built mod_python.so."""
    # world-readable all the way up: the server's children run as www-data
    base = Path(harness._mkdtemp("mp-cli-"))
    harness._roots.append(str(base))
    libexec = base / "libexec"
    libexec.mkdir()
    for name in os.listdir(harness.MODULES_DIR):
        if name != "mod_python.so":
            (libexec / name).symlink_to(os.path.join(harness.MODULES_DIR, name))
    (libexec / "mod_python.so").symlink_to(harness.MP_MODULE)
    dest = base / "dest"
    p = subprocess.run(["make", "-s", "install-cli", "DESTDIR=%s" % dest,
                        "BUILDINFO=%s" % (base / "buildinfo.py"),
                        "LIBEXECDIR=%s" % libexec, "MODULEDIR=%s" % libexec,
                        "MANIFEST=/manifest.txt"],
                       cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout
    tools = list(dest.rglob("mod_python"))
    tool = [t for t in tools if t.is_file()]
    assert len(tool) == 1, tools
    buildinfo = list(dest.rglob("buildinfo.py"))
    assert len(buildinfo) == 1
    pylib = base / "pylib"
    shutil.copytree(REPO / "lib" / "python" / "mod_python", pylib / "mod_python",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(buildinfo[0], pylib / "mod_python" / "buildinfo.py")
    harness._world_readable_tree(base)
    return {"base": base, "tool": tool[0], "buildinfo": buildinfo[0], "pylib": pylib,
            "libexec": libexec, "dest": dest}


def cli(inst, *args, check=None):
    # EXTRA_ENV: the tool starts httpd, which sanitizer runs preload into
    env = dict(os.environ, PYTHONPATH=str(inst["pylib"]), LANG="C.UTF-8",
               **harness.EXTRA_ENV)
    p = subprocess.run([str(inst["tool"]), *args], cwd=inst["base"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    if check is not None:
        assert p.returncode == check, (p.returncode, p.stdout, p.stderr)
    return p


def test_installed_files(inst):
    tool = inst["tool"]
    assert tool.stat().st_mode & 0o777 == 0o755
    assert tool.read_text().splitlines()[0] == "#!" + PYTHON
    # under the prefix (default /usr/local), never over /usr/bin's
    assert str(tool).endswith("/usr/local/bin/mod_python")
    assert "_PKGDIR = \"/usr/local/lib/mod_python/python3." in tool.read_text()
    assert (inst["dest"] / "manifest.txt").read_text().count("\nf ") == 2
    ns = {}
    exec(inst["buildinfo"].read_text(), ns)
    assert ns["LIBEXECDIR"] == str(inst["libexec"])
    assert ns["HTTPD"] == harness.HTTPD
    assert re.fullmatch(r"2\.4\.\d+", ns["HTTPD_VERSION"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", ns["APR_VERSION"])
    assert ns["PYTHON_BIN"] == PYTHON
    assert ns["MOD_PYTHON_SO"] == str(inst["libexec"] / "mod_python.so")
    assert "buildinfo.py" in str(inst["buildinfo"].relative_to(inst["dest"]))


def test_version(inst):
    p = cli(inst, "version", check=0)
    out = p.stdout
    assert out.startswith("\nmod_python:  3.")
    assert "             '%s/mod_python.so'\n" % inst["libexec"] in out
    assert re.search(r"\npython:      3\.\d+\.\d+ .*\n             '%s'\n" % PYTHON, out)
    assert re.search(r"\nhttpd:       2\.4\.\d+\n             '%s'\n" % harness.HTTPD, out)
    assert re.search(r"\napr:         \d+\.\d+\.\d+\nplatform:    Linux", out)


def test_version_from_source_tree(tmp_path):
    """Without buildinfo.py (source tree) the constants are detected."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib" / "python"))
    p = subprocess.run([PYTHON, str(REPO / "scripts" / "mod_python.in"), "version"],
                       cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert re.search(r"\nhttpd:       2\.4\.\d+\n", p.stdout)


def test_usage_errors(inst):
    p = cli(inst, check=2)
    assert "Please specify a command" in p.stderr
    assert "For help on a specific command, use:" in p.stderr
    p = cli(inst, "bogus", check=2)
    assert "Invalid command: bogus" in p.stderr
    p = cli(inst, "create", str(inst["base"] / "x"), check=2)
    assert "Must specify a --pythonhandler" in p.stderr
    p = cli(inst, "create", "--pythonhandler=h", check=2)
    assert "Must specify <directory>" in p.stderr
    p = cli(inst, "genconfig", check=2)
    assert "Must specify <src>" in p.stderr
    for cmd in ("start", "stop", "restart"):
        p = cli(inst, cmd, check=2)
        assert "Must specify <httpd.conf>" in p.stderr
    p = cli(inst, "create", "--help", check=0)
    assert "--pythonhandler" in p.stdout and "--pythonoption" in p.stdout
    p = cli(inst, "--help", check=0)
    assert "create, genconfig, restart, start, stop, version" in p.stdout


def test_create_wsgi_comment_and_no_empty_pythonpath(inst):
    root = inst["base"] / "wsgisrv"
    p = cli(inst, "create", str(root), "--pythonhandler=mod_python.wsgi",
            "--pythonpath=", check=0)
    text = (root / "conf" / "httpd_conf.py").read_text()
    assert "Comment('PythonOption mod_python.wsgi.base_uri \"\"')" in text
    assert "PythonPath" not in text
    # again: refused
    p = cli(inst, "create", str(root), "--pythonhandler=mod_python.wsgi", check=1)
    assert "already exists, aborting" in p.stderr


@pytest.fixture(scope="module")
def server(inst):
    """A server root made by `create` + `genconfig`."""
    root = inst["base"] / "srv"
    port = harness.free_port()
    p = cli(inst, "create", str(root), "--listen=127.0.0.1:%d" % port,
            "--pythonhandler=mod_python.testhandler",
            "--pythonpath=%s:%s" % (root / "lib", root / "lib2"),
            "--pythonoption=cli.test.option yes", "--pythonoption=second 2", check=0)
    conf_py = root / "conf" / "httpd_conf.py"
    conf = root / "conf" / "httpd.conf"
    assert p.stdout == (
        "\nCreated! Please look over '%s'.\n"
        "Remember to generate the Apache httpd config by running\n"
        "%s genconfig %s > %s\n"
        "From here on you can tweak '%s' and re-generate Apache config at any time.\n"
        % (conf_py, inst["tool"], conf_py, conf, conf_py))
    assert "Creating directory '%s'." % root in p.stderr
    assert "Writing '%s'." % conf_py in p.stderr
    g = cli(inst, "genconfig", str(conf_py), check=0)
    conf.write_text(g.stdout)
    harness._world_readable_tree(inst["base"])
    info = {"root": root, "port": port, "conf": conf, "text": g.stdout}
    yield info
    pidfile = root / "logs" / "httpd.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text().strip() or 0)
        if pid and _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)


def test_genconfig_output(inst, server):
    text = server["text"]
    assert "LoadModule python_module %s/mod_python.so\n" % inst["libexec"] in text
    assert "Listen 127.0.0.1:%d\n" % server["port"] in text
    assert "PythonHandler mod_python.testhandler\n" in text
    assert "PythonOption cli.test.option yes\n" in text
    assert "PythonPath \"sys.path+['%s/lib','%s/lib2',]\"\n" % (server["root"],
                                                                server["root"]) in text
    assert "MaxConnectionsPerChild 65536\n" in text
    # run as root: the children are www-data's, never root's
    assert os.geteuid() != 0 or ("User www-data\nGroup www-data\n" in text)
    for bad in ("LockFile", "MaxRequestsPerChild", "MaxClients", "NameVirtualHost"):
        assert bad not in text


def test_apache_t_accepts_config(server):
    env = dict(os.environ, **harness.EXTRA_ENV)     # sanitizer runs preload here
    p = subprocess.run([harness.HTTPD, "-t", "-f", str(server["conf"])],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60, env=env)
    assert p.returncode == 0, p.stdout
    assert "Syntax OK" in p.stdout
    # our module is the one loaded
    p = subprocess.run([harness.HTTPD, "-t", "-D", "DUMP_MODULES", "-f",
                        str(server["conf"])],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60, env=env)
    assert "python_module (shared)" in p.stdout
    assert "mpm_" in p.stdout


def _ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _uid(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return next(int(l.split()[2]) for l in f if l.startswith("Uid:"))
    except (OSError, StopIteration, ValueError):
        return None


def _get(port, path="/"):
    return harness.wait_get(port, path, timeout=60)


def test_start_restart_stop(inst, server):
    conf, port = str(server["conf"]), server["port"]
    pidfile = server["root"] / "logs" / "httpd.pid"
    cli(inst, "start", conf, check=0)
    status, body = _get(port)
    assert status == 200, body
    assert "mod_python test page" in body
    assert "cli.test.option" in body
    pid = int(pidfile.read_text())
    kids = [int(d) for d in os.listdir("/proc") if d.isdigit() and _ppid(int(d)) == pid]
    assert kids and all(_uid(k) not in (0, None) for k in kids), kids
    cli(inst, "restart", conf, check=0)          # graceful
    status, body = _get(port, "/?again")
    assert status == 200
    assert int(pidfile.read_text()) == pid
    cli(inst, "stop", conf, check=0)             # graceful-stop
    deadline = time.monotonic() + 30
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pid_alive(pid)
    log = (server["root"] / "logs" / "error_log").read_text()
    assert "Segmentation fault" not in log and "exit signal" not in log
