"""The module importer behind PythonAutoReload.

C watches files; Python owns modules; a generation number joins them.

* C (src/reload.c) keeps, per interpreter, the files that managed modules
  were loaded from and notices changes (inotify, or stat in the fallback
  mode).  The per-request check is one call that costs the same whatever the
  number of modules.
* This module keeps the registry of managed modules: name -> file, module
  object, the managed modules it imported while it executed (its
  dependencies) and those that imported it.  When C reports changed files,
  `sync()` marks their modules *pending*.  A request that loads a module with
  autoreload on re-executes, before it runs, whatever is pending among that
  module and its dependencies, dependencies first, and marks the other
  modules that imported a re-executed one pending in turn.

Managed modules are .py files outside the standard library, site-packages
and the mod_python package itself.  They are compiled from source (never
from __pycache__, whose whole-second mtime check misses fast edits), and a
module object is published (registry, sys.modules) only after its code ran
to the end.  A failed re-import keeps the last good module.
"""

import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import site
import sys
import sysconfig
import threading
import time

import _apache

from mod_python import _report

APLOG_ERR, APLOG_WARNING, APLOG_NOTICE, APLOG_INFO = 3, 4, 5, 6

_lock = threading.RLock()
_registry = {}          # module name -> _Entry (managed modules only)
_by_path = {}           # file path -> module name
_resolved = {}          # (name, directory) -> module name actually loaded
_pending = set()        # names needing re-execution
_broken = set()         # names whose last re-import failed
_version = 0            # bumped whenever _pending grows
_seq = 0                # load order


class _Local(threading.local):
    stack = None            # modules being executed by this thread (a list)


_tls = _Local()
current = threading.local()   # .server being served on this thread (set by apache)
_excluded = ()
_interpreter = None


class _Entry:
    __slots__ = ("name", "path", "module", "seq", "deps", "importers",
                 "clean", "cause", "error", "warned")

    def __init__(self, name, path):
        self.name = name
        self.path = path
        self.module = None
        self.seq = 0
        self.deps = set()
        self.importers = set()
        self.clean = -1         # _version at which deps were seen clean
        self.cause = None       # file whose change made this pending
        self.error = None       # traceback text of the last failed re-import
        self.warned = False


class ReloadError(ImportError):
    """A changed module could not be re-imported (the old one is kept)."""


def _log(msg, level=APLOG_NOTICE):
    """Log msg (lines after the first are logged as lines of their own) in
    the error log of the virtual host being served on this thread."""
    try:
        req = _apache._current_request()     # of the dispatch on this thread (C)
        if req is not None:
            req.log_error(msg, level)
        else:
            _apache.log_error(msg, level, getattr(current, "server", None))
    except Exception:
        sys.stderr.write(msg + "\n")


def _error_text():
    """The exception being handled, as lines without the frames of the
    importer and importlib (see _report)."""
    return "\n".join(_report.error_lines(sys.exc_info()[1], note=False))


# ------------------------------------------------------------ what is ours

def _compute_excluded():
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            dirs.add(sysconfig.get_paths()[key])
        except Exception:
            pass
    try:
        dirs.update(site.getsitepackages())
    except Exception:
        pass
    try:
        dirs.add(site.getusersitepackages())
    except Exception:
        pass
    if sys.prefix != sys.base_prefix:
        dirs.add(sys.prefix)        # a virtual environment: all of it is installed
    dirs.add(os.path.dirname(os.path.abspath(__file__)))   # mod_python itself
    out = []
    for d in dirs:
        if d:
            out.append(os.path.join(os.path.abspath(d), ""))
    return tuple(out)


def is_managed(path):
    if not path or not path.endswith(".py"):
        return False
    if "/site-packages/" in path or "/dist-packages/" in path:
        return False
    return not os.path.abspath(path).startswith(_excluded)


# ------------------------------------------------------- loading and edges

def _stack():
    s = _tls.stack
    if s is None:
        s = _tls.stack = []
    return s


def _loading_entry(name):
    for e in reversed(_stack()):
        if e.name == name:
            return e
    return None


def _record_dep(importer_name, dep_name):
    if importer_name == dep_name:
        return
    e = _loading_entry(importer_name)
    if e is not None and dep_name in _registry:
        e.deps.add(dep_name)


_orig_import = builtins.__import__


def _tracking_import(name, globals=None, locals=None, fromlist=(), level=0):
    """builtins.__import__ wrapper: while a managed module executes, note
    which managed modules it binds (import x, from x import y)."""
    mod = _orig_import(name, globals, locals, fromlist, level)
    stack = _tls.stack
    if stack and globals:
        importer_name = globals.get("__name__")
        if _loading_entry(importer_name) is not None:
            try:
                if level:
                    pkg = globals.get("__package__") or importer_name.rpartition(".")[0]
                    absname = importlib.util.resolve_name("." * level + name, pkg) \
                        if name else pkg
                else:
                    absname = name
                parts = absname.split(".") if absname else []
                for i in range(1, len(parts) + 1):
                    _record_dep(importer_name, ".".join(parts[:i]))
                for item in fromlist or ():
                    if item != "*":
                        _record_dep(importer_name, absname + "." + item)
            except Exception:
                pass
    return mod


def _stamp(st):
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _unchanged(path, before):
    """No write began since `before` was taken (its event says so even when
    the clock tick leaves the stat alone), and none ended (then the stat,
    taken after the events were read, moved)."""
    return _apache._watch(path) and _stamp(before) == _stamp(os.stat(path))


def _read_stable(path):
    """Register path with C (stat before read) and read its source, making
    sure no writer was at work on it meanwhile.  A writer still at work is
    waited for, up to two seconds; then what is there is read."""
    deadline = time.monotonic() + 2.0
    while True:
        if _apache._watch(path):
            before = os.stat(path)
            with open(path, "rb") as f:
                source = f.read()
            age = time.time() - before.st_ctime_ns / 1e9
            # An in-place save truncates first; the kernel queues that event
            # only once the truncation is done (a journal wait can come in
            # between), and a process that meets the file for the first
            # time has no events from before at all.  So an empty file
            # changed in the last two seconds is given until the deadline
            # to fill; a legitimately empty module costs that wait only when
            # it was written just now.
            if _unchanged(path, before) and (source or age >= 2.0):
                # A write's event follows its data by a moment: a file
                # changed in the last moments is looked at again.
                if age > 0.05:
                    return source
                time.sleep(0.02)
                if _unchanged(path, before):
                    return source
        if time.monotonic() >= deadline:
            with open(path, "rb") as f:
                return f.read()
        time.sleep(0.01)


class _Loader(importlib.abc.Loader):
    """Loads a managed module from source and registers it."""

    def __init__(self, fullname, path):
        self.name = fullname
        self.path = path

    def create_module(self, spec):
        return None

    def get_filename(self, fullname=None):
        return self.path

    def get_source(self, fullname=None):
        with open(self.path, "rb") as f:
            return importlib.util.decode_source(f.read())

    def is_package(self, fullname=None):
        return os.path.basename(self.path) == "__init__.py"

    def exec_module(self, module):
        source = _read_stable(self.path)
        code = compile(source, self.path, "exec", dont_inherit=True)
        entry = _Entry(module.__name__, self.path)
        stack = _stack()
        parent = stack[-1] if stack else None
        stack.append(entry)
        try:
            exec(code, module.__dict__)
        finally:
            stack.pop()
        _publish(entry, module)
        if parent is not None:
            parent.deps.add(entry.name)


class _Finder:
    """sys.meta_path entry: hands managed source files to _Loader."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.origin and \
                isinstance(spec.loader, importlib.machinery.SourceFileLoader) and \
                is_managed(spec.origin):
            spec.loader = _Loader(fullname, spec.origin)
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def _changed():
    """What load() returns may have changed: C's cache of resolved handlers
    (src/dispatch.c) revalidates its entries of this interpreter."""
    _apache._importer_changed()


def _publish(entry, module):
    """Make a completely executed module visible (registry, load order)."""
    global _seq
    with _lock:
        _changed()
        _seq += 1
        entry.seq = _seq
        entry.module = module
        old = _registry.get(entry.name)
        if old is not None:
            entry.importers = old.importers
            for d in old.deps:
                de = _registry.get(d)
                if de is not None:
                    de.importers.discard(entry.name)
            if old.path != entry.path and _by_path.get(old.path) == entry.name:
                del _by_path[old.path]
        _registry[entry.name] = entry
        _by_path[entry.path] = entry.name
        for d in entry.deps:
            de = _registry.get(d)
            if de is not None:
                de.importers.add(entry.name)


# ---------------------------------------------------------------- changes

def sync():
    """Take the changed files reported by C and mark their modules pending."""
    global _version
    with _lock:
        gen, changes = _apache._reload_take()
        grew = False
        for path, gone in changes:
            name = _by_path.get(path)
            if name is None:
                continue
            e = _registry[name]
            e.cause = path
            e.warned = False
            if name not in _pending:
                _pending.add(name)
                grew = True
        if grew:
            _version += 1
            _changed()
        _apache._reload_ack(gen)


def poll():
    """Check for changes now (for explicit import_module(autoreload=1))."""
    if _apache._reload_poll():
        sync()


def _closure(name):
    seen = set()
    todo = [name]
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        e = _registry.get(n)
        if e is not None:
            todo.extend(e.deps)
    return seen


def _reload_order(names, closure):
    """Modules of `closure` to re-execute: `names` plus everything in the
    closure that depends on them, dependencies first."""
    order, state = [], {}

    def visit(n):
        st = state.get(n)
        if st is not None:
            return st
        state[n] = False                  # in progress (cycles count as clean)
        e = _registry.get(n)
        needs = n in names
        if e is not None:
            for d in sorted(e.deps, key=lambda x: _registry[x].seq if x in _registry else 0):
                if d in closure and visit(d):
                    needs = True
        state[n] = needs
        if needs:
            order.append(n)
        return needs

    for n in sorted(closure, key=lambda x: _registry[x].seq if x in _registry else 0):
        visit(n)
    return order


def _reexec(e, log):
    """Re-execute e's module into a fresh module object.  True on success."""
    global _version
    name, path, old = e.name, e.path, e.module
    if not os.path.exists(path):
        if not e.warned:
            e.warned = True
            _log("MP0351: mod_python: file '%s' of module '%s' is gone; keeping the "
                 "loaded module" % (path, name), APLOG_WARNING)
        return False
    cause = e.cause or path
    try:
        # A writer at work on the file: wait for it (briefly) rather than
        # keep serving a version older than one already written.
        source = _read_stable(path)
        code = compile(source, path, "exec", dont_inherit=True)
        new = _fresh_module(name, path, old)
        if hasattr(old, "__mp_clone__"):
            try:
                old.__mp_clone__(new)
            except Exception:
                _log("MP0352: mod_python: __mp_clone__ of '%s' failed:\n%s"
                     % (name, _error_text()), APLOG_ERR)
                _purge(old)
                old = None
                new = _fresh_module(name, path, e.module)
        entry = _Entry(name, path)
        stack = _stack()
        stack.append(entry)
        try:
            exec(code, new.__dict__)
        finally:
            stack.pop()
    except Exception:
        e.error = _error_text()
        _broken.add(name)
        _changed()
        if not log:
            # (with log, the request gets a ReloadError carrying this text
            # and reports it: logged once either way)
            _log("MP0353: mod_python: re-import of module '%s' from '%s' failed (changed: "
                 "'%s'); the last good version keeps serving:\n%s"
                 % (name, path, cause, e.error), APLOG_ERR)
        return False
    if old is not None:
        _purge(old)
    sys.modules[name] = new
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, new)
    if hasattr(old, "__path__") or hasattr(new, "__path__"):
        prefix = name + "."
        for mname, m in list(sys.modules.items()):
            if mname.startswith(prefix) and "." not in mname[len(prefix):] \
                    and not hasattr(new, mname[len(prefix):]):
                setattr(new, mname[len(prefix):], m)
    _broken.discard(name)
    _publish(entry, new)
    # Modules that bound the old object at load time are stale now.
    for imp in entry.importers:
        ie = _registry.get(imp)
        if ie is not None and imp not in _pending:
            ie.cause = cause
            _pending.add(imp)
            _version += 1
            _changed()
    _log("MP0350: mod_python (pid=%d, interpreter=%r): reloaded module '%s' from '%s' "
         "(changed: '%s')" % (os.getpid(), _interpreter, name, path, cause),
         APLOG_NOTICE if log else APLOG_INFO)
    return True


def _fresh_module(name, path, old):
    search = getattr(getattr(old, "__spec__", None), "submodule_search_locations", None)
    spec = importlib.util.spec_from_file_location(
        name, path, loader=_Loader(name, path),
        submodule_search_locations=list(search) if search is not None else None)
    return importlib.util.module_from_spec(spec)


def _purge(module):
    purge = getattr(module, "__mp_purge__", None)
    if purge is not None:
        try:
            purge()
        except Exception:
            _log("MP0354: mod_python: __mp_purge__ of '%s' failed:\n%s"
                 % (getattr(module, "__name__", "?"), _error_text()), APLOG_ERR)


def _refresh(e, log):
    """Bring e's module and its dependencies up to date; return the module."""
    with _lock:
        e = _registry.get(e.name, e)
        if e.clean != _version:
            closure = _closure(e.name)
            todo = closure & _pending
            if todo:
                for n in _reload_order(todo, closure):
                    ne = _registry.get(n)
                    if ne is not None:
                        _reexec(ne, log)
                    # only now: until the new module is published, other
                    # threads must not take the lock-free path (it would
                    # hand them the old module)
                    _pending.discard(n)
                e = _registry.get(e.name, e)
            else:
                e.clean = _version
            broken = closure & _broken if _broken else ()
        else:
            broken = _broken and (_closure(e.name) & _broken)
        if broken and log:
            n = sorted(broken)[0]
            be = _registry[n]
            raise ReloadError("module '%s' ('%s') failed to re-import; until the file is "
                              "fixed the previous version is kept:\n%s"
                              % (n, be.path, be.error))
        return e.module


# ------------------------------------------------------------------ load

def load(name, autoreload=True, log=False, directory=None):
    """Import `name` (preferring `directory` for a top-level name) and, with
    autoreload, bring it up to date.  Returns the module."""
    key = (name, directory)
    regname = _resolved.get(key)
    if regname is not None:
        e = _registry.get(regname)
        if e is None:
            mod = sys.modules.get(regname)
            if mod is not None:
                return mod                 # not managed: never reloaded
        else:
            if autoreload and (_pending or _broken) and \
                    (e.clean != _version or _broken):
                mod = _refresh(e, log)
            else:
                mod = e.module
            stack = _tls.stack
            if stack:
                stack[-1].deps.add(regname)
            return mod
    mod = _first_import(name, directory, log)
    _resolved[key] = mod.__name__
    stack = _tls.stack
    if stack and mod.__name__ in _registry:
        stack[-1].deps.add(mod.__name__)
    return mod


def _first_import(name, directory, log):
    if directory and "." not in name:
        spec = importlib.machinery.PathFinder.find_spec(name, [directory])
        if spec is not None and spec.origin and is_managed(spec.origin):
            existing = sys.modules.get(name)
            efile = getattr(existing, "__file__", None) if existing is not None else None
            if existing is not None and efile and \
                    os.path.abspath(efile) != os.path.abspath(spec.origin):
                return _load_unique(name, spec, log)
    if log:
        _log("MP0355: mod_python (pid=%d, interpreter=%r): importing module '%s'"
             % (os.getpid(), _interpreter, name), APLOG_NOTICE)
    return importlib.import_module(name)


def _file_label(path):
    import hashlib
    return "_mp_" + hashlib.md5(os.path.abspath(path).encode(),
                                 usedforsecurity=False).hexdigest()


def _load_as(uname, path, search=None):
    """Load the file at path as module `uname` (first load)."""
    with _lock:
        e = _registry.get(uname)
        if e is not None:
            return e.module
        uspec = importlib.util.spec_from_file_location(
            uname, path, loader=_Loader(uname, path), submodule_search_locations=search)
        module = importlib.util.module_from_spec(uspec)
        sys.modules[uname] = module
        try:
            uspec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(uname, None)
            raise
        return module


def _load_unique(name, spec, log):
    """`name` is taken in this interpreter by another file: load this file
    under a name derived from its path."""
    uname = _file_label(spec.origin)
    if uname not in _registry:
        _log("MP0356: mod_python: module name '%s' is already used by another file in "
             "this interpreter; loading '%s' as '%s'" % (name, spec.origin, uname),
             APLOG_NOTICE)
    return _load_as(uname, spec.origin, spec.submodule_search_locations)


def load_file(path, autoreload=True, log=False):
    """Load a Python source file by path (publisher pages and the like) as
    a managed module named after the path; with autoreload, bring it and
    its dependencies up to date first.  Returns the module."""
    path = os.path.abspath(path)
    name = _by_path.get(path)
    e = _registry.get(name) if name is not None else None
    if e is not None:
        if autoreload and (_pending or _broken) and (e.clean != _version or _broken):
            mod = _refresh(e, log)
        else:
            mod = e.module
    else:
        if log:
            _log("MP0355: mod_python (pid=%d, interpreter=%r): importing module '%s'"
                 % (os.getpid(), _interpreter, path), APLOG_NOTICE)
        mod = _load_as(_file_label(path), path)
    stack = _tls.stack
    if stack and mod.__name__ in _registry:
        stack[-1].deps.add(mod.__name__)
    return mod


# ------------------------------------------------------------------ setup

def init(interpreter):
    """Install the finder and the import tracker (once per interpreter)."""
    global _excluded, _interpreter
    _interpreter = interpreter
    _excluded = _compute_excluded()
    if not any(f is _Finder for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder)
    if builtins.__import__ is not _tracking_import:
        builtins.__import__ = _tracking_import


def module_info():
    """A snapshot of the registry, for debugging and tests."""
    with _lock:
        return {n: {"file": e.path, "seq": e.seq, "deps": sorted(e.deps),
                    "importers": sorted(e.importers), "pending": n in _pending,
                    "broken": n in _broken}
                for n, e in _registry.items()}
