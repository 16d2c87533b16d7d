"""mod_python.Cookie: Netscape-style HTTP cookies (one object = one cookie).

    from mod_python import Cookie

    Cookie.add_cookie(req, "spam", "eggs", path="/", httponly=True)
    Cookie.add_cookie(req, Cookie.SignedCookie("user", "joe", secret="k"))
    cookies = Cookie.get_cookies(req)                    # name -> Cookie
    c = Cookie.get_cookie(req, "user", Class=Cookie.SignedCookie, secret="k")

Signed cookies carry a 32-hex-digit HMAC-MD5 (key = the secret, message =
the cookie name followed by the value, both UTF-8 encoded) in front of the
value, the format of mod_python 3.x, so cookies signed by older servers
still verify.  Signatures are compared in constant time.  MarshalCookie
values are marshal-dumped and base64-encoded, then signed; the value is
only unmarshalled after its signature was verified.

This module does not need httpd: it only uses the request object it is
given (req.headers_in / req.headers_out).
"""
import base64
import binascii
import calendar
import hmac
import marshal
import re
import time

__all__ = ["Cookie", "SignedCookie", "MarshalCookie", "CookieError",
           "add_cookie", "get_cookies", "get_cookie"]


class CookieError(Exception):
    pass


# Cookie attributes, in the order str() emits them.
_ATTRIBUTES = ("version", "path", "domain", "secure", "comment", "expires",
               "max_age", "samesite", "commentURL", "discard", "port",
               "httponly")
# Attributes written as a bare flag ("; secure"), only when true.
_FLAGS = frozenset(("secure", "discard", "httponly"))
# Attribute names on the wire where the Python name is not one a browser
# understands (mod_python 3.5 sent "max_age=", which every browser ignores).
_WIRE_NAMES = {"max_age": "Max-Age"}

# Dates are formatted and parsed by hand: strftime/strptime use the locale's
# day and month names, cookies need the English ones.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EXPIRES_RE = re.compile(
    r"^(?P<wday>[A-Za-z]{3}), (?P<day>\d{2})(?P<sep>[- ])(?P<mon>[A-Za-z]{3})(?P=sep)"
    r"(?P<year>\d{4}) (?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2}) GMT$")


def _format_expires(when):
    """Epoch seconds -> 'Wdy, DD-Mon-YYYY HH:MM:SS GMT'."""
    t = time.gmtime(when)
    return "%s, %02d-%s-%04d %02d:%02d:%02d GMT" % (
        _DAYS[t.tm_wday], t.tm_mday, _MONTHS[t.tm_mon - 1], t.tm_year,
        t.tm_hour, t.tm_min, t.tm_sec)


def _check_expires(text):
    """Validate 'Wdy, DD-Mon-YYYY HH:MM:SS GMT' (the RFC 1123 form with
    spaces instead of dashes is accepted too); ValueError otherwise."""
    m = _EXPIRES_RE.match(text)
    ok = m is not None
    if ok:
        try:
            mon = _MONTHS.index(m.group("mon").capitalize()) + 1
            wday = _DAYS.index(m.group("wday").capitalize())
            fields = (int(m.group("year")), mon, int(m.group("day")),
                      int(m.group("H")), int(m.group("M")), int(m.group("S")))
            stamp = calendar.timegm(fields + (0, 0, 0))
            t = time.gmtime(stamp)
            # rejects 31-Feb and the like (timegm normalises them)
            ok = (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min,
                  t.tm_sec) == fields and t.tm_wday == wday
        except (ValueError, OverflowError):
            ok = False
    if not ok:
        raise ValueError("Invalid expires time: %s" % text)
    return text


class Cookie:
    """One cookie: Cookie(name, value, **attributes).

    Attributes (keyword names are lower-cased): version, path, domain,
    secure, comment, expires, max_age, samesite, commentURL (attribute
    assignment only), discard, port, httponly.  Any other name raises
    AttributeError.  str(cookie) is the Set-Cookie header value."""

    __slots__ = _ATTRIBUTES[:5] + _ATTRIBUTES[6:] + (
        "name", "value", "_value", "_expires", "__data__")
    _valid_attr = _ATTRIBUTES

    # signature mismatch handling (SignedCookie/MarshalCookie.parse)
    DOWNGRADE = 0
    IGNORE = 1
    EXCEPTION = 3

    def __init__(self, name, value, **kw):
        self.name = name
        self.value = value
        for key, val in kw.items():
            setattr(self, key.lower(), val)
        self.__data__ = {}       # room for subclasses' private data

    # ---------------------------------------------------------- expires
    @property
    def expires(self):
        try:
            return self._expires
        except AttributeError:
            raise AttributeError("expires") from None

    @expires.setter
    def expires(self, value):
        if isinstance(value, str):
            self._expires = _check_expires(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._expires = _format_expires(value)
        else:
            raise ValueError("Invalid expires time: %r" % (value,))

    @expires.deleter
    def expires(self):
        try:
            del self._expires
        except AttributeError:
            raise AttributeError("expires") from None

    # ---------------------------------------------------------- output
    def _attributes(self):
        """The '; attr=value' parts for every attribute that is set."""
        parts = []
        for attr in self._valid_attr:
            try:
                val = getattr(self, attr)
            except AttributeError:
                continue
            if attr in _FLAGS:
                if val:
                    parts.append(attr)
            else:
                parts.append("%s=%s" % (_WIRE_NAMES.get(attr, attr), val))
        return parts

    def _value_text(self):
        return "%s" % (self.value,)

    def __str__(self):
        return "; ".join(["%s=%s" % (self.name, self._value_text())]
                         + self._attributes())

    def __repr__(self):
        return "<%s: %s>" % (self.__class__.__name__, str(self))

    # ---------------------------------------------------------- input
    @classmethod
    def parse(cls, string, names=None):
        """Parse a Cookie request header -> {name: instance of cls}."""
        return _parse_cookie(string, cls, names)


class SignedCookie(Cookie):
    """Cookie whose value is preceded by an HMAC-MD5 signature (32 hex
    digits) made with `secret`."""

    __slots__ = ()

    def __init__(self, name, value, secret=None, **kw):
        super().__init__(name, value, **kw)
        self.__data__["secret"] = secret

    def hexdigest(self, text):
        """HMAC-MD5 hex digest of name + text with this cookie's secret."""
        return _signature(self.__data__.get("secret"), self.name, text)

    def _value_text(self):
        val = "%s" % (self.value,)
        return self.hexdigest(val) + val

    def unsign(self, secret):
        """Verify and strip the signature of a parsed value; CookieError if
        it does not match."""
        raw = "%s" % (self.value,)
        sig, val = raw[:32], raw[32:]
        good = _signature(secret, self.name, val)
        if len(raw) < 32 or not hmac.compare_digest(
                good.encode("ascii"), sig.encode("utf-8", "surrogateescape")):
            raise CookieError("Incorrectly Signed Cookie: %s=%s" % (self.name, raw))
        self.value = val
        self.__data__["secret"] = secret

    def _verify(self, secret):
        self.unsign(secret)

    @classmethod
    def parse(cls, string, secret=None, mismatch=Cookie.DOWNGRADE, names=None):
        """Parse and verify; a bad signature raises CookieError (EXCEPTION),
        drops the cookie (IGNORE) or yields a plain Cookie (DOWNGRADE)."""
        if not secret:
            raise CookieError("Cannot sign without a secret")
        result = _parse_cookie(string, cls, names)
        for key in list(result):
            c = result[key]
            raw = c.value
            try:
                c._verify(secret)
            except CookieError:
                if mismatch == Cookie.EXCEPTION:
                    raise
                if mismatch == Cookie.IGNORE:
                    del result[key]
                else:
                    result[key] = Cookie(key, raw)
        return result


class MarshalCookie(SignedCookie):
    """Signed cookie whose value can be any marshal-able object."""

    __slots__ = ()

    def _value_text(self):
        data = base64.b64encode(marshal.dumps(self.value)).decode("ascii")
        return self.hexdigest(data) + data

    def unmarshal(self, secret):
        """Verify the signature, then decode the value."""
        self.unsign(secret)
        try:
            data = base64.b64decode(self.value.encode("ascii"), validate=True)
        except (binascii.Error, ValueError, UnicodeError):
            raise CookieError("Cannot base64 Decode Cookie: %s=%s"
                              % (self.name, self.value)) from None
        try:
            self.value = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            raise CookieError("Cannot Unmarshal Cookie: %s=%s"
                              % (self.name, self.value)) from None

    def _verify(self, secret):
        self.unmarshal(secret)


def _signature(secret, name, text):
    if not secret:
        raise CookieError("Cannot sign without a secret")
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    msg = ("%s%s" % (name, text)).encode("utf-8", "surrogateescape")
    return hmac.new(secret, msg, "md5").hexdigest()


# optional separators, a name (no ';', space or '='), an optional '=',
# then a double-quoted string (quotes kept) or the text up to ';'
_COOKIE_RE = re.compile(r"""
    [,\ \t]*
    (?P<key>[^;\ \t=]+)
    [\ \t]*(?:=[\ \t]*)?
    (?P<val>"(?:[^\\"]|\\.)*"|[^;]*)
    [\ \t]*;?
""", re.VERBOSE)


def _parse_cookie(string, cls, names=None):
    result = {}
    for m in _COOKIE_RE.finditer(string):
        key = m.group("key")
        # "$Version", "$Path"...: RFC 2965 attributes, not cookies
        if key.startswith("$") or (names is not None and key not in names):
            continue
        result[key] = cls(key, m.group("val").rstrip(" \t"))
    return result


# ------------------------------------------------------------ functions

def add_cookie(req, cookie, value="", **kw):
    """Add a Set-Cookie header; `cookie` is a Cookie or a name (then
    Cookie(cookie, value, **kw) is sent)."""
    if not isinstance(cookie, Cookie):
        cookie = Cookie(cookie, value, **kw)
    if "Set-Cookie" not in req.headers_out:
        req.headers_out.add("Cache-Control", 'no-cache="set-cookie"')
    req.headers_out.add("Set-Cookie", str(cookie))


def get_cookies(req, Class=Cookie, **kw):
    """All cookies of the request: {name: Class instance}; kw go to
    Class.parse (e.g. secret=, mismatch=, names=)."""
    try:
        header = req.headers_in["cookie"]
    except KeyError:
        return {}
    if isinstance(header, (list, tuple)):
        header = "; ".join(header)
    return Class.parse(header, **kw)


def get_cookie(req, name, Class=Cookie, **kw):
    """The cookie called `name` (instance of Class) or None."""
    return get_cookies(req, Class, names=[name], **kw).get(name)
