"""mod_python: Apache httpd 2.4 module embedding Python 3.

The package imports outside httpd too; only mod_python.apache (and what
uses it) needs the built-in _apache module that exists inside httpd.
"""
from . import version

__all__ = ["apache", "cgihandler", "psp", "publisher", "util", "python22", "version"]

# compared with the C module's version when an interpreter starts
mp_version = version.version

try:
    from . import apache
except ImportError:       # outside httpd: no _apache
    pass
