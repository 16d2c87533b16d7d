"""mod_python.httpdconf: Python objects that render httpd configuration.

    >>> from mod_python.httpdconf import *
    >>> c = Container(Listen("8080"),
    ...               Directory("/srv/app", SetHandler("mod_python"),
    ...                         PythonHandler("app")))
    >>> print(c)
    Listen 8080
    <Directory /srv/app>
      SetHandler mod_python
      PythonHandler app
    </Directory>

`str()` of an object is httpd configuration text; `repr()` is Python code
that builds the same object (that is how `write_basic_config` saves an
editable `httpd_conf.py`, turned into httpd.conf by `mod_python genconfig`).

* `Directive(name, val, flipslash=1)`; the directive classes below are
  `Name(val)`.  With `flipslash` backslashes in the value become `/`.
* `Container(*items, only_if=None)`: its items, or nothing when `only_if`,
  a Python expression, is false.  The expression is evaluated here, with
  `mod_python` bound to the package whose `version` also carries the build
  constants (`"mod_python.version.HTTPD_VERSION[0:3] == '2.4'"`).
* `ContainerTag(tag, attr, items)` renders `<tag attr>`, the items indented
  by two, `</tag>`; the section classes are `Name(attr, *items)`.
* `Comment(text)`: every line as `# line`.

Other directives: subclass `Directive` (or use it directly:
`Directive("KeepAlive", "On")`).  This module imports without httpd.
"""

import os
import shutil
import sys

import mod_python
from mod_python import _buildinfo

__all__ = ["Directive", "Container", "ContainerTag", "Comment", "quote_if_space",
           "write_basic_config"]


def _flip(s, flipslash):
    s = str(s)
    return s.replace("\\", "/") if flipslash else s


class _Node:
    indent = 0

    def __str__(self):
        return self.render(self.indent)

    def __repr__(self):
        return self.code(self.indent)


class Directive(_Node):
    """One directive line: `name val`."""

    def __init__(self, name, val, flipslash=1):
        self.name = name
        self.val = val
        self.flipslash = flipslash
        self.indent = 0

    def render(self, indent=0):
        return "%s%s %s\n" % (" " * indent, self.name, _flip(self.val, self.flipslash))

    def code(self, indent=0):
        val = repr(_flip(self.val, self.flipslash))
        if type(self) is Directive:
            return "%sDirective(%r, %s)" % (" " * indent, self.name, val)
        return "%s%s(%s)" % (" " * indent, type(self).__name__, val)


class Comment(_Node):
    """A comment block: each line rendered as `# line`."""

    def __init__(self, comment):
        self.comment = comment
        self.indent = 0

    def render(self, indent=0):
        pad = " " * indent
        return "".join("%s# %s\n" % (pad, line) if line else "%s#\n" % pad
                       for line in str(self.comment).split("\n"))

    def code(self, indent=0):
        return "%sComment(%r)" % (" " * indent, self.comment)


def _check_item(x):
    if not isinstance(x, (Directive, Container, ContainerTag, Comment)):
        raise TypeError("httpdconf: a container holds Directive, Container, ContainerTag "
                        "or Comment objects, not %s" % type(x).__name__)
    return x


class _PackageView:
    """`mod_python` as only_if expressions see it: the package, with
    `version` also carrying the build-time constants of mod_python 3.5's
    version module (HTTPD, HTTPD_VERSION, LIBEXECDIR, ...)."""

    def __getattr__(self, name):
        if name == "version":
            return _buildinfo.version_namespace()
        return getattr(mod_python, name)


def _only_if_true(expr):
    if not expr:
        return True
    namespace = dict(globals())
    namespace["mod_python"] = _PackageView()
    return bool(eval(expr, namespace))


class Container(_Node):
    """A sequence of configuration objects rendered one after the other."""

    def __init__(self, *args, **kwargs):
        unknown = set(kwargs) - {"only_if"}
        if unknown:
            raise TypeError("Container() got unexpected keyword argument(s): %s"
                            % ", ".join(sorted(unknown)))
        self.args = [_check_item(a) for a in args]
        self.only_if = kwargs.get("only_if")
        self.indent = 0

    def append(self, value):
        self.args.append(_check_item(value))

    def render(self, indent=0):
        if not _only_if_true(self.only_if):
            return ""
        return "".join(a.render(indent) for a in self.args)

    def code(self, indent=0):
        pad = " " * indent
        s = pad + "Container("
        for a in self.args:
            s += "\n%s," % a.code(indent + 4)
        if self.only_if:
            s += "\n%s    only_if=%r" % (pad, self.only_if)
        return s + "\n" + pad + ")"


class ContainerTag(_Node):
    """A configuration section: `<tag attr>`, the items, `</tag>`."""

    def __init__(self, tag, attr, args, flipslash=1):
        self.tag = tag
        self.attr = attr
        self.args = [_check_item(a) for a in args]
        self.flipslash = flipslash
        self.indent = 0

    def append(self, value):
        self.args.append(_check_item(value))

    def render(self, indent=0):
        pad = " " * indent
        return "%s<%s %s>\n%s%s</%s>\n" % (
            pad, self.tag, _flip(self.attr, self.flipslash),
            "".join(a.render(indent + 2) for a in self.args), pad, self.tag)

    def code(self, indent=0):
        pad = " " * indent
        attr = repr(_flip(self.attr, self.flipslash))
        if type(self) is ContainerTag:
            s = "%sContainerTag(%r, %s, [" % (pad, self.tag, attr)
            end = "])"
        else:
            s = "%s%s(%s," % (pad, type(self).__name__, attr)
            end = ")"
        for a in self.args:
            s += "\n%s," % a.code(indent + 4)
        return s + "\n" + pad + end


def quote_if_space(s):
    """s in double quotes if it contains a space (httpd argument quoting)."""
    s = str(s)
    if " " in s and not (len(s) >= 2 and s[0] == s[-1] == '"'):
        return '"%s"' % s
    return s


# ------------------------------------------------------- directive classes

def _define_directive(name, flipslash=1, default=None, doc=None):
    if default is None:
        def __init__(self, val):
            Directive.__init__(self, name, val, flipslash)
    else:
        def __init__(self, val=default):
            Directive.__init__(self, name, val, flipslash)
    cls = type(name, (Directive,), {"__init__": __init__, "__doc__": doc or
                                    "The %s directive." % name})
    globals()[name] = cls
    __all__.append(name)
    return cls


def _define_section(name):
    def __init__(self, attr, *args):
        ContainerTag.__init__(self, name, attr, args)
    cls = type(name, (ContainerTag,), {"__init__": __init__,
                                       "__doc__": "The <%s> section." % name})
    globals()[name] = cls
    __all__.append(name)
    return cls


_DIRECTIVES = (
    # mod_python 3.5's set
    "AddHandler", "AddOutputFilter", "AddType", "AuthBasicAuthoritative",
    "AuthBasicProvider", "AuthType", "AuthName", "CustomLog", "DirectoryIndex",
    "DocumentRoot", "ErrorLog", "KeepAliveTimeout", "Listen", "LoadModule", "LogLevel",
    "MaxConnectionsPerChild", "MaxClients", "MaxRequestsPerChild", "MaxSpareServers",
    "MaxSpareThreads", "MaxThreadsPerChild", "MinSpareThreads", "Mutex",
    "NameVirtualHost", "NumServers", "Options", "PidFile", "PythonAuthenHandler",
    "PythonAuthzHandler", "PythonCleanupHandler", "PythonConnectionHandler",
    "PythonDebug", "PythonHandler", "PythonAccessHandler",
    "PythonPostReadRequestHandler", "PythonTransHandler", "PythonFixupHandler",
    "PythonImport", "PythonOutputFilter", "PythonOption", "Require", "SetHandler",
    "ServerAdmin", "ServerName", "ServerPath", "ServerRoot", "StartServers",
    "StartThreads", "ThreadsPerChild", "Timeout", "TypesConfig",
    # more of httpd 2.4 and of mod_python
    "AddOutputFilterByType", "Alias", "AllowOverride", "DefaultRuntimeDir", "Group",
    "Header", "Include", "IncludeOptional", "KeepAlive", "MaxKeepAliveRequests",
    "MaxRequestWorkers", "MinSpareServers", "PassEnv", "ServerLimit", "SetEnv",
    "ThreadLimit", "User", "PythonAutoReload", "PythonEnablePdb",
    "PythonHandlerModule", "PythonHeaderParserHandler", "PythonInitHandler",
    "PythonInputFilter", "PythonInterpreter", "PythonLogHandler", "PythonOptimize",
    "PythonTypeHandler", "PythonVirtualEnv",
)

for _name in _DIRECTIVES:
    _define_directive(_name)

_define_directive("LogFormat", flipslash=0,
                  doc="LogFormat (backslashes kept: they escape quotes).")
_define_directive("PythonPath", flipslash=0,
                  doc="PythonPath (a Python expression: backslashes kept).")
_define_directive("PythonInterpPerDirectory", default="Off")
_define_directive("PythonInterpPerDirective", default="Off")


class LockFile(Directive):
    """LockFile (httpd 2.2 only; rendered commented out on Windows)."""

    def __init__(self, val):
        name = "#LockFile" if sys.platform == "win32" else "LockFile"
        Directive.__init__(self, name, val)


__all__.append("LockFile")

for _name in ("Directory", "DirectoryMatch", "Files", "FilesMatch", "IfDefine",
              "IfModule", "IfVersion", "Location", "LocationMatch", "VirtualHost",
              "RequireAll", "RequireAny"):
    _define_section(_name)

del _name


# --------------------------------------------------- write_basic_config

# LoadModule lines of the generated config (httpd 2.4 names; each guarded by
# <IfModule !name_module>, so a module built into httpd is simply skipped)
BASIC_MODULES = ("authn_file", "authn_core", "authz_host", "authz_groupfile",
                 "authz_user", "authz_core", "access_compat", "auth_basic",
                 "reqtimeout", "include", "filter", "mime", "log_config", "env",
                 "headers", "setenvif", "version", "unixd", "status", "autoindex",
                 "dir", "alias")
MPMS = ("event", "worker", "prefork")

_V24 = "mod_python.version.HTTPD_VERSION[0:3] == '2.4'"
_V22 = "mod_python.version.HTTPD_VERSION[0:3] == '2.2'"
_VOLD = "mod_python.version.HTTPD_VERSION[0:3] < '2.4'"

_COMBINED = r'"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined'


def _say(msg):
    sys.stderr.write(msg + "\n")


def _make_dirs(dirs):
    for d in dirs:
        if os.path.isdir(d):
            _say("Warning: directory '%s' already exists, continuing." % d)
        else:
            _say("Creating directory '%s'." % d)
            os.mkdir(d)


def _copy_mime_types(info, dest):
    if os.path.exists(dest):
        return
    for d in (info.SYSCONFDIR, "/etc"):
        src = os.path.join(d, "mime.types") if d else ""
        if src and os.path.isfile(src):
            _say("Copying %s to %s" % (src, dest))
            shutil.copyfile(src, dest)
            return


def _mpm_section(libexecdir):
    """Load an MPM unless one is loaded already (Debian builds them as
    modules; a config without one fails)."""
    choice = next((m for m in MPMS if os.path.exists(
        os.path.join(libexecdir, "mod_mpm_%s.so" % m))), MPMS[0])
    inner = [LoadModule("mpm_%s_module %s" % (choice, quote_if_space(
        os.path.join(libexecdir, "mod_mpm_%s.so" % choice))))]
    for m in MPMS:
        inner = [IfModule("!mpm_%s_module" % m, *inner)]
    return inner[0]


def run_as():
    """(user, group) the generated config runs httpd's children as: the
    invoking user, or www-data (nobody where that does not exist) when run
    as root, so that `mod_python start` as root never serves as uid 0."""
    import grp
    import pwd
    if os.geteuid() != 0:
        try:
            return (pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name)
        except KeyError:
            return ("#%d" % os.geteuid(), "#%d" % os.getegid())
    for user in ("www-data", "nobody"):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            continue
        try:
            return (user, grp.getgrgid(pw.pw_gid).gr_name)
        except KeyError:
            return (user, "#%d" % pw.pw_gid)
    return ("#65534", "#65534")


def _basic_tree(server_root, listen, docroot, conf, logs, pythonhandler, pythonpath,
                pythonoptions, mp_comments, info):
    libexec = info.LIBEXECDIR
    tree = Container(Comment("This config was auto-generated, do not edit!"))
    tree.append(Comment("\nModules (each skipped if already loaded or built into httpd)"))
    tree.append(Container(_mpm_section(libexec), only_if=_V24))
    for m in BASIC_MODULES:
        so = quote_if_space(os.path.join(libexec, "mod_%s.so" % m))
        tree.append(IfModule("!%s_module" % m, LoadModule("%s_module %s" % (m, so))))
    tree.append(Comment("\nMain options"))
    for item in (
            ServerRoot(quote_if_space(server_root)),
            Container(MaxConnectionsPerChild("65536"), only_if=_V24),
            Container(MaxRequestsPerChild("65536"), only_if=_VOLD),
            LogFormat(_COMBINED),
            CustomLog("%s/access_log combined" % logs),
            ErrorLog("%s/error_log" % logs),
            LogLevel("warn"),
            PidFile("%s/httpd.pid" % logs),
            User(run_as()[0]),
            Group(run_as()[1]),
            TypesConfig("%s/mime.types" % conf),
            ServerName("127.0.0.1"),
            Listen(listen),
            DocumentRoot(quote_if_space(docroot)),
            Container(LockFile("%s/accept.lock" % logs), only_if=_V22)):
        tree.append(item)
    tree.append(Comment("\nmod_python"))
    tree.append(LoadModule("python_module %s" % quote_if_space(info.MOD_PYTHON_SO)))
    tree.append(SetHandler("mod_python"))
    tree.append(Comment("PythonDebug On"))
    tree.append(PythonHandler(pythonhandler))
    paths = [p for p in pythonpath if p]
    if paths:
        tree.append(PythonPath('"sys.path+[%s]"' % "".join("%r," % p for p in paths)))
    for opt in pythonoptions:
        tree.append(PythonOption(opt))
    for c in mp_comments:
        tree.append(Comment(c))
    return tree


_CONF_HEAD = """\
#!%(python)s

#
# This file was auto-generated by mod_python, and you may edit it: it is a
# Python program that prints an Apache httpd configuration.  After a change,
# regenerate the httpd configuration with
#
#     mod_python genconfig %(name)s > <new apache config>
#

from mod_python.httpdconf import *

"""


def write_basic_config(server_root, listen="0.0.0.0:8888", conf="conf", logs="logs",
                       htdocs="public", pythonhandler="mod_python.publisher",
                       pythonpath=[], pythonoptions=[], mp_comments=[],
                       conf_name="httpd_conf.py", createdirs=True, replace_config=False):
    """Create a skeleton server root and write `<server_root>/<conf>/<conf_name>`,
    a Python program printing its httpd configuration.  Returns its path,
    or None when it exists already (and replace_config is false)."""
    info = _buildinfo.get()
    server_root = os.path.abspath(server_root)
    conf_dir = os.path.join(server_root, conf)
    conf_path = os.path.join(conf_dir, conf_name)
    docroot = os.path.join(server_root, htdocs)
    if os.path.exists(conf_path) and not replace_config:
        _say("Error: '%s' already exists, aborting." % conf_path)
        return None
    mime = os.path.join(conf_dir, "mime.types")
    if createdirs:
        _make_dirs([server_root, docroot, conf_dir, os.path.join(server_root, logs)])
        _copy_mime_types(info, mime)
    if not os.path.exists(mime):
        _say("Warning: file '%s' does not exist; httpd needs it (TypesConfig)." % mime)
    if not os.path.isdir(docroot):
        _say("Warning: directory '%s' does not exist; it is the DocumentRoot." % docroot)
    tree = _basic_tree(server_root, listen, docroot, conf, logs, pythonhandler,
                       list(pythonpath), list(pythonoptions), list(mp_comments), info)
    text = (_CONF_HEAD % {"python": info.PYTHON_BIN or sys.executable, "name": conf_name}
            + "config = %r\n\nprint(config)\n" % tree)
    _say("Writing '%s'." % conf_path)
    with open(conf_path, "w", encoding="utf-8") as f:
        f.write(text)
    return conf_path
