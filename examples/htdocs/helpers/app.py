from mod_python import apache

from greeting import greet


def handler(req):
    req.content_type = "text/plain"
    name = req.args or "world"
    req.write(greet(name) + "\n")
    return apache.OK
