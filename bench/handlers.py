"""The handler modules both benchmarks serve (bench.py with wrk,
callgrind.py with callgrind), written so that our module and Debian's
mod_python 3.5 run them unchanged."""

HELPERS = 50

HELLO = """\
from mod_python import apache
def handler(req):
    req.content_type = "text/plain"
    req.write("Hello, world!\\n")
    return apache.OK
"""

# The hello handler in a module that imported 50 others: what a request
# costs must not grow with the number of modules loaded (and watched).
MANY = "".join("import helper%02d\n" % i for i in range(HELPERS)) + HELLO


def helper_files(directory):
    """The helper modules MANY imports, as harness files under directory."""
    return {"%s/helper%02d.py" % (directory, i): "VALUE = %d\n" % i for i in range(HELPERS)}
