#!/usr/bin/python3
"""Install mod_python's files and record them; remove exactly those again.

Called by `make install`, `make install-cli`, `make install-conf` and
`make uninstall`:

    mp-install.py --destdir D --manifest M install [--conf-dir DIR]
                  [--python PY --compile PKG] SRC:DEST:MODE ... conf:SRC:NAME:MODE ...
    mp-install.py --destdir D --manifest M install-conf --conf-dir DIR conf:SRC:NAME:MODE ...
    mp-install.py --destdir D --manifest M uninstall

Rules:
* Nothing a Debian package owns is written (dpkg-query -S; not checked under
  a DESTDIR, which is a staging tree).  A core file owned by a package stops
  the install before anything is written.
* The a2enmod files (conf:...) go to --conf-dir ("no": skipped).  Where a
  package owns them (Debian's libapache2-mod-python ships python.load), they
  are skipped with one message saying how to switch.
* The manifest (DEST paths, without DESTDIR) lists every file and every
  directory the installs created; installs add to it.  `uninstall` removes
  the files, then the directories it created when they are empty, then the
  manifest.  It refuses while mods-enabled/python.load still points at the
  installed python.load (a2dismod python first).
"""
import argparse
import os
import shutil
import subprocess
import sys

DPKG_QUERY = os.environ.get("MP_DPKG_QUERY", "dpkg-query")


def say(msg):
    print("mp-install: " + msg, file=sys.stderr)


def dpkg_owners(paths):
    """{path: package} for the paths that a Debian package owns."""
    if not paths or shutil.which(DPKG_QUERY) is None and not os.path.isabs(DPKG_QUERY):
        return {}
    try:
        p = subprocess.run([DPKG_QUERY, "-S", *paths], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return {}
    owners, wanted = {}, set(paths)
    for line in p.stdout.splitlines():
        pkgs, sep, path = line.partition(": ")
        if sep and path in wanted and not pkgs.startswith("diversion by"):
            owners[path] = pkgs
    return owners


def read_manifest(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except FileNotFoundError:
        return []


def write_manifest(path, entries):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(e + "\n" for e in entries))
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def parse_items(items, conf_dir):
    """[(src, dest, mode)] for the core files and for the a2enmod files."""
    core, conf = [], []
    for item in items:
        parts = item.split(":")
        if parts[0] == "conf" and len(parts) == 4:
            if conf_dir and conf_dir != "no":
                conf.append((parts[1], os.path.join(conf_dir, parts[2]), int(parts[3], 8)))
        elif len(parts) == 3:
            core.append((parts[0], parts[1], int(parts[2], 8)))
        else:
            sys.exit("mp-install: bad item %r (SRC:DEST:MODE or conf:SRC:NAME:MODE)" % item)
    return core, conf


def switch_message(owner, path):
    return ("%s belongs to the Debian package %s: the a2enmod files were not installed "
            "(the module and its Python package were). To switch to this build: "
            "apt-get purge %s, then make install-conf, a2enmod python"
            % (path, owner, owner.split(",")[0].split(":")[0]))


def make_dirs(destdir, d, entries):
    """Create destdir+d and its missing parents, recording the new ones."""
    full, created = destdir + d, []
    while not os.path.isdir(full):
        created.append(full)
        full = os.path.dirname(full)
    for c in reversed(created):
        os.mkdir(c, 0o755)
        os.chmod(c, 0o755)
        if c != destdir:                    # DESTDIR itself is the caller's
            entries.append("d " + c[len(destdir):])


def copy_all(files, destdir, entries):
    for src, dest, mode in files:
        full = destdir + dest
        make_dirs(destdir, os.path.dirname(dest), entries)
        tmp = full + ".mp-install.tmp"
        shutil.copyfile(src, tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, full)
        entries.append("f " + dest)
        print("installed %s" % full)


def compile_package(python, destdir, pkg, entries):
    """Byte-compile the installed package; record the new __pycache__."""
    cache = pkg + "/__pycache__"
    make_dirs(destdir, cache, entries)
    subprocess.run([python, "-m", "compileall", "-q", destdir + pkg], check=False,
                   stdout=subprocess.DEVNULL)
    ours = {e[2:].rsplit("/", 1)[-1][:-3] for e in entries
            if e.startswith("f " + pkg + "/") and e.endswith(".py")}
    for n in sorted(os.listdir(destdir + cache)):
        if n.split(".", 1)[0] in ours:
            entries.append("f %s/%s" % (cache, n))


def install(args, only_conf=False):
    destdir = args.destdir.rstrip("/")
    core, conf = parse_items(args.items, args.conf_dir)
    if only_conf and not conf:
        sys.exit("mp-install: no a2enmod directory (configure --with-apache-confdir=DIR)")
    owners = {} if destdir else dpkg_owners([d for _, d, _ in core + conf])
    clash = [(d, owners[d]) for _, d, _ in core if d in owners]
    if clash:
        for d, pkg in clash:
            say("refusing to write %s: it belongs to the Debian package %s" % (d, pkg))
        sys.exit("mp-install: nothing was installed; configure another --prefix "
                 "(default /usr/local) or remove the package")
    skipped = [(d, owners[d]) for _, d, _ in conf if d in owners]
    if skipped:
        say(switch_message(skipped[0][1], skipped[0][0]))
        if only_conf:
            sys.exit(1)
        conf = []
    manifest = destdir + args.manifest
    entries = read_manifest(manifest)
    copy_all(core + conf, destdir, entries)
    if args.compile:
        compile_package(args.python, destdir, args.compile, entries)
    make_dirs(destdir, os.path.dirname(args.manifest), entries)
    seen = set()
    write_manifest(manifest, [e for e in entries if not (e in seen or seen.add(e))])


def enabled_link(destdir, conf_file):
    """mods-enabled/python.load when it points at conf_file."""
    avail = os.path.dirname(conf_file)
    link = os.path.join(os.path.dirname(avail), "mods-enabled", os.path.basename(conf_file))
    full = destdir + link
    if os.path.islink(full):
        target = os.path.join(os.path.dirname(full), os.readlink(full))
        if os.path.realpath(target) == os.path.realpath(destdir + conf_file):
            return full
    return None


def uninstall(args):
    destdir = args.destdir.rstrip("/")
    manifest = destdir + args.manifest
    entries = read_manifest(manifest)
    if not entries:
        sys.exit("mp-install: no manifest at %s: nothing to uninstall" % manifest)
    files = [e[2:] for e in entries if e.startswith("f ")]
    dirs = [e[2:] for e in entries if e.startswith("d ")]
    for f in files:
        if f.endswith("/python.load") and enabled_link(destdir, f):
            sys.exit("mp-install: %s is enabled (%s): run a2dismod python first"
                     % (f, enabled_link(destdir, f)))
    for f in files:
        try:
            os.unlink(destdir + f)
            print("removed %s" % (destdir + f))
        except FileNotFoundError:
            pass
    os.unlink(manifest)
    for d in sorted(set(dirs), key=len, reverse=True):
        try:
            os.rmdir(destdir + d)
        except OSError:
            pass                    # not empty (someone else's files) or gone


def main(argv):
    ap = argparse.ArgumentParser(prog="mp-install.py")
    ap.add_argument("--destdir", default="")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("action", choices=("install", "install-conf", "uninstall"))
    ap.add_argument("--conf-dir", default="")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--compile", default="")
    ap.add_argument("items", nargs="*")
    args = ap.parse_intermixed_args(argv)
    if args.action == "uninstall":
        uninstall(args)
    else:
        install(args, only_conf=args.action == "install-conf")


if __name__ == "__main__":
    main(sys.argv[1:])
