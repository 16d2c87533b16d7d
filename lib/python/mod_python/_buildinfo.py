"""Build-time constants for the `mod_python` tool and mod_python.httpdconf.

mod_python 3.5 kept these in mod_python.version.  Here `make install`
writes them to mod_python/buildinfo.py (scripts/mkbuildinfo.py); when that
module is absent (running from the source tree) or leaves a value empty,
the value is found at run time: apxs if it is installed, else the Debian
locations, the httpd binary's `-v`, and this Python.

    from mod_python import _buildinfo
    info = _buildinfo.get()          # a namespace, computed once
    info.HTTPD, info.HTTPD_VERSION, info.LIBEXECDIR, ...
"""

import functools
import os
import re
import shutil
import subprocess
import sys
import types

from mod_python import version as _version

NAMES = ("HTTPD", "HTTPD_VERSION", "APR_VERSION", "LIBEXECDIR", "SYSCONFDIR",
         "PYTHON_BIN", "APXS", "TEST_MOD_PYTHON_SO", "TESTHOME", "MOD_PYTHON_SO")

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin",
                                "/usr/local/apache2/bin", "/sbin"])


def _run(argv):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return p.stdout.decode("utf-8", "replace").strip() if p.returncode == 0 else ""


def _which(*names):
    for n in names:
        p = shutil.which(n, path=_SEARCH_PATH)
        if p:
            return p
    return ""


@functools.lru_cache(maxsize=None)
def _apxs_query(apxs, var):
    return _run([apxs, "-q", var]) if apxs else ""


def httpd_version(httpd):
    """'2.4.58' from `httpd -v`, or '' when it cannot be run."""
    out = _run([httpd, "-v"]) if httpd else ""
    m = re.search(r"Apache/(\d+(?:\.\d+)*)", out)
    return m.group(1) if m else ""


def _detect(name, known):
    apxs = known.get("APXS") or ""
    if name == "APXS":
        return _which("apxs", "apxs2")
    if name == "HTTPD":
        sbin, target = _apxs_query(apxs, "SBINDIR"), _apxs_query(apxs, "TARGET")
        if sbin and target and os.path.exists(os.path.join(sbin, target)):
            return os.path.join(sbin, target)
        return _which("apache2", "httpd") or "/usr/sbin/apache2"
    if name == "HTTPD_VERSION":
        return httpd_version(known.get("HTTPD"))
    if name == "APR_VERSION":
        v = _apxs_query(apxs, "APR_VERSION")
        if v:
            return v
        conf = _apxs_query(apxs, "APR_CONFIG") or _which("apr-1-config", "apr-config")
        return _run([conf, "--version"]) if conf else ""
    if name == "LIBEXECDIR":
        return _apxs_query(apxs, "LIBEXECDIR") or "/usr/lib/apache2/modules"
    if name == "SYSCONFDIR":
        return _apxs_query(apxs, "SYSCONFDIR")
    if name == "MOD_PYTHON_SO":
        return os.path.join(known.get("LIBEXECDIR") or "", "mod_python.so")
    if name == "PYTHON_BIN":
        return sys.executable or _which("python3")
    return ""


@functools.lru_cache(maxsize=None)
def get():
    """All constants as a namespace (buildinfo.py values, the rest detected)."""
    try:
        from mod_python import buildinfo as generated
    except ImportError:
        generated = None
    known = {}
    # APXS and HTTPD first: the others are found through them
    order = ("APXS", "HTTPD") + tuple(n for n in NAMES if n not in ("APXS", "HTTPD"))
    # MOD_PYTHON_SO after LIBEXECDIR: NAMES is in that order
    for name in order:
        value = getattr(generated, name, "") if generated is not None else ""
        if not value:
            value = _detect(name, known)
        known[name] = value or ""
    known["version"] = _version.version
    known["from_buildinfo"] = generated is not None
    return types.SimpleNamespace(**known)


def version_namespace():
    """mod_python.version's names plus the constants, as one namespace (the
    `mod_python.version.HTTPD_VERSION` of 3.5 config files)."""
    ns = dict(vars(get()))
    ns.update((k, v) for k, v in vars(_version).items() if not k.startswith("__"))
    return types.SimpleNamespace(**ns)
