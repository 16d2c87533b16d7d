"""mod_python.psp: Python Server Pages.

A PSP page is HTML (or any text) with Python inside ``<% code %>``,
``<%= expression %>``, ``<%@ include file="name" %>`` and ``<%-- comment
--%>``.  The built-in module ``_psp`` (src/psp_parser.l) translates a page
to Python source; this module compiles, caches and runs it:

    AddHandler mod_python .psp
    PythonHandler mod_python.psp

or, from a handler, ``psp.PSP(req, "template.html", vars={...}).run()``.

Inside a page these names exist: ``req``, ``psp`` (a PSPInterface),
``form`` (a util.FieldStorage, made only when the page uses the name),
``session`` (a Session, made only when the page uses the name), plus the
``vars`` given to PSP() and run().

Compiled pages are cached per interpreter.  A file page is recompiled when
the page or a file it includes changed (size, mtime, ctime, inode; one
os.stat per file per request); with ``PythonOption
mod_python.psp.cache_database_filename <file>`` the compiled code is kept
in that dbm file instead, shared by all processes.  Templates are UTF-8.
"""

import html
import marshal
import os
import sys
import threading
import time
import types

import _psp
from . import apache

__all__ = ["PSP", "PSPInterface", "handler", "parse", "parsestring",
           "code2str", "str2code"]

CACHE_SIZE = 512                # entries per in-memory cache
DBM_OPTION = "mod_python.psp.cache_database_filename"
DBM_OPTION_LEGACY = "PSPDbmCache"

# A file changed less than this long (ns) before it was compiled may change
# again within the file system's timestamp granularity: such a compilation
# is not trusted and is redone on the next request.
_SETTLE_NS = 2_000_000_000

# Names a page may use without importing them, as in 3.5 (imported lazily).
_LAZY_MODULES = ("util", "Session")


# ---------------------------------------------------------------- helpers

def parse(filename, dir=None):
    """Translate the PSP file dir + filename to Python source."""
    return _psp.parse(filename, dir)


def parsestring(s):
    """Translate PSP source (str or bytes) to Python source."""
    return _psp.parsestring(s)


def code2str(code):
    """A compiled page as bytes (the format of precompiled .psc files)."""
    return marshal.dumps(code)


def str2code(s):
    """The code object that code2str() made."""
    code = marshal.loads(s)
    if not isinstance(code, types.CodeType):
        raise TypeError("not a compiled PSP page")
    return code


def _log(req, msg, level=apache.APLOG_WARNING):
    try:
        req.log_error(msg, level)
    except Exception:
        apache.log_error(msg, level)


def _names(code):
    """Every name that code and the code nested in it use."""
    found = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            found |= _names(c)
    return found


def _base_dir(req):
    if req.filename:
        return os.path.dirname(req.filename)
    return req.document_root()


def _stamp(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def _get_form(req):
    form = getattr(req, "form", None)
    if form is None:
        from . import util
        form = util.FieldStorage(req, keep_blank_values=1)
        req.form = form
    return form


def _save_session(req):
    # the mere use of a session changes it (access time): always saved
    if hasattr(req, "session"):
        req.session.save()


class _Compiled:
    """A compiled page and what it takes to know it is still current."""
    __slots__ = ("code", "names", "files", "trusted")

    def __init__(self, code, files=(), trusted=True):
        self.code = code
        self.names = frozenset(_names(code))
        self.files = tuple(files)       # ((path, stamp), ...)
        self.trusted = trusted

    def current(self):
        if not self.trusted:
            return False
        for path, stamp in self.files:
            if _stamp(path) != stamp:
                return False
        return True


class _Cache:
    """Hit-counting cache: when it outgrows `size`, the least used entries
    go until it is 75 % full."""

    def __init__(self, size=CACHE_SIZE):
        self.size = size
        self._lock = threading.Lock()
        self._entries = {}              # key -> [value, hits]

    def get(self, key):
        with self._lock:
            e = self._entries.get(key)
            if e is None:
                return None
            e[1] += 1
            return e[0]

    def put(self, key, value):
        with self._lock:
            self._entries[key] = [value, 0]
            if len(self._entries) > self.size:
                keep = self.size * 3 // 4
                by_use = sorted(self._entries, key=lambda k: self._entries[k][1])
                for k in by_use[:len(self._entries) - keep]:
                    del self._entries[k]

    def __len__(self):
        return len(self._entries)


_file_cache = _Cache()
_string_cache = _Cache()


# ------------------------------------------------------------- compiling

def _compile_file(filename):
    """Translate and compile a page file.  Returns a _Compiled."""
    before = _stamp(filename)           # before reading: a later edit shows
    directory, name = os.path.split(filename)
    includes = []
    source = _psp.parse(name, os.path.join(directory, ""), includes)
    code = compile(source, filename, "exec", dont_inherit=True)
    files = [(filename, before)]
    files.extend((p, _stamp(p)) for p in dict.fromkeys(includes))
    newest = max((s[1] for _, s in files if s is not None), default=0)
    trusted = all(s is not None for _, s in files) and \
        time.time_ns() - newest > _SETTLE_NS
    return _Compiled(code, files, trusted)


def _precompiled(req, filename):
    """3.5's precompiled file: x.psp -> x.psc (marshal of the code object,
    see code2str), used when it is not older than the page."""
    root, ext = os.path.splitext(filename)
    if not ext:
        return None
    cname = root + ext[:-1] + "c"
    if cname == filename:
        return None
    try:
        if os.path.getmtime(cname) < os.path.getmtime(filename):
            return None
        with open(cname, "rb") as f:
            code = str2code(f.read())
    except FileNotFoundError:
        return None
    except Exception as e:
        _log(req, "MP0340: mod_python.psp: ignoring precompiled file '%s': %s"
             % (cname, e))
        return None
    return _Compiled(code, [(filename, _stamp(filename)), (cname, _stamp(cname))])


def _dbm_file(req):
    opts = req.get_options()
    return opts.get(DBM_OPTION) or opts.get(DBM_OPTION_LEGACY) or None


def _dbm_op(req, dbmfile, fn):
    """Run fn(db) on the open dbm file under the global "pspcache" lock."""
    import dbm
    import _apache
    _apache._global_lock(req.server, "pspcache")
    try:
        with dbm.open(dbmfile, "c") as db:
            return fn(db)
    finally:
        _apache._global_unlock(req.server, "pspcache")


def _dbm_get(req, dbmfile, filename):
    try:
        raw = _dbm_op(req, dbmfile, lambda db: db.get(filename.encode("utf-8",
                                                                      "surrogateescape")))
        if raw is None:
            return None
        files, code = marshal.loads(raw)
    except Exception as e:
        _log(req, "MP0341: mod_python.psp: cannot read the PSP cache '%s': %s: %s"
             % (dbmfile, type(e).__name__, e))
        return None
    entry = _Compiled(code, files)
    return entry if entry.current() else None


def _dbm_put(req, dbmfile, filename, entry):
    if not entry.trusted:
        return
    raw = marshal.dumps((entry.files, entry.code))
    key = filename.encode("utf-8", "surrogateescape")
    try:
        _dbm_op(req, dbmfile, lambda db: db.__setitem__(key, raw))
    except Exception as e:
        _log(req, "MP0342: mod_python.psp: cannot write the PSP cache '%s': %s: %s"
             % (dbmfile, type(e).__name__, e))


# ------------------------------------------------------------------- PSP

class PSP:
    """A PSP page from a file or a string, compiled and ready to run."""

    code = None

    def __init__(self, req, filename=None, string=None, vars={}):
        if filename is not None and string is not None:
            raise ValueError("Must specify either filename or string")
        self.req = req
        self.vars = vars
        self.filename = None
        self.string = string
        self._names = frozenset()
        if string is None:
            if filename is None:
                filename = req.filename
            elif not os.path.isabs(filename):
                filename = os.path.join(_base_dir(req), filename)
            if not filename or not os.path.isfile(filename):
                raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
            self.filename = filename
            self.load_from_file()
        else:
            self.load_from_string()

    def _use(self, entry):
        self.code = entry.code
        self._names = entry.names

    def load_from_file(self):
        req, filename = self.req, self.filename
        dbmfile = _dbm_file(req)
        if dbmfile:
            entry = _dbm_get(req, dbmfile, filename)
            if entry is not None:
                return self._use(entry)
        entry = _file_cache.get(filename)
        if entry is not None and entry.current():
            return self._use(entry)
        entry = _precompiled(req, filename) or _compile_file(filename)
        _log(req, "MP0343: mod_python.psp: compiled '%s'" % filename, apache.APLOG_DEBUG)
        if dbmfile:
            _dbm_put(req, dbmfile, filename, entry)
        else:
            _file_cache.put(filename, entry)
        self._use(entry)

    def load_from_string(self):
        key = self.string
        if isinstance(key, (bytearray, memoryview)):
            key = bytes(key)
        entry = _string_cache.get(key)
        if entry is None:
            code = compile(_psp.parsestring(key), "__psp__", "exec",
                           dont_inherit=True)
            entry = _Compiled(code)
            _string_cache.put(key, entry)
        self._use(entry)

    def _globals(self, pspi, form, run_vars):
        req = self.req
        g = dict(globals())
        for name in _LAZY_MODULES:
            if name in self._names:
                g[name] = __import__("mod_python." + name, fromlist=["*"])
        g.update(req=req, form=form, psp=pspi,
                 session=getattr(req, "session", None))
        g.update(self.vars or {})
        g.update(run_vars or {})
        g["__file__"] = self.filename or req.filename
        g["__mp_info__"] = None
        g["__mp_path__"] = []
        return g

    def run(self, vars={}, flush=0):
        """Execute the page (its output goes to req.write)."""
        req = self.req
        created = False
        if "session" in self._names and not hasattr(req, "session"):
            from . import Session
            req.session = Session.Session(req)
            created = True
        try:
            form = _get_form(req) if "form" in self._names else None
            pspi = PSPInterface(req, self.filename, form)
            g = self._globals(pspi, form, vars)
            try:
                exec(self.code, g)
                if flush:
                    req.flush()
            except apache.SERVER_RETURN:
                # psp.redirect() and the like: a deliberate exit, not an error
                # for the error page; the session is saved all the same
                _save_session(req)
                raise
            except Exception:
                if pspi.error_page is None:
                    raise
                # the error page saves the session (it runs with the same req)
                pspi.error_page.run({"exception": sys.exc_info()}, flush)
            else:
                _save_session(req)
        finally:
            if created:
                try:
                    req.session.unlock()
                finally:
                    del req.session

    def __str__(self):
        self.req.content_type = "text/html"
        self.run()
        return ""

    def display_code(self):
        """Write an HTML table: line numbers, the generated Python code (blue)
        and the PSP source (green) side by side."""
        req = self.req
        if self.filename is not None:
            with open(self.filename, "rb") as f:
                source = f.read().decode("utf-8", "replace")
            directory, name = os.path.split(self.filename)
            pycode = _psp.parse(name, os.path.join(directory, ""))
            label = self.filename
        else:
            source = self.string
            if isinstance(source, (bytes, bytearray)):
                source = bytes(source).decode("utf-8", "replace")
            pycode = _psp.parsestring(self.string)
            label = "string"
        left = pycode.splitlines()
        right = source.splitlines()

        def cell(line):
            line = html.escape(line.rstrip(), quote=False)
            return line.replace("\t", "    ").replace(" ", "&nbsp;")

        out = ["<table>\n<tr>"]
        for head in ("", "&nbsp;PSP-produced Python Code:",
                     "&nbsp;%s:" % html.escape(label)):
            out.append("<td><tt>%s</tt></td>" % head)
        out.append("</tr>\n")
        for n in range(max(len(left), len(right))):
            py = cell(left[n]) if n < len(left) else ""
            src = cell(right[n]) if n < len(right) else ""
            out.append('<tr><td><tt>%d.&nbsp;</tt></td>'
                       '<td><tt><font color="blue">%s</font></tt></td>'
                       '<td><tt>&nbsp;<font color="green">%s</font></tt></td></tr>\n'
                       % (n + 1, py, src))
        out.append("</table>\n")
        req.write("".join(out))


class PSPInterface:
    """The `psp` object inside a page."""

    def __init__(self, req, filename, form):
        self.req = req
        self.filename = filename
        self.form = form
        self.error_page = None

    def set_error_page(self, page):
        """Run `page` (a PSP file) instead when this page raises; it gets the
        global `exception` = (type, value, traceback).  A leading "/" means
        the document root, else the directory of this page."""
        if page and page[0] == "/":
            page = self.req.document_root() + page
        else:
            base = os.path.dirname(self.filename) if self.filename \
                else _base_dir(self.req)
            page = os.path.join(base, page)
        self.error_page = PSP(self.req, filename=page)

    def apply_data(self, object):
        """Call `object` with the form fields that match its arguments."""
        from . import util
        if self.form is None:
            self.form = _get_form(self.req)
        return util.apply_fs_data(object, self.form, req=self.req)

    def redirect(self, location, permanent=0):
        """Redirect the client (before anything was written)."""
        from . import util
        util.redirect(self.req, location, permanent)


def handler(req):
    """PythonHandler mod_python.psp: run the requested page.  With
    PythonDebug On, a URL ending in "_" shows the page's generated code
    (needs e.g. AddHandler mod_python .psp .psp_)."""
    req.content_type = "text/html"
    debug = req.get_config().get("PythonDebug") == "1"
    if debug and req.filename and req.filename.endswith("_"):
        PSP(req, filename=req.filename[:-1]).display_code()
    else:
        PSP(req).run()
    return apache.OK
