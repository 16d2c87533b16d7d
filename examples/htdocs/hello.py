"""The smallest mod_python handler.  Edit the text and reload the page:
PythonAutoReload (on by default) serves the new code at once."""
import mod_python
from mod_python import apache


def handler(req):
    req.content_type = "text/plain"
    req.write("Hello from mod_python %s!\n" % mod_python.mp_version)
    req.write("interpreter: %s, uri: %s\n" % (req.interpreter, req.uri))
    return apache.OK
