"""mod_python.cgihandler: run unmodified CGI scripts inside httpd.

    <Directory /var/www/cgi>
        SetHandler mod_python                 # or: AddHandler mod_python .py
        PythonHandler mod_python.cgihandler
    </Directory>

For each request the script (``subprocess_env["script_filename"]`` if set,
else ``req.filename``) is executed from the top, as a CGI script is, in a
fresh module named after the file's base name (``/cgi/form.py`` runs as
module ``form``; ``if __name__ == "__main__":`` blocks therefore do not
run, as in mod_python 3.5).  While it runs:

* ``os.environ`` is a plain dict holding exactly the CGI variables
  (``apache.build_cgi_env``: the request's ``subprocess_env`` after
  ``add_cgi_vars()``, ``SCRIPT_NAME``, ``GATEWAY_INTERFACE``,
  ``HTTP_AUTHORIZATION``).  It is a dict, not the process environment, so
  no ``putenv()``/``unsetenv()`` ever runs in the threaded httpd process;
  child processes started with ``env=None`` do not see the CGI variables
  (pass ``env=os.environ``).  It is always the same dict object, so code
  that bound ``os.environ`` while a script imported it (the stdlib ``cgi``
  module's ``environ=os.environ`` defaults) keeps seeing the current
  request; if ``cgi`` was imported elsewhere first, its defaults are
  pointed at that dict.  Outside scripts ``os.environ`` is the real one
  (mod_python 3.5 replaced it for good when cgihandler was imported).
* ``sys.stdin`` is a text stream over the request body whose ``.buffer``
  gives the bytes (``cgi.FieldStorage()``, ``sys.stdin.read()`` and
  ``sys.stdin.buffer.read()`` all work, POST included);
* ``sys.stdout`` is a text stream with a ``.buffer`` (binary output is
  sent unchanged); the CGI header block it receives (up to the first empty
  line) is applied to the response: ``Status`` sets the status,
  ``Content-Type`` the content type, ``Location`` without ``Status`` gives
  302, other lines are added to ``headers_out``;
* the current directory is the script's directory, the directory is at the
  front of ``sys.path`` and ``sys.argv`` is ``[script]``.

``sys.exit()`` in the script ends it normally.  A script that prints no
header block at all gets 500 (as with mod_cgi); a header line without a
colon raises ``ValueError`` (500).

Modules the script imports from your own directories (not the standard
library, site-packages or mod_python) are dropped from ``sys.modules``
after each run, so every request imports them afresh as it would in a new
CGI process; the script itself is recompiled whenever its file changes.

Concurrency: ``os.environ``, the current directory, ``sys.stdin`` and
``sys.stdout`` are shared by every thread of the interpreter, so, as in
mod_python 3.5, a lock lets one CGI script per interpreter run at a time
(scripts in one interpreter are serialised; other handlers are not).
``sys.stdin``/``sys.stdout`` are routed per thread, so other threads that
print while a script runs write to the real streams, not into the CGI
response.  The working directory is per process: code in other threads or
interpreters that relies on relative paths sees the script's directory
while a script runs.  For concurrent applications use a WSGI application
(``mod_python.wsgi``) or a plain handler instead.

Log messages MP0950-MP0953.
"""

import builtins
import io
import os
import re
import sys
import threading
import types

from mod_python import apache, importer

_lock = threading.RLock()         # one CGI script per interpreter at a time
_code_cache = {}                  # path -> (stat stamp, code object)
# os.environ while a script runs.  Always the same dict: modules imported by
# scripts (cgi.FieldStorage's `environ=os.environ` default) bind it once.
_cgi_environ = {}
_patched_cgi = []                 # cgi modules whose environ defaults were re-pointed
_recording = threading.local()    # .names: set of module names being recorded

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE_SPLIT = re.compile(rb"\r?\n")


# ------------------------------------------------------------ output

class _CGIOutput(io.RawIOBase):
    """Raw byte sink behind sys.stdout: parses the CGI header block, then
    passes the body to req.write()."""

    def __init__(self, req):
        super().__init__()
        self._req = req
        self._head = b""
        self.headers_done = False
        self.sealed = False       # after the script: late flushes go nowhere

    def writable(self):
        return True

    def write(self, b):
        data = bytes(b)
        if not data or self.sealed:
            return len(data)
        if self.headers_done:
            self._req.write(data)
            return len(data)
        self._head += data
        m = _HEADER_END.search(self._head)
        if m is None:
            return len(data)
        head, body = self._head[:m.start()], self._head[m.end():]
        self._head = b""
        self._apply_headers(head)
        if body:
            self._req.write(body)
        return len(data)

    def _apply_headers(self, head):
        req = self._req
        status_seen = False
        location = None
        for raw in _LINE_SPLIT.split(head):
            line = raw.decode("latin-1")
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            if not sep or not name.strip():
                raise ValueError("malformed CGI header line from script %r: %r"
                                 % (req.filename, line))
            name, value = name.strip(), value.strip()
            lname = name.lower()
            if lname == "status":
                try:
                    req.status = int(value.split()[0])
                except (ValueError, IndexError):
                    raise ValueError("malformed CGI Status header from script %r: %r"
                                     % (req.filename, value)) from None
                status_seen = True
            elif lname == "content-type":
                req.content_type = value
            else:
                if lname == "location":
                    location = value
                req.headers_out.add(name, value)
        if location is not None and not status_seen:
            req.status = apache.HTTP_MOVED_TEMPORARILY
        self.headers_done = True

    def finish(self):
        """End of script: apply a header block that was not followed by an
        empty line.  Returns False when the script wrote nothing at all."""
        if not self.headers_done and self._head.strip():
            head, self._head = self._head, b""
            self._apply_headers(head)
        return self.headers_done


class _BodyInput(io.RawIOBase):
    """Raw byte source behind sys.stdin: the request body."""

    def __init__(self, req):
        super().__init__()
        self._req = req

    def readable(self):
        return True

    def readinto(self, b):
        data = self._req.read(len(b))
        n = len(data)
        b[:n] = data
        return n


def _text_stream(raw, writing):
    if writing:
        buf = io.BufferedWriter(raw, 65536)
        return io.TextIOWrapper(buf, encoding="utf-8", errors="strict",
                                newline="\n", write_through=True)
    buf = io.BufferedReader(raw, 65536)
    return io.TextIOWrapper(buf, encoding="utf-8", errors="surrogateescape",
                            newline="\n")


class _ThreadRoute:
    """Stands in for sys.stdin/sys.stdout while a script runs: the script's
    thread gets the CGI stream, every other thread the original one."""

    def __init__(self, owner, cgi_stream, other):
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_cgi", cgi_stream)
        object.__setattr__(self, "_other", other)

    def _target(self):
        if threading.get_ident() == self._owner:
            return self._cgi
        return self._other

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def __setattr__(self, name, value):
        setattr(self._target(), name, value)

    def __iter__(self):
        return iter(self._target())


# ----------------------------------------------- imports made by a script

class _ImportRecorder:
    """sys.meta_path entry that only takes notes: the names of the modules a
    running CGI script (its own thread) imports for the first time."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        names = getattr(_recording, "names", None)
        if names is not None:
            names.add(fullname)
        return None

    @staticmethod
    def invalidate_caches():
        pass


def _install_recorder():
    if not any(f is _ImportRecorder for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportRecorder)


def _forget_user_modules(names):
    """Drop the script's own (managed) modules from sys.modules so the next
    run imports them again, as a new CGI process would."""
    for name in names:
        mod = sys.modules.get(name)
        path = getattr(mod, "__file__", None) if mod is not None else None
        if path and importer.is_managed(path):
            del sys.modules[name]


_install_recorder()


def _repoint_cgi_defaults(real_environ):
    """The stdlib cgi module binds os.environ as a default argument when it
    is imported.  If it was imported outside a CGI script (by another
    handler), point those defaults at the CGI environment instead of the
    process environment (which holds no CGI variables)."""
    mod = sys.modules.get("cgi")
    if mod is None or any(m is mod for m in _patched_cgi):
        return
    _patched_cgi.append(mod)
    funcs = [getattr(mod, n, None) for n in ("parse", "print_environ", "test")]
    fs = getattr(mod, "FieldStorage", None)
    if isinstance(fs, type):
        funcs.append(fs.__dict__.get("__init__"))
    for f in funcs:
        d = getattr(f, "__defaults__", None)
        if d and any(v is real_environ for v in d):
            f.__defaults__ = tuple(_cgi_environ if v is real_environ else v for v in d)


# ---------------------------------------------------------- the script

def _script_code(path):
    """The script's code object, compiled again whenever the file changed
    (stat taken before the read: a change during the read shows next time)."""
    st = os.stat(path)
    stamp = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    hit = _code_cache.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    _code_cache[path] = (stamp, code)
    return code


def _run_script(req, path, code):
    """Execute code as module <basename>; SystemExit ends it normally."""
    name = os.path.splitext(os.path.basename(path))[0] or "__cgi__"
    module = types.ModuleType(name)
    module.__file__ = path
    module.__builtins__ = builtins
    module.__spec__ = None
    module.__package__ = None
    registered = name not in sys.modules
    if registered:
        sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except SystemExit as e:
        if e.code not in (None, 0):
            req.log_error("MP0952: cgihandler: script '%s' exited with status %r"
                          % (path, e.code), apache.APLOG_INFO)
    finally:
        if registered and sys.modules.get(name) is module:
            del sys.modules[name]


def _find_script(req):
    """The script's absolute path, or None (-> 404)."""
    script = req.subprocess_env.get("script_filename") or req.filename
    if not script:
        return None
    path = os.path.abspath(script)
    directory = os.path.dirname(path)
    if not path.startswith(os.path.join(directory, "")) or not os.path.isfile(path):
        return None
    return path


def _execute(req, path, out_raw):
    """Swap in the CGI world, run the script, swap everything back.
    Called with _lock held."""
    directory = os.path.dirname(path)
    try:
        old_cwd = os.getcwd()
    except OSError:
        old_cwd = "/"
    real_environ = os.environ
    real_stdin, real_stdout, real_argv = sys.stdin, sys.stdout, sys.argv
    added_path = directory not in sys.path
    out = _text_stream(out_raw, True)
    inp = _text_stream(_BodyInput(req), False)
    me = threading.get_ident()
    if real_environ is not _cgi_environ:
        _repoint_cgi_defaults(real_environ)
    os.environ = _cgi_environ
    try:
        os.chdir(directory)
        saved = apache.setup_cgi(req)
        try:
            sys.stdout = _ThreadRoute(me, out, real_stdout)
            sys.stdin = _ThreadRoute(me, inp, real_stdin)
            sys.argv = [path]
            if added_path:
                sys.path.insert(0, directory)
            _recording.names = set()
            try:
                _run_script(req, path, _script_code(path))
                out.flush()
            finally:
                names, _recording.names = _recording.names, None
                if added_path and directory in sys.path:
                    sys.path.remove(directory)
                _forget_user_modules(names)
        finally:
            apache.restore_nocgi(*saved)
    finally:
        os.environ = real_environ
        sys.stdin, sys.stdout, sys.argv = real_stdin, real_stdout, real_argv
        try:
            os.chdir(old_cwd)
        except OSError:
            os.chdir("/")


def handler(req):
    path = _find_script(req)
    if path is None:
        req.log_error("MP0953: cgihandler: no script '%s'"
                      % (req.subprocess_env.get("script_filename") or req.filename),
                      apache.APLOG_INFO)
        return apache.HTTP_NOT_FOUND
    if req.get_config().get("PythonDebug") == "1":
        req.log_error("MP0950: cgihandler: running '%s'" % path, apache.APLOG_DEBUG)
    out_raw = _CGIOutput(req)
    try:
        with _lock:
            _execute(req, path, out_raw)
    finally:
        # what a failed script left in the stream's buffer is dropped, also
        # when the garbage collector flushes it later
        out_raw.sealed = True
    if not out_raw.finish():
        req.log_error("MP0951: cgihandler: script '%s' ended without sending a CGI "
                      "header block" % path, apache.APLOG_ERR)
        return apache.HTTP_INTERNAL_SERVER_ERROR
    return apache.OK
