"""mod_python.publisher: map URLs to objects in Python files.

    AddHandler mod_python .py
    PythonHandler mod_python.publisher

`/dir/page.py/obj/attr` loads `/dir/page.py` (through the reload engine,
`importer.load_file`, so PythonAutoReload covers published pages and what
they import), walks `obj.attr` under the traversal rules below, checks
`__auth__`/`__access__` at every step, calls the final object with the form
fields as keyword arguments when it is callable and writes the result.

Differences from 3.5 (its bugs, fixed):

* Basic credentials are decoded with `base64.b64decode` (UTF-8, Latin-1
  fallback); only a malformed header gives 400.
* `__auth__` as a dict works; `__access__` may also be a set.
* `__auth__`/`__access__`/`__auth_realm__` defined inside a function body
  are found from the function's bytecode (see `_body_markers`), which works
  on every Python 3.11+ code layout; a marker that cannot be evaluated is
  refused with 500 instead of being ignored.  The bodies of functions a
  decorator wrapped (`__wrapped__`) are searched too, and attributes set on
  the function object itself (`f.__auth__ = ...`) are honoured when no body
  has the marker.
* The module file is served under httpd's own rules: one the publisher
  picks itself (`name` + `.py`, `index.py`) goes through a sub-request
  (`req.lookup_file`: `Options FollowSymLinks`/`SymLinksIfOwnerMatch`,
  access control), and a symbolic link's target must pass there too, so
  `/d/link` is refused exactly when `/d/link.py` is (3.5 opened the file
  past `Options None` and the target directory's `Require`).
* Every class object (also those with a metaclass) and every module object
  is neither traversable nor publishable.
* `bytes` results are written as they are (3.5 wrote their repr);
  iterators and generators are published item by item; `str` results get
  `; charset=utf-8` when the publisher chooses the content type, and are
  encoded with the charset of a content type set by the page.
"""

import base64
import binascii
import collections.abc
import dis
import hmac
import os
import re
import types

from mod_python import apache
from mod_python import importer

__all__ = ["handler", "process_auth", "resolve_object", "publish_object",
           "page_cache", "tp_rules", "default_tp_rule"]

_MARKERS = ("__auth__", "__access__", "__auth_realm__")

# ------------------------------------------------------------------ rules

# (traversable, publishable) by exact type: the types of the `types` module
# (functions, methods, code, frames, descriptors, ...) may be published but
# not traversed; modules, builtin functions/methods and classes neither.
tp_rules = {t: (False, True) for t in vars(types).values() if isinstance(t, type)}
tp_rules.update({
    types.ModuleType: (False, False),
    types.BuiltinFunctionType: (False, False),
    type: (False, False),
    types.GeneratorType: (False, True),
})
default_tp_rule = (True, True)     # user instances, dict, list, str, ...


def _rule(obj):
    rule = tp_rules.get(type(obj))
    if rule is not None:
        return rule
    if isinstance(obj, (type, types.ModuleType)):
        return (False, False)      # classes with a metaclass, module subclasses
    return default_tp_rule


# ------------------------------------------------------------- handler

def _suffix_re(req):
    suffixes = ["py"]
    suffixes.extend(e.lstrip(".") for e in req.get_addhandler_exts().split())
    ext = req.extension
    if ext:
        suffixes.append(ext.lstrip("."))
    alts = "|".join(re.escape(s) for s in dict.fromkeys(suffixes) if s)
    return re.compile(r"\.(?:%s)$" % alts)


def _locate(req):
    """The module file and the dotted object path for this request (the
    traversal rules of mod_python 3.5's publisher); sets req.filename to the
    module file."""
    directory, name = os.path.split(req.filename)
    if not name:
        name = "index"                  # a request for a directory
    name = _suffix_re(req).sub("", name, count=1)

    func_path = ""
    if req.path_info:
        func_path = req.path_info[1:]
        if func_path.endswith("/"):
            func_path = func_path[:-1]

    path = os.path.join(directory, name + ".py")
    if not os.path.isfile(path):
        func_path = name + "/" + func_path if func_path else name
        path = os.path.join(directory, "index.py")
        if not os.path.isfile(path):
            req.log_error("MP0397: mod_python.publisher: no module for %s (tried %s.py "
                          "and index.py in %s)" % (req.uri, name, directory),
                          apache.APLOG_INFO)
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
    if not func_path:
        func_path = "index"
    path = os.path.normpath(path)
    _check_served(req, path, path != os.path.normpath(req.filename))
    req.filename = path
    return req.filename, func_path.replace("/", ".")


def _link_target(path):
    """None when path is not a symbolic link; else the file it ends at,
    spelt through the nearest ancestor directory of path that contains it
    (so that the <Directory> sections written for that spelling apply)."""
    if not os.path.islink(path):
        return None
    real = os.path.realpath(path)
    where = os.path.dirname(path)
    while True:
        prefix = os.path.join(os.path.realpath(where), "")
        if real.startswith(prefix):
            return os.path.join(where, real[len(prefix):])
        parent = os.path.dirname(where)
        if parent == where:
            return real
        where = parent


def _check_served(req, path, chosen):
    """Refuse a module file httpd would not serve.  A file the publisher
    chose itself (name + ".py", index.py) goes through a sub-request
    (req.lookup_file: Options FollowSymLinks/SymLinksIfOwnerMatch, access
    control) -- the one httpd mapped the URL to has been through it; a
    symbolic link's target must pass there too (its <Directory>'s Require)."""
    checks = [path] if chosen else []
    target = _link_target(path)
    if target is not None:
        checks.append(target)
    for what in checks:
        status = req.lookup_file(what)
        if status != apache.OK:
            req.log_error("MP0394: mod_python.publisher: module %s for %s refused by the "
                          "server's rules%s (status %d)"
                          % (path, req.uri, "" if what == path else " for its link target "
                             + what, status), apache.APLOG_ERR)
            raise apache.SERVER_RETURN(status if status >= 400 else apache.HTTP_FORBIDDEN)


def _load_page(req):
    """The page's module through the reload engine (the page cache)."""
    config = req.get_config()
    autoreload = config.get("PythonAutoReload") != "0"
    log = config.get("PythonDebug") == "1"
    return importer.load_file(req.filename, autoreload, log)


class _PageCache:
    """3.5 compatibility: `page_cache[req]` is the module for req.filename."""

    def __getitem__(self, req):
        return _load_page(req)


page_cache = _PageCache()


def handler(req):
    req.allow_methods(["GET", "POST", "HEAD"])
    if req.method not in ("GET", "POST", "HEAD"):
        raise apache.SERVER_RETURN(apache.HTTP_METHOD_NOT_ALLOWED)

    _, func_path = _locate(req)
    module = _load_page(req)

    realm, user, passwd = process_auth(req, module)
    obj = resolve_object(req, module, func_path, realm, user, passwd)
    published = publish_object(req, obj)

    if not published and not req.bytes_sent and not req.sent_bodyct and req.next is None:
        if req.get_config().get("PythonDebug") == "1":
            req.log_error("MP0390: mod_python.publisher: nothing to publish.",
                          apache.APLOG_NOTICE)
    return apache.OK


# ------------------------------------------------------------ traversal

def resolve_object(req, obj, object_str, realm=None, user=None, passwd=None):
    """Walk the dotted `object_str` from `obj` (the module) under the
    traversal rules, authenticating at every step; return the object."""
    first = True
    part = object_str
    for part in object_str.split("."):
        if not part:
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        if part.startswith("_"):
            req.log_error("MP0391: Cannot traverse %s in %s because it starts with an "
                          "underscore" % (part, req.unparsed_uri), apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        if first:
            first = False
        elif not _rule(obj)[0]:
            req.log_error("MP0392: Cannot traverse %s in %s because %s is not a "
                          "traversable object" % (part, req.unparsed_uri, _describe(obj)),
                          apache.APLOG_WARNING)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
        try:
            obj = getattr(obj, part)
        except AttributeError:
            req.log_error("MP0397: mod_python.publisher: no object %r (looking up %s in %s)"
                          % (part, object_str, req.filename), apache.APLOG_INFO)
            raise apache.SERVER_RETURN(apache.HTTP_NOT_FOUND)
        realm, user, passwd = process_auth(req, obj, realm, user, passwd)

    if not _rule(obj)[1]:
        req.log_error("MP0393: Cannot publish %s in %s because %s is not publishable"
                      % (part, req.unparsed_uri, _describe(obj)), apache.APLOG_WARNING)
        raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)
    return obj


def _describe(obj):
    try:
        text = repr(obj)
    except Exception:
        text = "<%s object>" % type(obj).__name__
    return text if len(text) <= 200 else text[:200] + "..."


# ------------------------------------------------- markers in a function

class _Underflow(Exception):
    pass


class _Unsupported(Exception):
    pass


_STORES = frozenset(("STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF"))
_SKIP = frozenset(("NOP", "EXTENDED_ARG", "CACHE"))
_BUILDS = {"BUILD_LIST": list, "BUILD_TUPLE": tuple, "BUILD_SET": set}
_UPDATES = {"LIST_EXTEND": "extend", "SET_UPDATE": "update",
            "DICT_UPDATE": "update", "DICT_MERGE": "update",
            "LIST_APPEND": "append", "SET_ADD": "add"}
_EXPR_OPS = frozenset(("LOAD_CONST", "LOAD_SMALL_INT", "LOAD_GLOBAL", "LOAD_NAME",
                       "BUILD_MAP", "BUILD_CONST_KEY_MAP", "LIST_TO_TUPLE",
                       "CALL_INTRINSIC_1", "MAKE_FUNCTION", "SET_FUNCTION_ATTRIBUTE")) \
    | _SKIP | frozenset(_BUILDS) | frozenset(_UPDATES)


def _pop(stack, n=1):
    if n > len(stack):
        raise _Underflow()
    if n == 0:
        return []
    items = stack[-n:]
    del stack[-n:]
    return items


def _lookup_global(name, func_globals):
    if name in func_globals:
        return func_globals[name]
    builtins = func_globals.get("__builtins__")
    if isinstance(builtins, types.ModuleType):
        builtins = vars(builtins)
    if isinstance(builtins, dict) and name in builtins:
        return builtins[name]
    raise _Unsupported("global name %r is not defined" % name)


def _make_function(stack, flags, func_globals):
    """MAKE_FUNCTION of 3.11/3.12 (flags in the argument; 3.10's qualname
    on top of the code is accepted too) and 3.13+ (flags 0, attributes set
    by SET_FUNCTION_ATTRIBUTE)."""
    (top,) = _pop(stack)
    if isinstance(top, str):           # Python <= 3.10: qualname above the code
        (top,) = _pop(stack)
    if not isinstance(top, types.CodeType):
        raise _Unsupported("MAKE_FUNCTION without a code object")
    if flags & 0x08 or top.co_freevars:
        raise _Unsupported("it uses variables of the enclosing function (a closure)")
    annotations = _pop(stack)[0] if flags & 0x04 else None
    kwdefaults = _pop(stack)[0] if flags & 0x02 else None
    defaults = _pop(stack)[0] if flags & 0x01 else None
    func = types.FunctionType(top, func_globals, top.co_name, defaults)
    if kwdefaults:
        func.__kwdefaults__ = dict(kwdefaults)
    if isinstance(annotations, dict):
        func.__annotations__ = annotations
    return func


def _set_function_attribute(stack, flag):
    func, = _pop(stack)
    value, = _pop(stack)
    if not isinstance(func, types.FunctionType):
        raise _Unsupported("SET_FUNCTION_ATTRIBUTE on a non-function")
    if flag & 0x08:
        raise _Unsupported("it uses variables of the enclosing function (a closure)")
    if flag & 0x01:
        func.__defaults__ = tuple(value)
    elif flag & 0x02:
        func.__kwdefaults__ = dict(value)
    elif flag & 0x04 and isinstance(value, dict):
        func.__annotations__ = value
    stack.append(func)


def _step(stack, ins, func_globals):
    op = ins.opname
    if op in _SKIP:
        return
    if op in ("LOAD_CONST", "LOAD_SMALL_INT"):
        stack.append(ins.argval)
    elif op in ("LOAD_GLOBAL", "LOAD_NAME"):
        if op == "LOAD_GLOBAL" and ins.arg is not None and ins.arg & 1:
            raise _Unsupported("a call")        # 3.11+: NULL + global, a call follows
        stack.append(_lookup_global(ins.argval, func_globals))
    elif op in _BUILDS:
        stack.append(_BUILDS[op](_pop(stack, ins.arg)))
    elif op == "BUILD_MAP":
        flat = _pop(stack, 2 * ins.arg)
        stack.append(dict(zip(flat[0::2], flat[1::2])))
    elif op == "BUILD_CONST_KEY_MAP":
        (keys,) = _pop(stack)
        stack.append(dict(zip(keys, _pop(stack, ins.arg))))
    elif op in _UPDATES:
        (seq,) = _pop(stack)
        if ins.arg < 1 or ins.arg > len(stack):
            raise _Underflow()
        getattr(stack[-ins.arg], _UPDATES[op])(seq)
    elif op == "LIST_TO_TUPLE" or \
            (op == "CALL_INTRINSIC_1" and "LIST_TO_TUPLE" in (ins.argrepr or "")):
        (seq,) = _pop(stack)
        stack.append(tuple(seq))
    elif op == "MAKE_FUNCTION":
        stack.append(_make_function(stack, ins.arg or 0, func_globals))
    elif op == "SET_FUNCTION_ATTRIBUTE":
        _set_function_attribute(stack, ins.arg or 0)
    else:
        raise _Unsupported(op)


def _evaluate_store(instrs, k, func_globals):
    """The value stored by instrs[k]: run the shortest run of side-effect
    free instructions before it that leaves exactly one value (a postfix
    expression), refusing runs that control flow could enter midway."""
    for s in range(k - 1, max(-1, k - 200), -1):
        if getattr(instrs[s + 1], "is_jump_target", False):
            break
        if instrs[s].opname not in _EXPR_OPS:
            break
        stack = []
        try:
            for ins in instrs[s:k]:
                _step(stack, ins, func_globals)
        except _Underflow:
            continue
        if len(stack) == 1:
            return stack[0]
        break
    raise _Unsupported("the assigned value is not a literal, a global name or a "
                       "nested function")


def _marker_value(func, instrs, k, marker):
    code = func.__code__
    try:
        return _evaluate_store(instrs, k, func.__globals__)
    except (_Unsupported, _Underflow, TypeError, ValueError) as e:
        pos = getattr(instrs[k], "positions", None)
        line = pos.lineno if pos is not None and pos.lineno else code.co_firstlineno
        raise ValueError("%s in %s() (%s, line %s) cannot be determined without "
                         "running the function: %s"
                         % (marker, code.co_name, code.co_filename, line,
                            e or "unsupported")) from None


def _equivalent(a, b):
    if isinstance(a, types.FunctionType) and isinstance(b, types.FunctionType):
        return a.__code__ is b.__code__ and a.__defaults__ == b.__defaults__
    return type(a) is type(b) and a == b


def _body_markers(func):
    """The __auth__/__access__/__auth_realm__ assigned or defined in the
    body of `func`: {name: value}.

    3.5 guessed the value's index in co_consts from the variable's index
    (a layout that changed in 3.11).  Here the function's instructions are
    read with `dis`: every store to a marker name must be preceded by a
    self-contained expression made of constants, global names, list/tuple/
    set/dict displays and nested `def`/`lambda` (rebuilt with the published
    function's globals, as 3.5 did), which is evaluated without running the
    function.  Raises ValueError for a marker that cannot be determined
    (assigned different values, computed, or a closure): such a marker is
    refused, never ignored.
    """
    code = func.__code__
    names = set(code.co_varnames) | set(code.co_cellvars) | set(code.co_names)
    wanted = [m for m in _MARKERS if m in names]
    if not wanted:
        return {}
    instrs = list(dis.get_instructions(code))
    found = {}
    for marker in wanted:
        stores = [i for i, ins in enumerate(instrs)
                  if ins.opname in _STORES and ins.argval == marker]
        values = [_marker_value(func, instrs, k, marker) for k in stores]
        # the compiler may emit one statement twice (3.12+: finally bodies)
        if any(not _equivalent(values[0], v) for v in values[1:]):
            raise ValueError("%s is assigned %d different values in %s() (%s)"
                             % (marker, len(values), code.co_name, code.co_filename))
        if values:
            found[marker] = values[0]
    return found


# -------------------------------------------------------- authentication

def _credentials(req):
    """(user, password) from a Basic Authorization header, (None, None)
    without one; 400 for a malformed header or another scheme."""
    header = req.headers_in.get("Authorization")
    if header is None:
        return None, None
    scheme, _, token = header.strip().partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError("scheme %r is not Basic" % scheme)
        raw = base64.b64decode(token.strip())
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        if ":" not in text:
            raise ValueError("no ':' in the credentials")
        user, passwd = text.split(":", 1)
    except (ValueError, binascii.Error) as e:
        req.log_error("MP0396: mod_python.publisher: bad Authorization header for %s: %s"
                      % (req.unparsed_uri, e), apache.APLOG_INFO)
        raise apache.SERVER_RETURN(apache.HTTP_BAD_REQUEST)
    return user, passwd


def _same_secret(expected, given):
    if isinstance(expected, str) and isinstance(given, str):
        return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"),
                                   given.encode("utf-8", "surrogatepass"))
    return expected == given


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _challenge(req, realm):
    realm = _CONTROL.sub(" ", str(realm)).replace("\\", "\\\\").replace('"', '\\"')
    value = 'Basic realm="%s"' % realm
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        value = value.encode("utf-8")          # header values are bytes on the wire
    req.err_headers_out["WWW-Authenticate"] = value
    raise apache.SERVER_RETURN(apache.HTTP_UNAUTHORIZED)


def _markers(req, obj):
    """{marker: value} for obj: from the body of a function or method (and
    of the functions it wraps, `functools.wraps`' __wrapped__, outermost
    first), then, for what is still missing, from its attributes."""
    func = obj.__func__ if type(obj) is types.MethodType else obj
    found = {}
    seen = 0
    while type(func) is types.FunctionType and seen < 16:
        try:
            for name, value in _body_markers(func).items():
                found.setdefault(name, value)
        except ValueError as e:
            req.log_error("MP0395: mod_python.publisher: refusing %s: %s"
                          % (req.unparsed_uri, e), apache.APLOG_ERR)
            raise apache.SERVER_RETURN(apache.HTTP_INTERNAL_SERVER_ERROR)
        func = getattr(func, "__wrapped__", None)
        seen += 1
    for name in ("__auth__", "__access__"):
        if name not in found and hasattr(obj, name):
            found[name] = getattr(obj, name)
    return found


def process_auth(req, object, realm="unknown", user=None, passwd=None):
    """Check `object`'s __auth__ and __access__ (as mod_python 3.5's manual
    describes them).  Returns (realm, user, passwd) for the next traversal
    step."""
    if hasattr(object, "__auth_realm__"):
        realm = object.__auth_realm__
    found = _markers(req, object)
    if "__auth_realm__" in found:
        realm = found["__auth_realm__"]
    if "__auth__" not in found and "__access__" not in found:
        return realm, user, passwd

    if not user:
        user, passwd = _credentials(req)

    if "__auth__" in found:
        auth = found["__auth__"]
        if not user:
            _challenge(req, realm)
        if callable(auth):
            rc = auth(req, user, passwd)
        elif isinstance(auth, collections.abc.Mapping):
            rc = user in auth and _same_secret(auth[user], passwd)
        else:
            rc = auth
        if not rc:
            req.log_error("MP0398: mod_python.publisher: authentication of user %r failed "
                          "for %s" % (user, req.unparsed_uri), apache.APLOG_INFO)
            _challenge(req, realm)

    if "__access__" in found:
        access = found["__access__"]
        if callable(access):
            rc = access(req, user)
        elif isinstance(access, (list, tuple, set, frozenset)):
            rc = user in access
        else:
            rc = access
        if not rc:
            req.log_error("MP0399: mod_python.publisher: access denied to user %r for %s"
                          % (user, req.unparsed_uri), apache.APLOG_INFO)
            raise apache.SERVER_RETURN(apache.HTTP_FORBIDDEN)

    return realm, user, passwd


# ------------------------------------------------------------ publishing

_HTML_END = re.compile(r"</html\s*>\s*$", re.I)
_HTML_START = re.compile(r"^\s*<(?:!doctype\s+html|html)[\s>]", re.I)
_HTML_END_B = re.compile(rb"</html\s*>\s*$", re.I)
_HTML_START_B = re.compile(rb"^\s*<(?:!doctype\s+html|html)[\s>]", re.I)
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.I)


def _looks_html(data):
    if isinstance(data, str):
        return bool(_HTML_END.search(data[-100:]) or _HTML_START.match(data[:100]))
    return bool(_HTML_END_B.search(data[-100:]) or _HTML_START_B.match(data[:100]))


def _encode(req, text):
    """Encode a str result with the charset of the content type the page
    set, else UTF-8."""
    m = _CHARSET.search(req.content_type or "")
    if m is None:
        return text.encode("utf-8", "surrogateescape")
    charset = m.group(1)
    try:
        "".encode(charset)
    except LookupError:
        return text.encode("utf-8", "surrogateescape")
    html = (req.content_type or "").lower().startswith(("text/html", "application/xhtml"))
    return text.encode(charset, "xmlcharrefreplace" if html else "strict")


def _emit(req, data):
    """Write one str/bytes chunk, choosing the content type first if the
    page did not set one.  Returns True if anything was published."""
    if not req._content_type_set:
        ctype = "text/html" if _looks_html(data) else "text/plain"
        if isinstance(data, str):
            ctype += "; charset=utf-8"
        req.content_type = ctype
    if isinstance(data, str):
        data = _encode(req, data)
    req.write(data, 0)
    return True


def _publish_value(req, value):
    """Publish a value that is not called: str/bytes as they are,
    iterators item by item, None as nothing, anything else as str()."""
    if value is None:
        return False
    if isinstance(value, (str, bytes, bytearray, memoryview)):
        return _emit(req, bytes(value) if isinstance(value, memoryview) else value)
    if isinstance(value, collections.abc.Iterator):
        published = False
        for item in value:
            published = _publish_value(req, item) or published
        return published
    return _emit(req, str(value))


def publish_object(req, object):
    """Call `object` with the form data if it is callable (again while the
    result is callable) and write the result.  Returns False when nothing
    was published (None)."""
    from mod_python import util
    for _ in range(100):
        if not callable(object):
            return _publish_value(req, object)
        form = getattr(req, "form", None)
        if form is None:
            form = req.form = util.FieldStorage(req, keep_blank_values=1)
        object = util.apply_fs_data(object, form, req=req)
    raise RuntimeError("mod_python.publisher: %s: the published object still returned a "
                       "callable after 100 calls" % req.unparsed_uri)
