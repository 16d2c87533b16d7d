"""The build: configure's checks and messages, and make install with DESTDIR
(in a scratch copy of the tree, so the shared build is left alone)."""
import os
import shutil
import subprocess
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


def test_configure_make_install_destdir(tree):
    p = run(["./configure", "--with-python=/usr/bin/python3"], tree)
    assert p.returncode == 0, p.stdout
    p = run(["make", "-j2", "EXTRA_CFLAGS=-Werror"], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    dest = os.path.join(tree, "dest")
    p = run(["make", "install", "DESTDIR=" + dest], tree)
    assert p.returncode == 0, p.stdout[-3000:]
    libexec = subprocess.run(["apxs", "-q", "LIBEXECDIR"], capture_output=True,
                             text=True).stdout.strip()
    purelib = subprocess.run(["/usr/bin/python3", "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True).stdout.strip()
    assert os.path.isfile(dest + libexec + "/mod_python.so")
    assert os.path.isfile(dest + purelib + "/mod_python/apache.py")
    assert os.path.isfile(dest + purelib + "/mod_python/importer.py")
    # typed: the package's marker and stubs, and the stub-only package of _apache
    assert os.path.isfile(dest + purelib + "/mod_python/py.typed")
    assert os.path.isfile(dest + purelib + "/mod_python/apache.pyi")
    assert os.path.isfile(dest + purelib + "/_apache-stubs/__init__.pyi")
    # nothing outside DESTDIR was touched: the files are only under dest
    nm = subprocess.run(["nm", "-D", "--defined-only", dest + libexec + "/mod_python.so"],
                        capture_output=True, text=True).stdout
    exported = [l.split()[-1] for l in nm.splitlines() if l.split()[-1:] != []]
    assert "python_module" in exported
    assert not [s for s in exported if s.startswith("mp_")]


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
