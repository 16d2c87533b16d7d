"""A form read with util.FieldStorage: GET shows it, POST answers it."""
import html

from mod_python import apache, util

PAGE = """<!DOCTYPE html>
<html><body>
<form method="post">
  <label>Your name <input name="name"></label>
  <label><input type="checkbox" name="colour" value="red"> red</label>
  <label><input type="checkbox" name="colour" value="blue"> blue</label>
  <button>Send</button>
</form>
%s
</body></html>
"""


def handler(req):
    req.content_type = "text/html; charset=utf-8"
    if req.method == "GET":
        req.write(PAGE % "")
        return apache.OK
    if req.method != "POST":
        req.allow_methods(["GET", "POST"])
        return apache.HTTP_METHOD_NOT_ALLOWED
    form = util.FieldStorage(req)
    name = form.getfirst("name", "stranger")     # a str
    colours = form.getlist("colour")             # a list of str, maybe empty
    answer = "<p>Hello, %s. Colours: %s.</p>" % (
        html.escape(name), html.escape(", ".join(colours) or "none"))
    req.write(PAGE % answer)
    return apache.OK
