"""mod_python.util: form data (FieldStorage), redirects and helpers.

Form data
---------
``FieldStorage(req)`` reads the query string and, for POST, an
``application/x-www-form-urlencoded`` or ``multipart/form-data`` body.

Text handling: field names, values and upload filenames are ``str``.  The
bytes the client sent are decoded as UTF-8; a name, value or filename that
is not valid UTF-8 is decoded as Latin-1 instead (the same rule the C module
uses for query strings and headers).  Decoding therefore never fails, and
nothing is lost: ``s.encode("latin-1")`` gives the client's bytes back when
the fallback was used.  The raw bytes of every multipart part stay
available through ``field.file``; uploaded file contents (``Field.value``)
are ``bytes``.

Limits: multipart bodies are streamed (the body is read with
``req.read(n)`` in blocks and every uploaded file goes to a temporary file),
so memory use does not grow with upload size.  Data that must be held in
memory is bounded: see ``max_memory_size``, ``max_fields`` and ``max_files``
below.  A request over a limit is refused with 413, a malformed body with
400, a POST without a length with 411 and an unknown body type with 501
(each raised as ``apache.SERVER_RETURN`` and logged at level info with the
reason).  A body the client cuts short or sends too slowly gets the status
``req.read()`` raises for it (400, 408; logged there).
"""

import html
import inspect
import io
import re
import tempfile
import urllib.parse

import _apache
from mod_python import apache

parse_qs = _apache.parse_qs
parse_qsl = _apache.parse_qsl

# Longest line accepted in multipart part headers (name kept from 3.5).
readBlockSize = 65368

# Defaults for the limits.  Each can be overridden per FieldStorage with the
# keyword argument of the same name, or per directory with
# "PythonOption mod_python.util.<name> <int>" (the keyword wins).
max_memory_size = 16 * 1024 * 1024   # urlencoded body + in-memory multipart fields
max_fields = 10000                   # fields in a POST body
max_files = 100                      # file uploads (temporary files) per request

_CHUNK = 64 * 1024                   # body read size
_MAX_PART_HEADERS = 64 * 1024        # header block of one multipart part
_MAX_BOUNDARY = 200                  # RFC 2046 allows 70
_MAX_PADDING = 128                   # transport padding after a boundary

_MethodWrapper = type(object.__call__)
_WrapperDescriptor = type(object.__init__)


def _decode(b):
    """bytes -> str: UTF-8, or Latin-1 when the bytes are not UTF-8."""
    if isinstance(b, str):
        return b
    b = bytes(b)
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def _text(x, what):
    if isinstance(x, str):
        return x
    if isinstance(x, (bytes, bytearray, memoryview)):
        return _decode(x)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(x).__name__))


class _FormError(Exception):
    """Refuse the request: status, log tag, reason."""

    def __init__(self, status, tag, reason):
        Exception.__init__(self, reason)
        self.status = status
        self.tag = tag
        self.reason = reason


# ------------------------------------------------------------------ fields

class Field:
    """One uploaded file (a multipart part with a filename).

    Attributes: name, filename (str), file (the open file holding the
    data, rewound), type, type_options, disposition, disposition_options,
    headers (table of the part's headers).  ``value`` reads the whole file
    and returns it as bytes (None without a file).
    """

    def __init__(self, name, *args, **kw):
        self.name = name
        self.file = None
        self.filename = None
        self.type = None
        self.type_options = {}
        self.disposition = None
        self.disposition_options = {}
        self.headers = {}
        if args or kw:
            self._compat_init(*args, **kw)

    def _compat_init(self, file, ctype, type_options, disp, disp_options, headers={}):
        # The pre-3.3 constructor, still used by some applications.
        self.file = file
        self.type = ctype
        self.type_options = type_options
        self.disposition = disp
        self.disposition_options = disp_options
        self.filename = disp_options.get("filename") if disp_options else None
        self.headers = headers

    def __getattr__(self, name):
        if name != "value":
            raise AttributeError(name)
        f = self.__dict__.get("file")
        if not f:
            return None
        f.seek(0)
        value = f.read()
        f.seek(0)
        if not isinstance(value, bytes):
            raise TypeError("value must be bytes, is file opened in binary mode?")
        return value

    def __repr__(self):
        return "Field(%r, %r)" % (self.name, self.value)

    def __del__(self):
        f = self.__dict__.get("file")
        if f is not None:
            try:
                f.close()
            except Exception:
                pass


class StringField(str):
    """A form field that is not a file upload: a ``str`` holding the value.

    ``StringField(value)``: value is str, or bytes decoded as UTF-8 with the
    Latin-1 fallback.  ``.value`` is the value as a plain str, ``.name`` the
    field name; ``.file`` (created on first use unless the parser set it)
    is a binary file with the bytes of the value.
    """

    name = None
    filename = None
    headers = {}
    ctype = type = "text/plain"
    type_options = {}
    disposition = None
    disp_options = disposition_options = None

    def __new__(cls, value=""):
        raw = None
        if isinstance(value, (bytes, bytearray, memoryview)):
            raw = bytes(value)
            value = _decode(raw)
        elif not isinstance(value, str):
            raise TypeError("field value must be str or bytes, not %s"
                            % value.__class__.__name__)
        self = str.__new__(cls, value)
        self.value = str(value)
        self._raw = raw
        return self

    def __getattr__(self, name):
        if name != "file":
            raise AttributeError(name)
        raw = self.__dict__.get("_raw")
        f = io.BytesIO(raw if raw is not None else self.value.encode("utf-8"))
        self.file = f
        return f

    def __repr__(self):
        return "Field(%r, %r)" % (self.name, self.value)


class FieldList(list):
    """The fields in submission order; ``table()`` maps name -> [fields]
    (cached, dropped on every change of the list)."""

    def __init__(self, *args):
        list.__init__(self, *args)
        self._table = None

    def table(self):
        t = self._table
        if t is None:
            t = {}
            for item in self:
                t.setdefault(getattr(item, "name", None), []).append(item)
            self._table = t
        return t


def _invalidating(meth):
    def wrapper(self, *args, **kw):
        self._table = None
        return meth(self, *args, **kw)
    wrapper.__name__ = meth.__name__
    wrapper.__doc__ = meth.__doc__
    return wrapper


for _m in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
           "insert", "pop", "remove", "clear", "sort", "reverse"):
    setattr(FieldList, _m, _invalidating(getattr(list, _m)))
del _m


# ------------------------------------------------------------ body reading

class _BodyReader:
    """Buffered view of the request body read with req.read(n) in blocks.
    Holds at most one block plus a boundary's worth of bytes."""

    def __init__(self, req):
        self.req = req
        self.buf = bytearray()
        self.eof = False
        self.total = 0

    def fill(self):
        """Append one block; sets eof at the end of the body."""
        if self.eof:
            return
        try:
            data = self.req.read(_CHUNK)
        except apache.SERVER_RETURN:
            raise       # req.read() mapped it (400/408/413) and logged why
        except OSError as e:
            raise _FormError(apache.HTTP_BAD_REQUEST, "MP0375",
                             "client read error while reading the form: %s" % e)
        if not data:
            self.eof = True
        else:
            self.total += len(data)
            self.buf += data

    def readline(self, limit):
        """One line including its newline (b"" at the end of the body).
        A line longer than limit is a malformed body."""
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                if i + 1 > limit:
                    break
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > limit:
                break
            if self.eof:
                line = bytes(self.buf)
                self.buf.clear()
                return line
            start = len(self.buf)
            self.fill()
        raise _FormError(apache.HTTP_BAD_REQUEST, "MP0373",
                         "multipart header line longer than %d bytes" % limit)


class _Multipart:
    """Splits a multipart body at a boundary (RFC 2046), streaming."""

    NEXT, CLOSE, EOF = "next", "close", "eof"

    def __init__(self, reader, boundary):
        self.r = reader
        self.delim = b"--" + boundary
        self.pat = b"\n" + self.delim

    def _need(self, n):
        """Make the buffer hold n bytes unless the body ends first."""
        while len(self.r.buf) < n and not self.r.eof:
            self.r.fill()

    def _after_delim(self, pos):
        """Classify what follows a delimiter ending at pos: (kind, end) or
        None when this is not a boundary line."""
        self._need(pos + 2)
        buf = self.r.buf
        if buf[pos:pos + 2] == b"--":
            return self.CLOSE, pos + 2
        self._need(pos + _MAX_PADDING)
        buf = self.r.buf
        nl = buf.find(b"\n", pos, pos + _MAX_PADDING)
        if nl < 0:
            return None
        pad = bytes(buf[pos:nl])
        if pad.endswith(b"\r"):
            pad = pad[:-1]
        if pad.strip(b" \t"):
            return None
        return self.NEXT, nl + 1

    def is_boundary_line(self, line):
        """NEXT/CLOSE when line (from readline) is a boundary line, else None."""
        if not line.startswith(self.delim):
            return None
        rest = line[len(self.delim):]
        if rest.startswith(b"--"):
            return self.CLOSE
        if rest.rstrip(b"\r\n").strip(b" \t") or not rest.endswith(b"\n"):
            return None
        return self.NEXT

    def copy(self, out, limit=None):
        """Copy body bytes to out (None: discard) up to the next boundary
        line; the line end before the boundary belongs to it.  Returns
        NEXT, CLOSE or EOF.  More than limit bytes -> _FormError(413)."""
        r = self.r
        written = 0

        def emit(data):
            nonlocal written
            written += len(data)
            if limit is not None and written > limit:
                raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                                 "form field data exceeds max_memory_size")
            if out is not None and data:
                out.write(data)

        # a boundary right at the start (no line end before it)
        self._need(len(self.delim))
        if r.buf.startswith(self.delim):
            res = self._after_delim(len(self.delim))
            if res is not None:
                del r.buf[:res[1]]
                return res[0]
        search = 0
        while True:
            idx = r.buf.find(self.pat, search)
            if idx >= 0:
                res = self._after_delim(idx + len(self.pat))
                if res is None:
                    search = idx + 1
                    continue
                end = idx - 1 if idx > 0 and r.buf[idx - 1] == 0x0D else idx
                emit(bytes(r.buf[:end]))
                del r.buf[:res[1]]
                return res[0]
            if r.eof:
                emit(bytes(r.buf))
                r.buf.clear()
                return self.EOF
            keep = len(self.pat)          # a partial match plus the CR before it
            if len(r.buf) > keep:
                emit(bytes(r.buf[:-keep]))
                del r.buf[:-keep]
            search = 0
            r.fill()


# ------------------------------------------------------------- FieldStorage

def parse_qsl_safely(qs, keep_blank_values=0):
    """parse_qsl(), falling back to urllib's on a SystemError (3.5 API)."""
    try:
        return parse_qsl(qs, keep_blank_values)
    except SystemError:
        if isinstance(qs, (bytes, bytearray)):
            pairs = urllib.parse.parse_qsl(bytes(qs).decode("latin-1"),
                                           bool(keep_blank_values), encoding="latin-1")
            return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
        return urllib.parse.parse_qsl(qs, bool(keep_blank_values))


def _limit(req, name, value):
    if value is not None:
        return int(value)
    try:
        opt = req.get_options().get("mod_python.util." + name)
    except Exception:
        opt = None
    if opt:
        try:
            return int(opt)
        except ValueError:
            req.log_error("MP0376: mod_python.util: PythonOption mod_python.util.%s "
                          "%r is not an integer; using %d"
                          % (name, opt, globals()[name]), apache.APLOG_WARNING)
    return globals()[name]


class FieldStorage:
    """All form data of a request, read at construction.

    FieldStorage(req, keep_blank_values=0, strict_parsing=0,
                 file_callback=None, field_callback=None, *,
                 max_memory_size=None, max_fields=None, max_files=None)

    Fields come from the query string and, for POST, from the body
    (urlencoded or multipart/form-data).  ``file_callback(filename)`` may
    return the binary file an upload is written to (default: a temporary
    file); ``field_callback()`` the same for other multipart parts (default:
    an in-memory buffer).  ``strict_parsing`` is ignored.

    Names, values and filenames are str: UTF-8, or Latin-1 for data that is
    not valid UTF-8 (never an exception).  The limits (module variables of
    the same names, "PythonOption mod_python.util.<name>") bound what is
    held in memory: ``max_memory_size`` bytes of urlencoded body plus
    non-file multipart data and part headers, ``max_fields`` fields in the
    body, ``max_files`` uploads; beyond them the request is refused with
    413.  Malformed bodies get 400, POST without Content-Length (and not
    chunked) 411, other body types 501.
    """

    def __init__(self, req, keep_blank_values=0, strict_parsing=0,
                 file_callback=None, field_callback=None, *,
                 max_memory_size=None, max_fields=None, max_files=None):
        self.list = FieldList()
        self._reader = None
        args = req.args
        if args:
            for name, value in parse_qsl_safely(args, keep_blank_values):
                self.add_field(name, value)
        if req.method != "POST":
            return
        try:
            self._read_body(req, keep_blank_values, file_callback, field_callback,
                            _limit(req, "max_memory_size", max_memory_size),
                            _limit(req, "max_fields", max_fields),
                            _limit(req, "max_files", max_files))
        except _FormError as e:
            req.log_error("%s: mod_python.util.FieldStorage: %s (refused with %d)"
                          % (e.tag, e.reason, e.status), apache.APLOG_INFO)
            raise apache.SERVER_RETURN(e.status)
        finally:
            self._reader = None

    # -------------------------------------------------------------- body
    def _read_body(self, req, keep_blank, file_cb, field_cb, mem, nfields, nfiles):
        hin = req.headers_in
        chunked = "chunked" in (hin.get("transfer-encoding") or "").lower()
        clen = hin.get("content-length")
        if clen is None and chunked:
            clen = -1
        else:
            try:
                clen = int(clen)
                if clen < 0:
                    raise ValueError(clen)
            except (TypeError, ValueError):
                raise _FormError(apache.HTTP_LENGTH_REQUIRED, "MP0370",
                                 "POST without a valid Content-Length (%r)" % (clen,))
        ctype_hdr = hin.get("content-type")
        ctype, opts = parse_header(ctype_hdr or "application/x-www-form-urlencoded")
        if ctype == "application/x-www-form-urlencoded":
            self._read_urlencoded(req, clen, keep_blank, mem, nfields)
        elif ctype.startswith("multipart/"):
            boundary = opts.get("boundary", "")
            if not boundary or len(boundary) > _MAX_BOUNDARY:
                raise _FormError(apache.HTTP_BAD_REQUEST, "MP0372",
                                 "multipart Content-Type without a usable boundary: %r"
                                 % ctype_hdr)
            try:
                bnd = boundary.encode("latin-1")
            except UnicodeEncodeError:
                bnd = boundary.encode("utf-8")
            self._read_multipart(req, bnd, file_cb, field_cb, mem, nfields, nfiles)
        else:
            raise _FormError(apache.HTTP_NOT_IMPLEMENTED, "MP0371",
                             "cannot parse a body of type %r" % ctype_hdr)

    def _read_urlencoded(self, req, clen, keep_blank, mem, nfields):
        if clen > mem:
            raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                             "urlencoded body of %d bytes exceeds max_memory_size %d"
                             % (clen, mem))
        reader = _BodyReader(req)
        while not reader.eof and (clen < 0 or reader.total < clen):
            reader.fill()
            if reader.total > mem:
                raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                                 "urlencoded body exceeds max_memory_size %d" % mem)
        body = bytes(reader.buf)
        reader.buf.clear()
        if body and body.count(b"&") + body.count(b";") + 1 > nfields:
            raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                             "urlencoded body has more than max_fields (%d) fields"
                             % nfields)
        for name, value in parse_qsl_safely(body, keep_blank):
            self.add_field(name, value)

    def _read_multipart(self, req, boundary, file_cb, field_cb, mem, nfields, nfiles):
        reader = self._reader = _BodyReader(req)
        mp = _Multipart(reader, boundary)
        state = mp.copy(None)                       # the preamble
        if state == mp.EOF:
            if reader.total == 0:
                return                              # an empty body: no fields
            raise _FormError(apache.HTTP_BAD_REQUEST, "MP0373",
                             "multipart body without the boundary line")
        budget = [mem]
        parts = files = 0
        while state == mp.NEXT:
            hdrs = self._part_headers(reader, mp, budget)
            if hdrs is None:
                raise _FormError(apache.HTTP_BAD_REQUEST, "MP0373",
                                 "multipart body ends inside part headers")
            if isinstance(hdrs, str):               # a boundary among the headers
                state = hdrs
                continue
            parts += 1
            if parts > nfields:
                raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                                 "multipart body has more than max_fields (%d) parts"
                                 % nfields)
            headers, ctype, topts, disp, dopts = hdrs
            is_file = "filename" in dopts
            if is_file:
                files += 1
                if files > nfiles:
                    raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                                     "more than max_files (%d) file uploads" % nfiles)
            state = self._read_part(mp, headers, ctype, topts, disp, dopts,
                                    file_cb, field_cb, budget)
        if state == mp.EOF:
            raise _FormError(apache.HTTP_BAD_REQUEST, "MP0373",
                             "multipart body ends before the closing boundary")

    def _read_part(self, mp, headers, ctype, topts, disp, dopts, file_cb, field_cb,
                   budget):
        filename = dopts.get("filename")
        if filename is not None:
            f = file_cb(filename) if callable(file_cb) else tempfile.TemporaryFile("w+b")
            limit = None
        else:
            f = field_cb() if callable(field_cb) else io.BytesIO()
            limit = budget[0]
        try:
            state = mp.copy(f, limit)
            f.seek(0)
            if filename is not None:
                field = Field(dopts.get("name"))
                field.filename = filename
            else:
                data = f.read()
                budget[0] -= len(data)
                field = StringField(data)
                field.name = dopts.get("name")
        except BaseException:
            try:
                f.close()
            except Exception:
                pass
            raise
        field.file = f
        field.type = ctype
        field.type_options = topts
        field.disposition = disp
        field.disposition_options = dopts
        field.headers = headers
        self.list.append(field)
        return state

    @staticmethod
    def _part_headers(reader, mp, budget):
        """Read one part's header block.  Returns (headers, ctype, type_options,
        disposition, disposition_options), a boundary state (str) when a
        boundary line came first, or None at the end of the body."""
        raw = []                     # [name, value] as bytes
        size = 0
        while True:
            line = reader.readline(readBlockSize)
            if not line:
                return None
            size += len(line)
            if size > budget[0]:
                raise _FormError(apache.HTTP_REQUEST_ENTITY_TOO_LARGE, "MP0374",
                                 "multipart part headers exceed max_memory_size")
            if size > _MAX_PART_HEADERS:
                raise _FormError(apache.HTTP_BAD_REQUEST, "MP0373",
                                 "multipart part headers longer than %d bytes"
                                 % _MAX_PART_HEADERS)
            kind = mp.is_boundary_line(line)
            if kind is not None:
                return kind
            if line in (b"\r\n", b"\n"):
                break
            if line[:1] in (b" ", b"\t") and raw:
                raw[-1][1] += b" " + line.strip()
                continue
            name, sep, value = line.partition(b":")
            if not sep or not name.strip():
                raise _FormError(apache.HTTP_BAD_REQUEST, "MP0373",
                                 "malformed multipart part header %r" % line[:100])
            raw.append([name.strip(), value.strip()])
        budget[0] -= size
        headers = apache.table()
        ctype, topts = "text/plain", {}
        disp, dopts = None, _Params()
        for name, value in raw:
            headers.add(name.replace(b"\0", b""), value.replace(b"\0", b""))
            lname = name.lower()
            if lname == b"content-disposition":
                disp, dopts = parse_header(value)
            elif lname == b"content-type":
                ctype, topts = parse_header(value)
                if "/" not in ctype:
                    ctype = "application/octet-stream"
        return headers, ctype, topts, disp, dopts

    # ----------------------------------------------------------- 3.5 API
    def parse_qsl_safely(self, query_string, keep_blank_values):
        return parse_qsl_safely(query_string, keep_blank_values)

    def read_to_boundary(self, req, boundary, file):
        """Copy the body of req to file (None: discard) up to the next line
        ``--boundary`` (boundary: str or bytes); the line end before it
        belongs to the boundary.  Returns True at the closing boundary or
        the end of the body, False at a simple boundary."""
        if self._reader is None or self._reader.req is not req:
            self._reader = _BodyReader(req)
        if isinstance(boundary, str):
            boundary = boundary.encode("latin-1")
        state = _Multipart(self._reader, bytes(boundary)).copy(file)
        return state != _Multipart.NEXT

    # ------------------------------------------------------- mapping API
    def add_field(self, key, value):
        """Append a StringField named key (str or bytes) with value."""
        item = StringField(value)
        item.name = _text(key, "field name") if key is not None else None
        self.list.append(item)

    def _table(self):
        lst = self.list
        if isinstance(lst, FieldList):
            return lst.table()
        t = {}
        for item in lst:
            t.setdefault(item.name, []).append(item)
        return t

    @staticmethod
    def _key(key):
        return _decode(key) if isinstance(key, (bytes, bytearray)) else key

    @property
    def dictionary(self):
        return self._table()

    def __getitem__(self, key):
        found = self._table()[self._key(key)]
        return found[0] if len(found) == 1 else list(found)

    def get(self, key, default):
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def getfirst(self, key, default=None):
        try:
            return self._table()[self._key(key)][0]
        except (KeyError, TypeError, IndexError):
            return default

    def getlist(self, key):
        try:
            return list(self._table()[self._key(key)])
        except (KeyError, TypeError):
            return []

    def keys(self):
        return list(self._table())

    def __iter__(self):
        return iter(self.keys())

    def has_key(self, key):
        try:
            return self._key(key) in self._table()
        except TypeError:
            return False

    __contains__ = has_key

    def __len__(self):
        return len(self._table())

    def items(self):
        return [(item.name, item) for item in self.list]

    def __setitem__(self, key, value):
        key = _text(key, "field name")
        item = StringField(value)
        item.name = key
        for old in self._table().get(key, ()):
            self.list.remove(old)
        self.list.append(item)

    def __delitem__(self, key):
        key = self._key(key)
        old = self._table()[key]
        for item in old:
            self.list.remove(item)

    def clear(self):
        self.list = FieldList()

    def __repr__(self):
        return repr(self._table())


# ------------------------------------------------------------ parse_header

class _Params(dict):
    """Header parameters; str keys, also found by bytes keys (3.5 used
    bytes keys)."""

    @staticmethod
    def _k(key):
        return _decode(key) if isinstance(key, (bytes, bytearray)) else key

    def __getitem__(self, key):
        return dict.__getitem__(self, self._k(key))

    def __contains__(self, key):
        return dict.__contains__(self, self._k(key))

    def get(self, key, default=None):
        return dict.get(self, self._k(key), default)


def _split_params(s):
    """Split at ';' outside double quotes."""
    parts, cur, quoted, esc = [], [], False, False
    for ch in s:
        if esc:
            esc = False
        elif ch == "\\" and quoted:
            esc = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


_RFC2231 = re.compile(r"^([A-Za-z0-9_-]*)'[^']*'(.*)$", re.S)


def parse_header(line):
    """Parse a Content-Type / Content-Disposition like header value.

    Returns (main value lower-cased, {parameter name lower-cased: value}).
    line may be str or bytes (bytes are decoded as UTF-8 with the Latin-1
    fallback, so a UTF-8 filename comes out as the characters sent).
    Quoted values are unquoted (only backslash-backslash and
    backslash-quote are escapes, so raw Windows paths survive); an RFC 2231
    ``name*=charset''percent-encoded`` parameter is decoded and stored under
    ``name``.  The dict also finds keys given as bytes.
    """
    if isinstance(line, (bytes, bytearray)):
        line = _decode(line)
    elif not isinstance(line, str):
        raise TypeError("parse_header() takes str or bytes, not %s" % type(line).__name__)
    parts = _split_params(line)
    key = parts[0].strip().lower()
    pdict = _Params()
    extended = {}
    for p in parts[1:]:
        name, sep, value = p.partition("=")
        if not sep:
            continue
        name = name.strip().lower()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            # only \\ and \" are escapes: old browsers send raw Windows paths
            value = value[1:-1].replace('\\\\', '\\').replace('\\"', '"')
        if name.endswith("*"):
            m = _RFC2231.match(value)
            if m:
                charset = m.group(1) or "utf-8"
                try:
                    value = urllib.parse.unquote(m.group(2), encoding=charset,
                                                 errors="strict")
                except (LookupError, UnicodeDecodeError):
                    value = _decode(urllib.parse.unquote_to_bytes(m.group(2)))
                extended[name[:-1]] = value
                continue
        pdict[name] = value
    pdict.update(extended)
    return key, pdict


# ------------------------------------------------------------ apply_fs_data

def _code_names(code, skip):
    """Names a code object accepts as keywords (skipping `skip` leading
    positional ones, e.g. self), and whether it takes **kwargs."""
    first = max(code.co_posonlyargcount, skip)
    names = set(code.co_varnames[first:code.co_argcount])
    names.update(code.co_varnames[code.co_argcount:
                                  code.co_argcount + code.co_kwonlyargcount])
    return names, bool(code.co_flags & inspect.CO_VARKEYWORDS)


def _accepted(obj, depth=0):
    """(names, takes_kwargs) for calling obj, or None when unknown (then
    obj is called without arguments)."""
    if depth > 10:
        return None
    if inspect.isfunction(obj):
        return _code_names(obj.__code__, 0)
    if inspect.ismethod(obj):
        func = obj.__func__
        return _code_names(func.__code__, 1) if inspect.isfunction(func) else None
    if isinstance(obj, type):
        init = obj.__init__
        return _code_names(init.__code__, 1) if inspect.isfunction(init) else None
    if inspect.isbuiltin(obj):
        return None
    call = getattr(obj, "__call__", None)
    if call is None or isinstance(call, (_MethodWrapper, _WrapperDescriptor)):
        return None
    if inspect.ismethod(call) and inspect.isfunction(call.__func__):
        return _code_names(call.__func__.__code__, 1)
    return _accepted(call, depth + 1)


def apply_fs_data(object, fs, **args):
    """Call object with the form data of fs as keyword arguments.

    args (e.g. req=req) are passed too and win over form fields of the same
    name.  A field given several times is passed as a list; file uploads
    as their Field object, other fields as their str value.  Only the
    parameters object accepts are passed (everything if it takes
    **kwargs); a callable whose parameters cannot be determined (built-in)
    is called without arguments.
    """
    spec = _accepted(object)
    form = {}
    for field in fs.list:
        name = field.name
        if name is None:
            continue
        if isinstance(name, (bytes, bytearray)):
            name = _decode(name)
        form.setdefault(name, []).append(field if field.filename else field.value)
    for name, values in form.items():
        if name not in args:
            args[name] = values[0] if len(values) == 1 else values
    if spec is None:
        return object()
    names, takes_kwargs = spec
    if not takes_kwargs:
        args = {k: v for k, v in args.items() if k in names}
    return object(**args)


# ---------------------------------------------------------------- redirect

# Printable ASCII except space stays as it is; everything else in a
# Location is percent-encoded (UTF-8), which also stops header injection.
_LOCATION_SAFE = "".join(chr(c) for c in range(0x21, 0x7f))


def redirect(req, location, permanent=0, text=None):
    """Answer with a redirect to location and end the request.

    Sets Location (non-ASCII, spaces and control characters
    percent-encoded) and status 301 (permanent) or 302, writes text or a
    short HTML page, then raises SERVER_RETURN(DONE) so no further handler
    runs.  IOError if the response body was already started.
    """
    if not isinstance(location, str):
        raise TypeError("location must be a str, not %s" % type(location).__name__)
    if req.sent_bodyct:
        raise IOError("Cannot redirect after headers have already been sent.")
    location = urllib.parse.quote(location, safe=_LOCATION_SAFE)
    req.err_headers_out["Location"] = location
    req.status = apache.HTTP_MOVED_PERMANENTLY if permanent else apache.HTTP_MOVED_TEMPORARILY
    if text is None:
        if not getattr(req, "_content_type_set", 1):
            req.content_type = "text/html; charset=utf-8"
        text = ('<p>The document has moved <a href="%s">here</a></p>\n'
                % html.escape(location, quote=True))
    req.write(text)
    raise apache.SERVER_RETURN(apache.DONE)
