"""Beside mod_wsgi: both modules embed Python, and each would start and end
the one Python runtime of the process under the other (children aborted at
exit with "PyEval_AcquireThread: ... GIL is released").  mod_python refuses
to start with one error line (MP0113), whichever module is loaded first, and
`apachectl -t` says the same.  Debian's mod_wsgi.so is used as it is: from
libapache2-mod-wsgi-py3 when installed, else unpacked from that package
(apt-get download) without installing or enabling anything."""
import glob
import os
import subprocess

import pytest

import harness
from harness import Httpd, HttpdError

CACHE = "/tmp/mp-test-mod-wsgi"


def _unpacked_wsgi():
    so = glob.glob(os.path.join(CACHE, "usr/lib/apache2/modules/mod_wsgi.so"))
    if so:
        return so[0]
    os.makedirs(CACHE, exist_ok=True)
    os.chmod(CACHE, 0o755)
    for attempt in range(2):
        p = subprocess.run(["apt-get", "download", "libapache2-mod-wsgi-py3"], cwd=CACHE,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=300)
        debs = glob.glob(os.path.join(CACHE, "libapache2-mod-wsgi-py3_*.deb"))
        if debs:
            subprocess.run(["dpkg-deb", "-x", debs[0], CACHE], check=True, timeout=120)
            harness._world_readable_tree(CACHE)
            return os.path.join(CACHE, "usr/lib/apache2/modules/mod_wsgi.so")
        if attempt == 0:
            subprocess.run(["apt-get", "update"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=600)
    pytest.fail("cannot get Debian's mod_wsgi.so (apt-get download "
                "libapache2-mod-wsgi-py3):\n" + p.stdout)


@pytest.fixture(scope="module")
def wsgi_so():
    installed = os.path.join(harness.MODULES_DIR, "mod_wsgi.so")
    return installed if os.path.exists(installed) else _unpacked_wsgi()


REFUSAL = ("MP0113: mod_python and mod_wsgi cannot be loaded into one httpd (both "
           "embed Python, and each would start and end it under the other); load one of "
           "them (a2dismod wsgi, or a2dismod python)")


def _configs(wsgi_so):
    after = Httpd("LoadModule wsgi_module %s\n" % wsgi_so, name="wsgi-after")
    before = Httpd("LoadModule wsgi_module %s\nLoadModule python_module %s\n"
                   % (wsgi_so, harness.MP_MODULE), name="wsgi-before", load_python=False)
    return after, before


@pytest.mark.parametrize("order", ["python-first", "wsgi-first"])
def test_refused_with_one_line(wsgi_so, order):
    after, before = _configs(wsgi_so)
    srv = after if order == "python-first" else before
    rc, out = srv.configtest()
    assert rc != 0, out
    assert out.count("MP0113") == 1 and REFUSAL in out, out
    with pytest.raises(HttpdError) as e:
        srv.start()
    assert str(e.value).count("MP0113") == 1 and REFUSAL in str(e.value)
    assert "Fatal Python error" not in str(e.value)
    assert not srv._our_pids()


def test_mod_wsgi_alone_and_mod_python_alone_still_start(wsgi_so):
    rc, out = Httpd("LoadModule wsgi_module %s\n" % wsgi_so, name="wsgi-alone",
                    load_python=False).configtest()
    assert rc == 0, out
    rc, out = Httpd("", name="python-alone").configtest()
    assert rc == 0 and "MP0113" not in out, out
