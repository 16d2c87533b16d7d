"""Type stubs of mod_python.apache: handler helpers, the dispatcher the C
module calls (CallBack) and httpd's constants.  The request, connection,
server, table, filter, finfo and hlist types are those of `_apache`.
Checked against the live module by test/test_stubs.py."""
import types
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from _apache import SERVER_RETURN as SERVER_RETURN
from _apache import mp_conn, mp_filter, mp_finfo, mp_request, mp_server
from _apache import table as table

make_table = table

interpreter: str | None
"""Name of the interpreter this module runs in."""
main_server: mp_server | None
"""The main server of this child process."""


def init(name: str, server: mp_server) -> CallBack: ...
def resolve_object(module: Any, obj_str: str, arg: Any = ..., silent: int = ...) -> Any: ...
def import_module(module_name: str, autoreload: bool | int | None = ..., log: bool | int | None = ...,
                  path: Iterable[str] | None = ...) -> types.ModuleType: ...
def module_mtime(module: types.ModuleType) -> float: ...
def build_cgi_env(req: mp_request) -> dict[str, str]: ...
def setup_cgi(req: mp_request) -> tuple[dict[str, str], TextIO, TextIO]: ...
def restore_nocgi(sav_env: dict[str, str], si: TextIO, so: TextIO) -> None: ...
def log_error(message: str | bytes | None, level: int = ..., server: mp_server | None = ...) -> None: ...
def register_cleanup(callable: Callable[[Any], object], data: Any = ...) -> None: ...
def config_tree() -> list[Any]: ...
def server_root() -> str: ...
def mpm_query(code: int) -> int: ...
def exists_config_define(name: str) -> bool: ...
def stat(fname: str | bytes, wanted: int) -> mp_finfo: ...


class NullIO:
    """A file that reads nothing and swallows writes."""
    def tell(self) -> int: ...
    def read(self, n: int = ...) -> Any: ...
    def readline(self, length: int | None = ...) -> Any: ...
    def readlines(self) -> list[Any]: ...
    def write(self, s: Any) -> None: ...
    def writelines(self, lst: Iterable[Any]) -> None: ...
    def isatty(self) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...
    def detach(self) -> None: ...
    def seek(self, pos: int, mode: int = ...) -> None: ...


class CGIStdin(NullIO):
    """sys.stdin for CGI-style code: the request body."""
    pos: int
    req: mp_request
    BLOCK: int
    buf: bytes
    def __init__(self, req: mp_request) -> None: ...
    def read(self, n: int = ...) -> bytes: ...
    def readline(self, n: int = ...) -> bytes: ...  # type: ignore[override]
    def readlines(self) -> list[bytes]: ...


class CGIStdout(NullIO):
    """sys.stdout for CGI-style code: parses the CGI header block."""
    pos: int
    req: mp_request
    headers_sent: int
    headers: bytes
    def __init__(self, req: mp_request) -> None: ...
    def write(self, s: str | bytes) -> None: ...


class CallBack:
    """The object the C module calls into, one per interpreter."""
    def HandlerDispatch(self, req: mp_request, flags: int | None = ...,
                        _result: int | None = ...) -> int: ...
    def HandlerResolve(self, req: mp_request,
                       flags: int) -> tuple[types.ModuleType, str] | int | None: ...
    def HandlerResult(self, req: mp_request, flags: int, result: Any,
                      exc: BaseException | None) -> int: ...
    def FilterDispatch(self, filter: mp_filter, flags: int | None = ...) -> int: ...
    def ConnectionDispatch(self, conn: mp_conn, flags: int | None = ...) -> int: ...
    def IncludeDispatch(self, filter: mp_filter, tag: str, code: str,
                        flags: int | None = ...) -> int: ...
    def ImportDispatch(self, name: str,
                       server: mp_server | None = ...) -> types.ModuleType | None: ...
    def ReportError(self, etype: type[BaseException] | None, evalue: BaseException | None,
                    etb: types.TracebackType | None, req: mp_request | None = ...,
                    filter: mp_filter | None = ..., srv: mp_server | None = ...,
                    phase: str = ..., hname: str = ..., debug: int = ...) -> int: ...


# ------------------------------------------------------------- constants

APLOG_ALERT: int
APLOG_CRIT: int
APLOG_DEBUG: int
APLOG_EMERG: int
APLOG_ERR: int
APLOG_INFO: int
APLOG_NOERRNO: int
APLOG_NOTICE: int
APLOG_WARNING: int
APR_BLK: int
APR_CHR: int
APR_DIR: int
APR_FINFO_ATIME: int
APR_FINFO_CSIZE: int
APR_FINFO_CTIME: int
APR_FINFO_DEV: int
APR_FINFO_DIRENT: int
APR_FINFO_GPROT: int
APR_FINFO_GROUP: int
APR_FINFO_ICASE: int
APR_FINFO_IDENT: int
APR_FINFO_INODE: int
APR_FINFO_LINK: int
APR_FINFO_MIN: int
APR_FINFO_MTIME: int
APR_FINFO_NAME: int
APR_FINFO_NLINK: int
APR_FINFO_NORM: int
APR_FINFO_OWNER: int
APR_FINFO_PROT: int
APR_FINFO_SIZE: int
APR_FINFO_TYPE: int
APR_FINFO_UPROT: int
APR_FINFO_USER: int
APR_FINFO_WPROT: int
APR_LNK: int
APR_NOFILE: int
APR_PIPE: int
APR_REG: int
APR_SOCK: int
APR_UNKFILE: int
AP_CONN_CLOSE: int
AP_CONN_KEEPALIVE: int
AP_CONN_UNKNOWN: int
AP_MPMQ_DYNAMIC: int
AP_MPMQ_HARD_LIMIT_DAEMONS: int
AP_MPMQ_HARD_LIMIT_THREADS: int
AP_MPMQ_IS_FORKED: int
AP_MPMQ_IS_THREADED: int
AP_MPMQ_MAX_DAEMONS: int
AP_MPMQ_MAX_DAEMON_USED: int
AP_MPMQ_MAX_REQUESTS_DAEMON: int
AP_MPMQ_MAX_SPARE_DAEMONS: int
AP_MPMQ_MAX_SPARE_THREADS: int
AP_MPMQ_MAX_THREADS: int
AP_MPMQ_MIN_SPARE_DAEMONS: int
AP_MPMQ_MIN_SPARE_THREADS: int
AP_MPMQ_NOT_SUPPORTED: int
AP_MPMQ_STATIC: int
AP_REQ_ACCEPT_PATH_INFO: int
AP_REQ_DEFAULT_PATH_INFO: int
AP_REQ_REJECT_PATH_INFO: int
CGI_MAGIC_TYPE: str
DECLINED: int
DIR_MAGIC_TYPE: str
DONE: int
FINFO_ATIME: int
FINFO_CTIME: int
FINFO_DEV: int
FINFO_FILETYPE: int
FINFO_FNAME: int
FINFO_GID: int
FINFO_INO: int
FINFO_MODE: int
FINFO_MTIME: int
FINFO_NAME: int
FINFO_NLINK: int
FINFO_SIZE: int
FINFO_UID: int
HTTP_ACCEPTED: int
HTTP_BAD_GATEWAY: int
HTTP_BAD_REQUEST: int
HTTP_CONFLICT: int
HTTP_CONTINUE: int
HTTP_CREATED: int
HTTP_EXPECTATION_FAILED: int
HTTP_FAILED_DEPENDENCY: int
HTTP_FORBIDDEN: int
HTTP_GATEWAY_TIME_OUT: int
HTTP_GONE: int
HTTP_IM_A_TEAPOT: int
HTTP_INSUFFICIENT_STORAGE: int
HTTP_INTERNAL_SERVER_ERROR: int
HTTP_LENGTH_REQUIRED: int
HTTP_LOCKED: int
HTTP_METHOD_NOT_ALLOWED: int
HTTP_MOVED_PERMANENTLY: int
HTTP_MOVED_TEMPORARILY: int
HTTP_MULTIPLE_CHOICES: int
HTTP_MULTI_STATUS: int
HTTP_NON_AUTHORITATIVE: int
HTTP_NOT_ACCEPTABLE: int
HTTP_NOT_EXTENDED: int
HTTP_NOT_FOUND: int
HTTP_NOT_IMPLEMENTED: int
HTTP_NOT_MODIFIED: int
HTTP_NO_CONTENT: int
HTTP_OK: int
HTTP_PARTIAL_CONTENT: int
HTTP_PAYMENT_REQUIRED: int
HTTP_PRECONDITION_FAILED: int
HTTP_PROCESSING: int
HTTP_PROXY_AUTHENTICATION_REQUIRED: int
HTTP_RANGE_NOT_SATISFIABLE: int
HTTP_REQUEST_ENTITY_TOO_LARGE: int
HTTP_REQUEST_TIME_OUT: int
HTTP_REQUEST_URI_TOO_LARGE: int
HTTP_RESET_CONTENT: int
HTTP_SEE_OTHER: int
HTTP_SERVICE_UNAVAILABLE: int
HTTP_SWITCHING_PROTOCOLS: int
HTTP_TEMPORARY_REDIRECT: int
HTTP_UNAUTHORIZED: int
HTTP_UNPROCESSABLE_ENTITY: int
HTTP_UNSUPPORTED_MEDIA_TYPE: int
HTTP_UPGRADE_REQUIRED: int
HTTP_USE_PROXY: int
HTTP_VARIANT_ALSO_VARIES: int
HTTP_VERSION_NOT_SUPPORTED: int
INCLUDES_MAGIC_TYPE: str
INCLUDES_MAGIC_TYPE3: str
MODULE_MAGIC_NUMBER_MAJOR: int
MODULE_MAGIC_NUMBER_MINOR: int
M_BASELINE_CONTROL: int
M_CHECKIN: int
M_CHECKOUT: int
M_CONNECT: int
M_COPY: int
M_DELETE: int
M_GET: int
M_INVALID: int
M_LABEL: int
M_LOCK: int
M_MERGE: int
M_MKACTIVITY: int
M_MKCOL: int
M_MKWORKSPACE: int
M_MOVE: int
M_OPTIONS: int
M_PATCH: int
M_POST: int
M_PROPFIND: int
M_PROPPATCH: int
M_PUT: int
M_REPORT: int
M_TRACE: int
M_UNCHECKOUT: int
M_UNLOCK: int
M_UPDATE: int
M_VERSION_CONTROL: int
OK: int
PROXYREQ_NONE: int
PROXYREQ_PROXY: int
PROXYREQ_RESPONSE: int
PROXYREQ_REVERSE: int
REMOTE_DOUBLE_REV: int
REMOTE_HOST: int
REMOTE_NAME: int
REMOTE_NOLOOKUP: int
REQUEST_CHUNKED_DECHUNK: int
REQUEST_CHUNKED_ERROR: int
REQUEST_NO_BODY: int
REQ_ABORTED: int
REQ_EXIT: str
REQ_NOACTION: int
REQ_PROCEED: int
URI_FRAGMENT: int
URI_HOSTINFO: int
URI_HOSTNAME: int
URI_PASSWORD: int
URI_PATH: int
URI_PORT: int
URI_QUERY: int
URI_SCHEME: int
URI_USER: int
