"""Published with mod_python.publisher: every public function is a page,
/pages.py/NAME calls NAME() with the form fields as keyword arguments."""
import html


def index(req):
    return "Pages of this module: index, greet, add"


def greet(req, name="world"):
    req.content_type = "text/html; charset=utf-8"
    return "<p>Hello, %s!</p>" % html.escape(name)


def add(a, b):
    return str(int(a) + int(b))


def _helper():
    return "names starting with an underscore are never published"
