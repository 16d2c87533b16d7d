"""How mod_python describes a Python error to a person (error log and
PythonDebug page).

The traceback keeps the user's frames, the exception and its chain; the
frames of mod_python's own dispatch machinery (the dispatcher, the
importer, the publisher/PSP/WSGI/CGI handlers) and of importlib's
bootstrap are left out, and one line says how many were.  A
ModuleNotFoundError also says where the module was looked for and how to
change that.

Only the standard library is imported here, so that every other module of
the package can use it.
"""

import importlib
import os
import sys
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))
_MACHINERY = frozenset(os.path.join(_HERE, name) for name in (
    "apache.py", "importer.py", "_report.py", "publisher.py", "psp.py",
    "wsgi.py", "cgihandler.py"))
_IMPORTLIB = os.path.join(os.path.dirname(os.path.abspath(importlib.__file__)), "")


def is_machinery(filename):
    """True for a frame of mod_python's dispatch machinery or of importlib."""
    if not filename:
        return False
    if filename.startswith("<frozen importlib"):
        return True
    path = os.path.abspath(filename) if not filename.startswith("<") else filename
    return path in _MACHINERY or path.startswith(_IMPORTLIB)


def _prune(te, seen):
    """Drop machinery frames from te and everything chained to it; returns
    how many were dropped."""
    if te is None or id(te) in seen:
        return 0
    seen.add(id(te))
    kept = [f for f in te.stack if not is_machinery(f.filename)]
    hidden = len(te.stack) - len(kept)
    if hidden:
        te.stack = traceback.StackSummary.from_list(kept)
    hidden += _prune(te.__cause__, seen) + _prune(te.__context__, seen)
    for sub in getattr(te, "exceptions", None) or ():
        hidden += _prune(sub, seen)
    return hidden


def traceback_lines(exc, tb=None):
    """(lines, hidden): the traceback of exc without machinery frames, as
    lines without line ends (empty ones left out), and the number of frames
    left out."""
    if tb is None:
        tb = getattr(exc, "__traceback__", None)
    te = traceback.TracebackException(type(exc), exc, tb, compact=True)
    hidden = _prune(te, set())
    lines = []
    for chunk in te.format():
        lines.extend(line for line in chunk.rstrip("\n").split("\n") if line.strip())
    return lines, hidden


def hidden_note(hidden):
    if not hidden:
        return []
    return ["(%d frame%s of mod_python and importlib not shown)"
            % (hidden, "" if hidden == 1 else "s")]


def import_hint(exc, directory=None, python_path=None, interpreter=None):
    """For a ModuleNotFoundError: where the module was looked for (the
    handler directory, the effective sys.path) and how to change that."""
    if not isinstance(exc, ModuleNotFoundError):
        return []
    name = exc.name or "?"
    if python_path:
        where = "in sys.path as set by PythonPath %s" % python_path
    elif directory:
        where = "in the handler directory %r, then in sys.path" % directory
    else:
        where = "in sys.path"
    return ["mod_python looked for module %r %s" % (name, where),
            "sys.path of interpreter %r: %r" % (interpreter, list(sys.path)),
            "to look elsewhere, add the directory with PythonPath, e.g. "
            "PythonPath \"sys.path + ['/srv/app/lib']\", or use the packages "
            "of a virtual environment with PythonVirtualEnv"]


def error_lines(exc, tb=None, directory=None, python_path=None, interpreter=None,
                note=True):
    """Every line describing exc: the hidden-frames note (unless not
    `note`), the traceback and, for a missing module, where it was looked
    for."""
    lines, hidden = traceback_lines(exc, tb)
    return (hidden_note(hidden) if note else []) + lines + \
        import_hint(exc, directory, python_path, interpreter)
