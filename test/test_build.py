"""The build: configure's checks and messages, and make install with DESTDIR
(in a scratch copy of the tree, so the shared build is left alone)."""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def tree():
    d = tempfile.mkdtemp(prefix="mp-build-")
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True,
                           text=True).stdout.split()
    if not files:                                   # not a git checkout
        files = [os.path.relpath(os.path.join(r, f), REPO)
                 for r, _, fs in os.walk(REPO) for f in fs
                 if "/build/" not in r and "/.git" not in r]
    for f in files:
        src = os.path.join(REPO, f)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(d, f)), exist_ok=True)
            shutil.copy2(src, os.path.join(d, f))
    subprocess.run(["autoconf"], cwd=d, check=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


def test_missing_apxs_names_the_package(tree):
    p = run(["./configure", "--with-apxs=/nonexistent/apxs"], tree)
    assert p.returncode != 0
    assert "apache2-dev" in p.stdout


def test_missing_python_headers_names_the_package(tree):
    fake = os.path.join(tree, "fakepython")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncase "$2" in *include*) echo /nonexistent; exit 0;; esac\n'
                'exec /usr/bin/python3 "$@"\n')
    os.chmod(fake, 0o755)
    p = run(["./configure", "--with-python=" + fake], tree)
    assert p.returncode != 0
    assert "libpython3-dev" in p.stdout


def test_old_python_refused(tree):
    fake = os.path.join(tree, "oldpython")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\ncase "$2" in *version_info*">="*) exit 1;; '
                '*version_info*) echo 3.8; exit 0;; esac\nexec /usr/bin/python3 "$@"\n')
    os.chmod(fake, 0o755)
    p = run(["./configure", "--with-python=" + fake], tree)
    assert p.returncode != 0
    assert "3.11" in p.stdout


PYVER = "%d.%d" % sys.version_info[:2]


def tree_files(root):
    return sorted(os.path.relpath(os.path.join(r, f), root)
                  for r, ds, fs in os.walk(root) for f in fs + ds)


def test_configure_make_install_destdir(tree):
    p = run(["./configure", "--with-python=/usr/bin/python3"], tree)
    assert p.returncode == 0, p.stdout
    assert "Python package in /usr/local/lib/mod_python/python%s" % PYVER in p.stdout
    p = run(["make", "-j2", "EXTRA_CFLAGS=-Werror"], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    dest = os.path.join(tree, "dest")
    p = run(["make", "install", "DESTDIR=" + dest], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    purelib = subprocess.run(["/usr/bin/python3", "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True).stdout.strip()
    # everything under /usr/local, the a2enmod files aside; nothing in the
    # Python's own site-packages, nothing in /usr/bin or httpd's module dir
    so = dest + "/usr/local/lib/apache2/modules/mod_python.so"
    pkg = dest + "/usr/local/lib/mod_python/python%s/mod_python" % PYVER
    assert os.path.isfile(so)
    for f in ("apache.py", "importer.py", "buildinfo.py", "__pycache__",
              "py.typed", "apache.pyi"):              # typed: marker and stubs
        assert os.path.exists(os.path.join(pkg, f)), f
    # the stub-only package of _apache, beside it
    assert os.path.isfile(os.path.dirname(pkg) + "/_apache-stubs/__init__.pyi")
    assert os.access(dest + "/usr/local/bin/mod_python", os.X_OK)
    assert os.path.isfile(dest + "/usr/local/include/apache2/mod_python.h")
    assert not os.path.exists(dest + purelib)
    assert not os.path.exists(dest + "/usr/bin")
    assert not os.path.exists(dest + "/usr/lib")
    top = {f.split("/")[0] for f in tree_files(dest)}
    assert top <= {"usr", "etc"}, top
    if os.path.isdir("/etc/apache2/mods-available"):
        with open(dest + "/etc/apache2/mods-available/python.load") as f:
            assert ("LoadModule python_module /usr/local/lib/apache2/modules/mod_python.so"
                    in f.read())
        with open(dest + "/etc/apache2/mods-available/python.conf") as f:
            conf = f.read()
        assert "#PythonAutoReload On" in conf and "<IfModule python_module>" in conf
    nm = subprocess.run(["nm", "-D", "--defined-only", so],
                        capture_output=True, text=True).stdout
    exported = [l.split()[-1] for l in nm.splitlines() if l.split()[-1:] != []]
    assert "python_module" in exported
    assert not [s for s in exported if s.startswith("mp_")]
    # the package directory is compiled into the module
    assert b"/usr/local/lib/mod_python/python" + PYVER.encode() in open(so, "rb").read()
    # uninstall removes exactly what was installed
    manifest = dest + "/usr/local/lib/mod_python/installed-files.txt"
    assert "f /usr/local/lib/apache2/modules/mod_python.so" in open(manifest).read()
    p = run(["make", "uninstall", "DESTDIR=" + dest], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    assert tree_files(dest) == []


def test_prefix_bindir_libexecdir_honoured(tree):
    p = run(["./configure", "--with-python=/usr/bin/python3", "--prefix=/opt/mp",
             "--bindir=/opt/tools", "--libexecdir=/opt/mods", "--includedir=/opt/inc",
             "--with-python-pkgdir=/opt/pylib", "--without-apache-conf"], tree)
    assert p.returncode == 0, p.stdout
    p = run(["make", "-j2", "EXTRA_CFLAGS=-Werror"], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    dest = os.path.join(tree, "dest2")
    p = run(["make", "install", "DESTDIR=" + dest], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    files = tree_files(dest)
    assert "opt/mods/mod_python.so" in files
    assert "opt/tools/mod_python" in files
    assert "opt/inc/apache2/mod_python.h" in files
    assert "opt/pylib/mod_python/apache.py" in files
    assert "opt/mp/lib/mod_python/installed-files.txt" in files
    assert not [f for f in files if f.startswith(("etc", "usr"))]
    assert b"/opt/pylib" in open(dest + "/opt/mods/mod_python.so", "rb").read()
    p = run(["make", "uninstall", "DESTDIR=" + dest], tree)
    assert p.returncode == 0, p.stdout
    assert tree_files(dest) == []


def _fake_dpkg_query(tree, owned):
    """A dpkg-query that says each path in owned belongs to its package."""
    fake = os.path.join(tree, "fake-dpkg-query")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nshift\nrc=1\nfor p in \"$@\"; do case \"$p\" in\n")
        for path, pkg in owned.items():
            f.write("  %s) echo \"%s: $p\"; rc=0;;\n" % (path, pkg))
        f.write("esac; done\nexit $rc\n")
    os.chmod(fake, 0o755)
    return fake


def test_dpkg_owned_files_are_never_written(tree):
    """Without DESTDIR the installer asks dpkg: Debian's python.load is left
    alone (module and package still installed, one message on how to
    switch); a module path a package owns stops the install untouched."""
    base = tempfile.mkdtemp(prefix="mp-owned-")
    prefix, confdir = base + "/prefix", base + "/mods-available"
    os.makedirs(confdir)
    with open(confdir + "/python.load", "w") as f:
        f.write("LoadModule python_module /usr/lib/apache2/modules/mod_python.so\n")
    try:
        p = run(["./configure", "--with-python=/usr/bin/python3", "--prefix=" + prefix,
                 "--with-apache-confdir=" + confdir], tree)
        assert p.returncode == 0, p.stdout
        assert run(["make", "-j2"], tree).returncode == 0
        env = dict(os.environ, MP_DPKG_QUERY=_fake_dpkg_query(
            tree, {confdir + "/python.load": "libapache2-mod-python"}))
        p = subprocess.run(["make", "install"], cwd=tree, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert p.returncode == 0, p.stdout[-3000:]
        assert ("belongs to the Debian package libapache2-mod-python: the a2enmod files "
                "were not installed" in p.stdout)
        assert "apt-get purge libapache2-mod-python, then make install-conf" in p.stdout
        with open(confdir + "/python.load") as f:
            assert "/usr/lib/apache2/modules/mod_python.so" in f.read()
        assert os.listdir(confdir) == ["python.load"]
        assert os.path.isfile(prefix + "/lib/apache2/modules/mod_python.so")
        p = subprocess.run(["make", "install-conf"], cwd=tree, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert p.returncode != 0 and "apt-get purge" in p.stdout
        # once the package is gone, install-conf adds them (and uninstall
        # takes them away again)
        os.unlink(confdir + "/python.load")
        p = run(["make", "install-conf"], tree)
        assert p.returncode == 0, p.stdout
        assert sorted(os.listdir(confdir)) == ["python.conf", "python.load"]
        assert run(["make", "uninstall"], tree).returncode == 0
        assert os.listdir(confdir) == [] and not os.path.exists(prefix)
        # a core file owned by a package: nothing at all is written
        env["MP_DPKG_QUERY"] = _fake_dpkg_query(
            tree, {prefix + "/lib/apache2/modules/mod_python.so": "libfoo"})
        p = subprocess.run(["make", "install"], cwd=tree, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert p.returncode != 0
        assert "refusing to write %s/lib/apache2/modules/mod_python.so: it belongs to the " \
               "Debian package libfoo" % prefix in p.stdout
        assert not os.path.exists(prefix) and os.listdir(confdir) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_apachectl_t_does_not_start_python(tree):
    """-t parses the config (with our directives) without starting Python."""
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from harness import Httpd
    s = Httpd("PythonImport does_not_exist main_interpreter\nPythonDebug On\n",
              name="buildt")
    rc, out = s.configtest()
    assert rc == 0, out
    assert "Python" not in out.replace("PythonImport", "")
