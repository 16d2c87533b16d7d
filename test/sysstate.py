"""The machine's own state that the tests installing into the real system
(make install + a2enmod, dpkg -i of the .deb) must leave as they found it:
/etc/apache2, /usr/local, httpd's module directory, apache2's module state
markers (/var/lib/apache2) and dpkg's package states."""
import contextlib
import fcntl
import os
import subprocess

TREES = ("/etc/apache2", "/usr/local", "/usr/lib/apache2/modules", "/var/lib/apache2",
         "/usr/lib/python3/dist-packages/mod_python", "/usr/bin/mod_python",
         "/usr/include/apache2/mod_python.h")
MARKERS = "/var/lib/apache2"
LOCK = "/tmp/mp-test-system-state.lock"


@contextlib.contextmanager
def locked():
    """One such test at a time on this machine (test runs of several
    checkouts may share it): each sees only its own changes."""
    with open(LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _entry(path):
    st = os.lstat(path)
    link = os.readlink(path) if os.path.islink(path) else None
    return (st.st_mode, st.st_size, st.st_mtime_ns, link)


def files(trees=TREES):
    """{path: (mode, size, mtime, link target)} of every entry under trees."""
    out = {}
    for top in trees:
        if not os.path.lexists(top):
            continue
        out[top] = _entry(top)
        for root, dirs, names in os.walk(top):
            for n in dirs + names:
                p = os.path.join(root, n)
                try:
                    out[p] = _entry(p)
                except FileNotFoundError:
                    pass
    return out


def packages():
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version} ${db:Status-Abbrev}\n"],
                       stdout=subprocess.PIPE, text=True, check=True)
    return sorted(l for l in p.stdout.splitlines() if l.split()[-1:] not in (["un"], ["pn"]))


def snapshot():
    return {"files": files(), "packages": packages()}


def restore_markers(before):
    """Put apache2's state markers (empty files, one per module/site/conf,
    written by a2enmod/a2dismod and the maintainer scripts) back."""
    now = files((MARKERS,))
    old = {p: v for p, v in before["files"].items()
           if p == MARKERS or p.startswith(MARKERS + "/")}
    for p in sorted(set(now) - set(old), key=len, reverse=True):
        if os.path.isdir(p) and not os.path.islink(p):
            os.rmdir(p)
        else:
            os.unlink(p)
    for p in sorted(old, key=len):
        if old[p][0] & 0o040000:
            if p not in now:
                os.mkdir(p)
            continue
        if p not in now:
            open(p, "w").close()
        os.utime(p, ns=(old[p][2], old[p][2]))   # a2dismod re-creates them


def differences(before, after):
    """Human-readable list of what changed between two snapshots."""
    out = []
    bf, af = before["files"], after["files"]
    for p in sorted(set(bf) | set(af)):
        if p not in af:
            out.append("removed " + p)
        elif p not in bf:
            out.append("added " + p)
        elif bf[p] != af[p] and not (bf[p][0] & 0o040000 and bf[p][0] == af[p][0]):
            out.append("changed %s %r -> %r" % (p, bf[p], af[p]))
    bp, ap = set(before["packages"]), set(after["packages"])
    out += ["package was: " + l for l in sorted(bp - ap)]
    out += ["package now: " + l for l in sorted(ap - bp)]
    return out
