"""Obsolete: a Python 2.2 compatibility module of old mod_python versions,
kept empty so that `from mod_python import *` and old imports still work."""
