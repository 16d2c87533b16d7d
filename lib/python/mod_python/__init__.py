"""mod_python: Apache httpd 2.4 module embedding Python 3.

The package imports outside httpd too; only mod_python.apache (and what
uses it) needs the built-in _apache module that exists inside httpd.
"""
from .version import version

mp_version = version

__all__ = ["apache", "cache", "Cookie", "httpdconf", "psp", "publisher",
           "Session", "util", "version", "wsgi"]
