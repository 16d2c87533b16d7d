"""mod_python.apache: the dispatcher the C module calls, the module
importer entry point, constants and helpers (only importable inside httpd).
"""

import html
import os
import sys
import threading
import traceback

import _apache
from _apache import SERVER_RETURN, table
from mod_python import _report, importer

make_table = table

# ------------------------------------------------------------- constants

OK = REQ_PROCEED = 0
DECLINED = REQ_NOACTION = -1
DONE = -2
REQ_ABORTED = 500
REQ_EXIT = "REQ_EXIT"

HTTP_CONTINUE = 100
HTTP_SWITCHING_PROTOCOLS = 101
HTTP_PROCESSING = 102
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_ACCEPTED = 202
HTTP_NON_AUTHORITATIVE = 203
HTTP_NO_CONTENT = 204
HTTP_RESET_CONTENT = 205
HTTP_PARTIAL_CONTENT = 206
HTTP_MULTI_STATUS = 207
HTTP_MULTIPLE_CHOICES = 300
HTTP_MOVED_PERMANENTLY = 301
HTTP_MOVED_TEMPORARILY = 302
HTTP_SEE_OTHER = 303
HTTP_NOT_MODIFIED = 304
HTTP_USE_PROXY = 305
HTTP_TEMPORARY_REDIRECT = 307
HTTP_BAD_REQUEST = 400
HTTP_UNAUTHORIZED = 401
HTTP_PAYMENT_REQUIRED = 402
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_METHOD_NOT_ALLOWED = 405
HTTP_NOT_ACCEPTABLE = 406
HTTP_PROXY_AUTHENTICATION_REQUIRED = 407
HTTP_REQUEST_TIME_OUT = 408
HTTP_CONFLICT = 409
HTTP_GONE = 410
HTTP_LENGTH_REQUIRED = 411
HTTP_PRECONDITION_FAILED = 412
HTTP_REQUEST_ENTITY_TOO_LARGE = 413
HTTP_REQUEST_URI_TOO_LARGE = 414
HTTP_UNSUPPORTED_MEDIA_TYPE = 415
HTTP_RANGE_NOT_SATISFIABLE = 416
HTTP_EXPECTATION_FAILED = 417
HTTP_IM_A_TEAPOT = 418
HTTP_UNPROCESSABLE_ENTITY = 422
HTTP_LOCKED = 423
HTTP_FAILED_DEPENDENCY = 424
HTTP_UPGRADE_REQUIRED = 426
HTTP_INTERNAL_SERVER_ERROR = 500
HTTP_NOT_IMPLEMENTED = 501
HTTP_BAD_GATEWAY = 502
HTTP_SERVICE_UNAVAILABLE = 503
HTTP_GATEWAY_TIME_OUT = 504
HTTP_VERSION_NOT_SUPPORTED = 505
HTTP_VARIANT_ALSO_VARIES = 506
HTTP_INSUFFICIENT_STORAGE = 507
HTTP_NOT_EXTENDED = 510

try:
    import syslog as _syslog
    APLOG_EMERG = _syslog.LOG_EMERG
    APLOG_ALERT = _syslog.LOG_ALERT
    APLOG_CRIT = _syslog.LOG_CRIT
    APLOG_ERR = _syslog.LOG_ERR
    APLOG_WARNING = _syslog.LOG_WARNING
    APLOG_NOTICE = _syslog.LOG_NOTICE
    APLOG_INFO = _syslog.LOG_INFO
    APLOG_DEBUG = _syslog.LOG_DEBUG
except ImportError:
    APLOG_EMERG, APLOG_ALERT, APLOG_CRIT, APLOG_ERR = 0, 1, 2, 3
    APLOG_WARNING, APLOG_NOTICE, APLOG_INFO, APLOG_DEBUG = 4, 5, 6, 7
APLOG_NOERRNO = 0

REMOTE_HOST, REMOTE_NAME, REMOTE_NOLOOKUP, REMOTE_DOUBLE_REV = 0, 1, 2, 3

(FINFO_MODE, FINFO_INO, FINFO_DEV, FINFO_NLINK, FINFO_UID, FINFO_GID, FINFO_SIZE,
 FINFO_ATIME, FINFO_MTIME, FINFO_CTIME, FINFO_FNAME, FINFO_NAME,
 FINFO_FILETYPE) = range(13)

(URI_SCHEME, URI_HOSTINFO, URI_USER, URI_PASSWORD, URI_HOSTNAME, URI_PORT, URI_PATH,
 URI_QUERY, URI_FRAGMENT) = range(9)

PROXYREQ_NONE, PROXYREQ_PROXY, PROXYREQ_REVERSE, PROXYREQ_RESPONSE = 0, 1, 2, 3

(M_GET, M_PUT, M_POST, M_DELETE, M_CONNECT, M_OPTIONS, M_TRACE, M_PATCH, M_PROPFIND,
 M_PROPPATCH, M_MKCOL, M_COPY, M_MOVE, M_LOCK, M_UNLOCK, M_VERSION_CONTROL,
 M_CHECKOUT, M_UNCHECKOUT, M_CHECKIN, M_UPDATE, M_LABEL, M_REPORT, M_MKWORKSPACE,
 M_MKACTIVITY, M_BASELINE_CONTROL, M_MERGE, M_INVALID) = range(27)

AP_REQ_ACCEPT_PATH_INFO, AP_REQ_REJECT_PATH_INFO, AP_REQ_DEFAULT_PATH_INFO = 0, 1, 2

AP_MPMQ_NOT_SUPPORTED, AP_MPMQ_STATIC, AP_MPMQ_DYNAMIC = 0, 1, 2
(AP_MPMQ_MAX_DAEMON_USED, AP_MPMQ_IS_THREADED, AP_MPMQ_IS_FORKED,
 AP_MPMQ_HARD_LIMIT_DAEMONS, AP_MPMQ_HARD_LIMIT_THREADS, AP_MPMQ_MAX_THREADS,
 AP_MPMQ_MIN_SPARE_DAEMONS, AP_MPMQ_MIN_SPARE_THREADS, AP_MPMQ_MAX_SPARE_DAEMONS,
 AP_MPMQ_MAX_SPARE_THREADS, AP_MPMQ_MAX_REQUESTS_DAEMON,
 AP_MPMQ_MAX_DAEMONS) = range(1, 13)

CGI_MAGIC_TYPE = "application/x-httpd-cgi"
INCLUDES_MAGIC_TYPE = "text/x-server-parsed-html"
INCLUDES_MAGIC_TYPE3 = "text/x-server-parsed-html3"
DIR_MAGIC_TYPE = "httpd/unix-directory"

REQUEST_NO_BODY, REQUEST_CHUNKED_ERROR, REQUEST_CHUNKED_DECHUNK = 0, 1, 2

AP_CONN_UNKNOWN, AP_CONN_CLOSE, AP_CONN_KEEPALIVE = 0, 1, 2

(APR_NOFILE, APR_REG, APR_DIR, APR_CHR, APR_BLK, APR_PIPE, APR_LNK,
 APR_SOCK) = range(8)
APR_UNKFILE = 127

APR_FINFO_LINK = 0x00000001
APR_FINFO_MTIME = 0x00000010
APR_FINFO_CTIME = 0x00000020
APR_FINFO_ATIME = 0x00000040
APR_FINFO_SIZE = 0x00000100
APR_FINFO_CSIZE = 0x00000200
APR_FINFO_DEV = 0x00001000
APR_FINFO_INODE = 0x00002000
APR_FINFO_NLINK = 0x00004000
APR_FINFO_TYPE = 0x00008000
APR_FINFO_USER = 0x00010000
APR_FINFO_GROUP = 0x00020000
APR_FINFO_UPROT = 0x00100000
APR_FINFO_GPROT = 0x00200000
APR_FINFO_WPROT = 0x00400000
APR_FINFO_ICASE = 0x01000000
APR_FINFO_NAME = 0x02000000
APR_FINFO_MIN = 0x00008170
APR_FINFO_IDENT = 0x00003000
APR_FINFO_OWNER = 0x00030000
APR_FINFO_PROT = 0x00700000
APR_FINFO_NORM = 0x0073b170
APR_FINFO_DIRENT = 0x02000000

MODULE_MAGIC_NUMBER_MAJOR = getattr(_apache, "MODULE_MAGIC_NUMBER_MAJOR", None)
MODULE_MAGIC_NUMBER_MINOR = getattr(_apache, "MODULE_MAGIC_NUMBER_MINOR", None)

# --------------------------------------------------------- process state

interpreter = None
main_server = None
_callback = None
_path_cache = set()
_path_cache_lock = threading.Lock()
_current = importer.current        # .server: importer notices go to its log

# Dispatch flags: C (src/dispatch.c) reads the typed configuration and
# passes them as one int; _apache._dispatch_flags() has those of the
# dispatch running on this thread.
_DEBUG, _AUTORELOAD, _PDB, _PATH = 1, 2, 4, 8

# phase -> (default object name, results that let the next handler run)
_ALL = frozenset((OK, DECLINED))
_FIRST = frozenset((DECLINED,))
_ONLY_OK = frozenset((OK,))
_DEFAULT_PHASE = ("handler", _ONLY_OK)
_PHASES = {
    "PythonPostReadRequestHandler": ("postreadrequesthandler", _ALL),
    "PythonTransHandler": ("transhandler", _FIRST),
    "PythonHeaderParserHandler": ("headerparserhandler", _ALL),
    "PythonInitHandler": ("inithandler", _ALL),
    "PythonAccessHandler": ("accesshandler", _ALL),
    "PythonAuthenHandler": ("authenhandler", _FIRST),
    "PythonAuthzHandler": ("authzhandler", _FIRST),
    "PythonTypeHandler": ("typehandler", _FIRST),
    "PythonFixupHandler": ("fixuphandler", _ALL),
    "PythonHandler": ("handler", _ONLY_OK),
    "PythonLogHandler": ("loghandler", _ALL),
    "PythonCleanupHandler": ("cleanuphandler", _ONLY_OK),
}


def init(name, server):
    """Called by C once per interpreter; returns the CallBack instance."""
    global interpreter, main_server, _callback
    interpreter = name
    main_server = server
    sys.argv = ["mod_python"]
    importer.init(name)
    _callback = CallBack()
    return _callback


def _reload_sync():
    importer.sync()


# ------------------------------------------------------------- helpers

def _apply_path(pp):
    """PythonPath: evaluate each distinct string once per interpreter."""
    if pp and pp not in _path_cache:
        with _path_cache_lock:
            if pp not in _path_cache:
                # named, so that a traceback says where the expression came from
                newpath = eval(compile(pp, "<PythonPath>", "eval"), globals())
                if isinstance(newpath, (str, bytes)) or not hasattr(newpath, "__iter__"):
                    raise TypeError("PythonPath %s gave %r, not a list of directories"
                                    % (pp, newpath))
                sys.path[:] = newpath
                _path_cache.add(pp)


def _config_flags(config):
    """Dispatch flags from a get_config() table (callers other than C)."""
    flags = 0 if config.get("PythonAutoReload") == "0" else _AUTORELOAD
    if config.get("PythonDebug") == "1":
        flags |= _DEBUG
    if config.get("PythonEnablePdb") == "1":
        flags |= _PDB
    if config.get("PythonPath"):
        flags |= _PATH
    return flags


def _load(module_name, flags, directory, is_location=False):
    """The module of a handler entry: without a PythonPath its directory
    goes on sys.path (once) and is preferred for a top-level name."""
    if flags & _PATH or not directory or is_location:
        directory = None
    elif directory not in sys.path:
        with _path_cache_lock:
            if directory not in sys.path:
                sys.path.insert(0, directory)
    return importer.load(module_name, flags & _AUTORELOAD, flags & _DEBUG, directory)


def _call(obj, arg, flags):
    if flags & _PDB and _apache.exists_config_define("ONE_PROCESS"):
        import pdb
        return pdb.runcall(obj, arg)
    return obj(arg)


def _server_return_value(req, exc):
    """The result carried by SERVER_RETURN (result) or (result, status)."""
    args = exc.args
    value = args[0]                       # no argument: IndexError -> 500
    status = None
    if isinstance(value, tuple):
        value, status = (value + (None,))[:2]
    elif len(args) > 1:
        status = args[1]
    if status and req is not None:
        req.status = status
    return value


def _check_result(handler, result):
    if type(result) is not int:
        raise TypeError("handler '%s' returned %r; a handler must return an int "
                        "(apache.OK, apache.DECLINED, apache.DONE or an HTTP "
                        "status)" % (handler, result))
    return result


def resolve_object(module, obj_str, arg=None, silent=0):
    """Find obj_str ("a.b.c") in module; a class met on the way is
    instantiated with `arg`.  With `silent`, a missing name gives None."""
    if "." not in obj_str and not isinstance(module, type):
        if hasattr(module, obj_str):
            return getattr(module, obj_str)
        if silent:
            return None
        raise AttributeError("module '%s' contains no '%s'"
                             % (getattr(module, "__file__", module.__name__), obj_str))
    obj = module
    for i, part in enumerate(obj_str.split(".")):
        parent = obj
        if not hasattr(parent, part):
            if silent:
                return None
            if i == 0:
                raise AttributeError("module '%s' contains no '%s'"
                                     % (getattr(module, "__file__", module.__name__),
                                        obj_str))
        obj = getattr(parent, part)
        if isinstance(parent, type):
            obj = getattr(parent(arg), part)
    return obj


def import_module(module_name, autoreload=None, log=None, path=None):
    """Import module_name through mod_python's importer.  With autoreload
    (default: PythonAutoReload of the current request, else on) a changed
    module, or one whose dependencies changed, is re-imported first."""
    flags = _apache._dispatch_flags()
    if autoreload is None:
        autoreload = flags is None or flags & _AUTORELOAD
    if log is None:
        log = flags is not None and flags & _DEBUG
    if autoreload:
        importer.poll()
    directory = None
    if path:
        for p in path:
            if p and os.path.isdir(p):
                directory = os.path.join(p, "")
                break
    return importer.load(module_name, autoreload=bool(autoreload), log=bool(log),
                         directory=directory)


def module_mtime(module):
    """The modification time of module's file (0 if it has none)."""
    f = getattr(module, "__file__", None)
    if not f:
        return 0
    try:
        return os.path.getmtime(f)
    except OSError:
        return 0


def build_cgi_env(req):
    """A table of CGI variables for req."""
    req.add_cgi_vars()
    env = req.subprocess_env.copy()
    if req.path_info and len(req.path_info) > 0 and req.uri.endswith(req.path_info):
        env["SCRIPT_NAME"] = req.uri[:-len(req.path_info)]
    else:
        env["SCRIPT_NAME"] = req.uri
    env["GATEWAY_INTERFACE"] = "Python-CGI/1.1"
    auth = req.headers_in.get("Authorization")
    if auth:
        env["HTTP_AUTHORIZATION"] = auth
    return env


class NullIO:
    """A file-like object that does nothing."""
    def tell(self): return 0
    def read(self, n=-1): return ""
    def readline(self, length=None): return ""
    def readlines(self): return []
    def write(self, s): pass
    def writelines(self, lst): pass
    def isatty(self): return 0
    def flush(self): pass
    def close(self): pass
    def detach(self): pass
    def seek(self, pos, mode=0): pass


class CGIStdin(NullIO):
    """sys.stdin for CGI-style code: the request body (bytes)."""

    def __init__(self, req):
        self.pos = 0
        self.req = req
        self.BLOCK = 65536
        self.buf = b""

    def read(self, n=-1):
        if n == 0:
            return b""
        if n < 0:
            data = self.buf + self.req.read()
            self.buf = b""
        else:
            while len(self.buf) < n:
                chunk = self.req.read(self.BLOCK)
                if not chunk:
                    break
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n:]
        self.pos += len(data)
        return data

    def readline(self, n=-1):
        while b"\n" not in self.buf and (n < 0 or len(self.buf) < n):
            chunk = self.req.read(self.BLOCK)
            if not chunk:
                break
            self.buf += chunk
        i = self.buf.find(b"\n")
        end = len(self.buf) if i < 0 else i + 1
        if n >= 0:
            end = min(end, n)
        line, self.buf = self.buf[:end], self.buf[end:]
        self.pos += len(line)
        return line

    def readlines(self):
        lines = []
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)


class CGIStdout(NullIO):
    """sys.stdout for CGI-style code: parses the CGI header block, then
    passes the body through (str as UTF-8, bytes unchanged)."""

    def __init__(self, req):
        self.pos = 0
        self.req = req
        self.headers_sent = 0
        self.headers = b""

    def write(self, s):
        if not s:
            return
        data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        if not self.headers_sent:
            self.headers += data
            head, sep, body = self.headers.partition(b"\r\n\r\n")
            if not sep:
                head, sep, body = self.headers.partition(b"\n\n")
                if not sep:
                    return
            for line in head.decode("latin-1").splitlines():
                if not line.strip():
                    continue
                name, colon, value = line.partition(":")
                if not colon:
                    raise ValueError("malformed CGI header line: %r" % line)
                name, value = name.strip(), value.strip()
                if name.lower() == "status":
                    self.req.status = int(value.split()[0])
                elif name.lower() == "content-type":
                    self.req.content_type = value
                    self.req.headers_out[name] = value
                else:
                    self.req.headers_out.add(name, value)
            self.headers_sent = 1
            data = body
        if data:
            self.req.write(data)
            self.pos += len(data)

    def tell(self):
        return self.pos


def setup_cgi(req):
    """Make os.environ, sys.stdin and sys.stdout CGI-like for req."""
    save_env = dict(os.environ)
    si, so = sys.stdin, sys.stdout
    os.environ.update(build_cgi_env(req))
    sys.stdout = CGIStdout(req)
    sys.stdin = CGIStdin(req)
    sys.argv = []
    return save_env, si, so


def restore_nocgi(sav_env, si, so):
    """Undo setup_cgi (3.5 swapped stdin and stdout here; fixed)."""
    os.environ.clear()
    os.environ.update(sav_env)
    sys.stdin = si
    sys.stdout = so


# --------------------------------------------------- functions of _apache

def log_error(message, level=APLOG_ERR, server=None):
    """Log message to the error log (all levels, APLOG_EMERG included)."""
    if message is None:
        return
    _apache.log_error(message, level, server)


def register_cleanup(callable, data=None):
    """Run callable(data) when this child process exits, in this interpreter."""
    _apache.register_cleanup(interpreter, main_server, callable, data)


def config_tree():
    return _apache.config_tree()


def server_root():
    return _apache.server_root()


def mpm_query(code):
    return _apache.mpm_query(code)


def exists_config_define(name):
    return _apache.exists_config_define(name)


def stat(fname, wanted):
    return _apache.stat(fname, wanted)


# ------------------------------------------------------------ CallBack

class CallBack:
    """The object the C module calls into, one per interpreter."""

    def HandlerDispatch(self, req, flags=None, _result=None):
        """Run the handlers of req.hlist for req.phase, from the cursor on.
        C (src/dispatch.c) calls a phase's lone handler itself when it can
        and comes here for everything else; `flags` are the dispatch flags
        (_DEBUG, ...), `_result` the result of a handler C already ran."""
        if flags is None:
            flags = _config_flags(req.get_config())
        phase = req.phase
        default, expected = _PHASES.get(phase, _DEFAULT_PHASE)
        ran = _result is not None
        result = _result if ran else HTTP_INTERNAL_SERVER_ERROR
        hlist = req.hlist
        handler = None
        try:
            if flags & _PATH:
                _apply_path(req.get_config().get("PythonPath"))
            while hlist.handler is not None:
                handler = hlist.handler
                module_name, _, obj_str = handler.partition("::")
                module = _load(module_name, flags, hlist.directory, hlist.is_location)
                obj = resolve_object(module, obj_str or default, req, hlist.silent)
                if obj is None and hlist.silent:
                    hlist.next()
                    continue
                ran = True
                try:
                    result = _call(obj, req, flags)
                except SERVER_RETURN as e:
                    result = _server_return_value(req, e)
                _check_result(handler, result)
                if result not in expected:
                    break
                hlist.next()
            if not ran:
                result = DECLINED
        except Exception:
            result = self.ReportError(*sys.exc_info(), req=req, phase=phase,
                                      hname=handler, debug=flags & _DEBUG)
        return result

    def HandlerResolve(self, req, flags):
        """For C's handler cache: (module, object name) of the handler at
        req.hlist's cursor; None when the object name is dotted (C then
        takes HandlerDispatch); an int when the import failed (reported
        as HandlerDispatch reports it: the phase's result)."""
        hlist = req.hlist
        handler = hlist.handler
        module_name, _, obj_str = handler.partition("::")
        obj_str = obj_str or _PHASES.get(req.phase, _DEFAULT_PHASE)[0]
        if "." in obj_str:
            return None
        try:
            if flags & _PATH:
                _apply_path(req.get_config().get("PythonPath"))
            module = _load(module_name, flags, hlist.directory, hlist.is_location)
        except Exception:
            return self.ReportError(*sys.exc_info(), req=req, phase=req.phase,
                                    hname=handler, debug=flags & _DEBUG)
        return module, sys.intern(obj_str)

    def HandlerResult(self, req, flags, result, exc):
        """C ran the handler at req.hlist's cursor and got `result` or
        raised `exc` other than a plain int, or handlers were added to the
        running phase: the rest of HandlerDispatch's loop."""
        handler = req.hlist.handler
        phase = req.phase
        try:
            if exc is not None:
                if not isinstance(exc, SERVER_RETURN):
                    return self.ReportError(type(exc), exc, exc.__traceback__, req=req,
                                            phase=phase, hname=handler,
                                            debug=flags & _DEBUG)
                result = _server_return_value(req, exc)
            _check_result(handler, result)
        except Exception:
            return self.ReportError(*sys.exc_info(), req=req, phase=phase,
                                    hname=handler, debug=flags & _DEBUG)
        if result not in _PHASES.get(phase, _DEFAULT_PHASE)[1]:
            return result
        req.hlist.next()
        return self.HandlerDispatch(req, flags, result)

    def FilterDispatch(self, filter, flags=None):
        req = filter.req
        if flags is None:
            flags = _config_flags(req.get_config() if req is not None else {})
        handler = filter.handler
        try:
            if flags & _PATH:
                _apply_path(req.get_config().get("PythonPath"))
            module_name, _, obj_str = handler.partition("::")
            obj_str = obj_str or ("inputfilter" if filter.is_input else "outputfilter")
            module = _load(module_name, flags, filter.dir)
            obj = resolve_object(module, obj_str, filter, 0)
            _call(obj, filter, flags)
            if not filter.closed:
                filter.flush()
        except SERVER_RETURN as e:
            try:
                value = _server_return_value(req, e)
                if type(value) is not int:
                    log_error("Value raised with SERVER_RETURN is invalid. It is a %s, but "
                              "it must be a tuple or an int." % type(value).__name__,
                              APLOG_ERR, req.server if req is not None else None)
            except Exception:
                filter.disable()
                self.ReportError(*sys.exc_info(), req=req, filter=filter,
                                 phase=filter.name, hname=handler, debug=flags & _DEBUG)
        except Exception:
            filter.disable()
            self.ReportError(*sys.exc_info(), req=req, filter=filter,
                             phase=filter.name, hname=handler, debug=flags & _DEBUG)
        return OK

    def ConnectionDispatch(self, conn, flags=None):
        config = conn.base_server.get_config()
        if flags is None:
            flags = _config_flags(config)
        handler = conn.hlist.handler
        prev = getattr(_current, "server", None)
        _current.server = conn.base_server  # importer notices go to its log
        try:
            if flags & _PATH:
                _apply_path(config.get("PythonPath"))
            module_name, _, obj_str = handler.partition("::")
            module = _load(module_name, flags, None)
            obj = resolve_object(module, obj_str or "connectionhandler", conn, 0)
            result = _call(obj, conn, flags)
            if type(result) is not int:
                raise TypeError("connection handler '%s' returned %r, not an int"
                                % (handler, result))
        except Exception:
            result = self.ReportError(*sys.exc_info(), srv=conn.base_server,
                                      phase="ConnectionHandler", hname=handler,
                                      debug=flags & _DEBUG)
        finally:
            _current.server = prev
        return result

    def IncludeDispatch(self, filter, tag, code, flags=None):
        req = filter.req
        if flags is None:
            flags = _config_flags(req.get_config())
        try:
            g = req.ssi_globals
        except AttributeError:
            g = req.ssi_globals = {}
        g["filter"] = filter
        g["__file__"] = req.filename
        code = code.replace("\r\n", "\n").rstrip()
        try:
            if tag == "eval":
                value = eval(code, g)
                if value is not None:
                    filter.write(str(value))
            else:
                exec(code, g)
            filter.flush()
        except Exception:
            filter.disable()
            self.ReportError(*sys.exc_info(), req=req, filter=filter,
                             phase=filter.name, hname=req.filename, debug=flags & _DEBUG)
            return HTTP_INTERNAL_SERVER_ERROR      # reported: C inserts the SSI error text
        finally:
            g["filter"] = None
        return OK

    def ImportDispatch(self, name, server=None):
        """PythonImport: with the PythonPath of the server (virtual host)
        whose configuration holds the directive."""
        config = (server or main_server).get_config()
        flags = _config_flags(config)
        prev = getattr(_current, "server", None)
        _current.server = server            # importer notices go to its log
        try:
            if flags & _PATH:
                _apply_path(config.get("PythonPath"))
            module_name, _, func = name.partition("::")
            module = importer.load(module_name, True, flags & _DEBUG, None)
            if func:
                getattr(module, func)()
            return module
        except Exception:
            self.ReportError(*sys.exc_info(), srv=server or main_server,
                             phase="PythonImport", hname=name, debug=flags & _DEBUG)
            return None
        finally:
            _current.server = prev

    def ReportError(self, etype, evalue, etb, req=None, filter=None, srv=None,
                    phase="N/A", hname="N/A", debug=0):
        """Log the exception once, as one block (one log line per line, each
        tagged like the first), in the error log of the request's virtual
        host (or srv's): what failed for which request, then the traceback
        without the frames of mod_python's dispatch machinery and importlib.
        Under PythonDebug the same text goes to the client.  Returns the
        status for the phase."""
        try:
            if evalue is None:
                evalue = etype() if isinstance(etype, type) else Exception(repr(etype))
            lines = _report.error_lines(evalue, etb, *_where_looked(req, filter, srv))
            msg = "\n".join([_error_head(req, filter, phase, hname)] + lines)
            if req is not None:
                req.log_error(msg, APLOG_ERR)
            else:
                log_error(msg, APLOG_ERR, srv)
            if not debug or req is None:
                return HTTP_INTERNAL_SERVER_ERROR
            body = '\n<pre>\nMod_python error: "%s %s"\n\n%s\n</pre>\n' % (
                html.escape(str(phase)), html.escape(str(hname)),
                "\n".join(html.escape(l) for l in lines))
            if filter is not None:
                filter.write(body)
                filter.flush()
            else:
                req.status = HTTP_INTERNAL_SERVER_ERROR
                req.content_type = "text/html"
                req.write(body)
            return DONE
        except Exception:
            _report_failure(req, srv, phase, hname)
            return HTTP_INTERNAL_SERVER_ERROR


def _error_head(req, filter, phase, hname):
    """The first line of an error block: what failed, for which request."""
    if req is not None:
        target = "%s %s" % (req.method, req.uri)
        if filter is not None and filter.handler is None:
            return "MP0222: #python element in %s failed for %s" % (hname, target)
        if filter is not None:
            return ("MP0221: %s filter %s (%s) failed for %s"
                    % ("input" if filter.is_input else "output", phase, hname, target))
        return "MP0220: %s %s failed for %s" % (phase, hname, target)
    if phase == "PythonImport":
        return "MP0224: PythonImport %s failed in interpreter %r" % (hname, interpreter)
    return "MP0223: %s %s failed" % (phase, hname)


def _where_looked(req, filter, srv):
    """(handler directory, PythonPath, interpreter) for an import hint."""
    directory = python_path = None
    try:
        if filter is not None:
            directory = filter.dir
        elif req is not None and req.hlist is not None and not req.hlist.is_location:
            directory = req.hlist.directory
        where = req if req is not None else (srv if srv is not None else main_server)
        python_path = where.get_config().get("PythonPath")
    except Exception:
        pass
    return directory, python_path, interpreter


def _report_failure(req, srv, phase, hname):
    """ReportError itself failed: say so, wherever that can still go."""
    msg = ("MP0225: mod_python could not report an error of %s %s:\n%s"
           % (phase, hname, traceback.format_exc()))
    try:
        if req is not None:
            req.log_error(msg, APLOG_ERR)
        else:
            log_error(msg, APLOG_ERR, srv)
    except Exception:
        try:
            sys.stderr.write(msg + "\n")
            sys.stderr.flush()
        except Exception:
            pass
