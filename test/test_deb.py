"""The Debian package: `dpkg-buildpackage -us -uc -b` in a scratch copy of
the tree builds libapache2-mod-python3; `dpkg -i` installs it into this
machine (replacing Debian's libapache2-mod-python 3.5 when that is
installed) and enables the module through apache2-maintscript-helper; the
system apache2 (on a free loopback port, with a config of this test that
includes /etc/apache2/mods-enabled) serves a handler with it; `dpkg --purge`
disables and removes it; then the machine is as before: /etc/apache2,
/usr/local, httpd's module directory, apache2's state markers and dpkg's
database (Debian's 3.5 reinstalled when it was there).

Needs the build dependencies (scripts/install-deps.sh --deb, run here).
Set MP_SKIP_DEB=1 to leave it out (it takes about two minutes)."""
import glob
import os
import shutil
import subprocess
import time

import pytest

import harness
import sysstate
from test_system_install import SystemApache

pytestmark = pytest.mark.skipif(
    os.environ.get("MP_SKIP_DEB") == "1" or os.geteuid() != 0
    or not os.path.isdir("/etc/apache2/mods-available"),
    reason="MP_SKIP_DEB=1, or not root on Debian's apache2 layout")

PKG = "libapache2-mod-python3"
DEBIAN_PKG = "libapache2-mod-python"
POLICY = "/usr/sbin/policy-rc.d"


def run(cmd, **kw):
    kw.setdefault("timeout", 1200)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw)


def dpkg(*args):
    """dpkg, waiting while another package manager holds its lock."""
    for _ in range(60):
        p = run(["dpkg", *args])
        if p.returncode == 0 or "lock" not in p.stdout:
            break
        time.sleep(5)
    return p


def installed(pkg):
    p = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", pkg])
    return p.returncode == 0 and p.stdout.startswith("ii")


@pytest.fixture(scope="module")
def deb():
    p = run([str(harness.REPO / "scripts" / "install-deps.sh"), "--deb"])
    assert p.returncode == 0, p.stdout
    base = harness._mkdtemp("mp-deb-")
    harness._roots.append(base)
    src = os.path.join(base, "src")
    files = run(["git", "ls-files"], cwd=str(harness.REPO)).stdout.split()
    for f in files:
        full = harness.REPO / f
        if full.is_file():
            os.makedirs(os.path.dirname(os.path.join(src, f)), exist_ok=True)
            shutil.copy2(str(full), os.path.join(src, f))
    p = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src)
    assert p.returncode == 0, p.stdout[-5000:]
    debs = glob.glob(os.path.join(base, PKG + "_*.deb"))
    assert len(debs) == 1, os.listdir(base)
    return debs[0]


def test_package_contents(deb):
    p = run(["dpkg-deb", "-c", deb])
    names = {l.split()[-1] for l in p.stdout.splitlines()}
    for f in ("./usr/lib/apache2/modules/mod_python.so",
              "./etc/apache2/mods-available/python.load",
              "./etc/apache2/mods-available/python.conf",
              "./usr/lib/python3/dist-packages/mod_python/apache.py",
              "./usr/lib/python3/dist-packages/mod_python/buildinfo.py",
              "./usr/bin/mod_python", "./usr/include/apache2/mod_python.h",
              "./usr/share/doc/%s/README.md.gz" % PKG,
              "./usr/share/doc/%s/copyright" % PKG):
        assert f in names, f
    assert not [n for n in names if "/usr/local" in n or "__pycache__" in n]
    info = run(["dpkg-deb", "-f", deb, "Conflicts", "Replaces", "Provides", "Depends"]).stdout
    for field in ("Conflicts", "Replaces", "Provides"):
        assert "%s: %s" % (field, DEBIAN_PKG) in info, info
    assert "apache2-api-" in info
    ctl = os.path.join(os.path.dirname(deb), "ctl")
    run(["dpkg-deb", "-e", deb, ctl])
    postinst = open(os.path.join(ctl, "postinst")).read()
    assert "apache2_invoke enmod" in postinst and "a2query -q -m wsgi" in postinst
    assert "apache2_invoke dismod" in open(os.path.join(ctl, "postrm")).read() + \
        open(os.path.join(ctl, "prerm")).read()


def test_install_serve_purge_leaves_system_as_before(deb):
    with sysstate.locked():
        _install_serve_purge(deb)


def _install_serve_purge(deb):
    before = sysstate.snapshot()
    had_debian = installed(DEBIAN_PKG)
    enabled_link = "/etc/apache2/mods-enabled/python.load"
    was_enabled = os.path.lexists(enabled_link)
    made_policy = False
    if not os.path.exists(POLICY):
        # no service (re)starts from the maintainer scripts while we test
        with open(POLICY, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(POLICY, 0o755)
        made_policy = True
    srv = SystemApache()
    try:
        # a module an admin once disabled is not re-enabled by a package:
        # start from "never disabled" to see the package enable it
        for m in glob.glob("/var/lib/apache2/module/disabled_by_admin/python"):
            os.unlink(m)
        if was_enabled:
            os.unlink(enabled_link)
        p = dpkg("-i", deb)
        assert p.returncode == 0, p.stdout
        assert installed(PKG) and not installed(DEBIAN_PKG)
        assert os.path.realpath(enabled_link) == "/etc/apache2/mods-available/python.load"
        p = srv.ctl("-k", "start")
        assert p.returncode == 0, p.stdout
        status, body = srv.get()
        assert status == 200, body + open(srv.root + "/logs/error_log").read()[-3000:]
        assert body.startswith("served by mod_python 3.6.0 from "
                               "/usr/lib/python3/dist-packages/mod_python/"), body
        v = run(["dpkg", "-V", PKG])
        assert v.stdout == "", v.stdout
    finally:
        srv.stop()
        p = dpkg("--purge", PKG)
        purge_out = p.stdout
        if had_debian:
            r = run(["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=300",
                     DEBIAN_PKG],
                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            assert r.returncode == 0, r.stdout
        if was_enabled and not os.path.lexists(enabled_link):
            os.symlink("../mods-available/python.load", enabled_link)
        elif not was_enabled and os.path.lexists(enabled_link):
            os.unlink(enabled_link)
        sysstate.restore_markers(before)
        if made_policy:
            os.unlink(POLICY)
    assert p.returncode == 0, purge_out
    assert not os.path.lexists(enabled_link) or was_enabled
    after = sysstate.snapshot()
    diff = [d for d in sysstate.differences(before, after) if "/__pycache__" not in d]
    assert diff == []
