"""The lone-handler path (src/dispatch.c): a phase's single configured
handler is resolved once per interpreter and called from C.  What the
general path guaranteed must still hold: a module that rebinds its handler
is followed, PythonAutoReload Off serves what the importer has (also after
an On request reloaded the module), handlers added to the running phase
run, and tables handed out by get_options()/get_config() are the
request's own."""
import os
import time

import pytest

from harness import Httpd, SINGLE_CHILD

CONF = """
<Directory @DOCROOT@/sh>
  SetHandler mod_python
  PythonHandler shmod
  PythonAutoReload On
  PythonDebug On
  <Files "off.txt">
    PythonAutoReload Off
  </Files>
</Directory>
<Directory @DOCROOT@/rebind>
  SetHandler mod_python
  PythonHandler rebind
</Directory>
<Directory @DOCROOT@/add>
  SetHandler mod_python
  PythonHandler adder
</Directory>
<Directory @DOCROOT@/opts>
  SetHandler mod_python
  PythonHandler opts
  PythonOption k orig
  PythonOption other 1
</Directory>
<Directory @DOCROOT@/late>
  SetHandler mod_python
  PythonHandler late
  PythonOutputFilter latefilter LATE
</Directory>
<Directory @DOCROOT@/opts/sub>
  PythonOption k2 sub
</Directory>
"""


def shmod(version):
    return ("from mod_python import apache\n"
            "def handler(req):\n"
            "    req.write('%d')\n"
            "    return apache.OK\n" % version)


FILES = {
    "htdocs/sh/shmod.py": shmod(1),
    "htdocs/rebind/rebind.py": (
        "from mod_python import apache\n"
        "def second(req):\n"
        "    req.write('second')\n"
        "    return apache.OK\n"
        "def handler(req):\n"
        "    global handler\n"
        "    handler = second\n"
        "    req.write('first')\n"
        "    return apache.OK\n"),
    "htdocs/add/adder.py": (
        "from mod_python import apache\n"
        "def handler(req):\n"
        "    req.add_handler('PythonHandler', 'adder::extra')\n"
        "    req.write('lone ')\n"
        "    return apache.OK\n"
        "def extra(req):\n"
        "    req.write('extra %s' % req.hlist.handler)\n"
        "    return apache.OK\n"),
    "htdocs/opts/opts.py": (
        "from mod_python import apache\n"
        "def handler(req):\n"
        "    opts = req.get_options()\n"
        "    conf = req.get_config()\n"
        "    seen = '%s %s %s %s' % (opts.get('k'), opts.get('k2'), len(opts),\n"
        "                            conf.get('PythonDebug'))\n"
        "    opts['k'] = 'changed'\n"
        "    conf['PythonDebug'] = 'changed'\n"
        "    assert req.get_options()['k'] == 'changed'\n"
        "    req.write(seen)\n"
        "    return apache.OK\n"),
    "htdocs/opts/sub/opts.py": "from opts import handler\n",
    "htdocs/late/late.py": (
        "from mod_python import apache\n"
        "def handler(req):\n"
        "    req.foo = 'bar'\n"
        "    if req.args == 'filter':\n"
        "        req.add_output_filter('LATE')\n"
        "    else:\n"
        "        req.register_cleanup(lambda r: r.log_error('cleanup sees %s %s'\n"
        "                                                   % (r.uri, r.foo)), req)\n"
        "    req.write('body')\n"
        "    return apache.OK\n"),
    "htdocs/late/latefilter.py": (
        "def outputfilter(filter):\n"
        "    s = filter.read()\n"
        "    while s:\n"
        "        filter.write(s)\n"
        "        s = filter.read()\n"
        "    if s is None:\n"
        "        filter.write(' foo=%s' % getattr(filter.req, 'foo', 'lost'))\n"
        "        filter.close()\n"),
}


@pytest.fixture(scope="module")
def srv():
    s = Httpd(CONF, files=FILES, mpm="event", mpm_config=SINGLE_CHILD["event"],
              name="dispatch-cache")
    s.start()
    yield s
    s.assert_no_crash()
    s.stop()


def texts(srv, path, n):
    out = []
    for _ in range(n):
        r = srv.get(path)
        assert r.status == 200, r.text
        out.append(r.text)
    return out


def write_in_place(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


def test_off_follows_what_on_reloaded(srv):
    assert texts(srv, "/sh/x", 3) == ["1"] * 3
    assert texts(srv, "/sh/off.txt", 3) == ["1"] * 3
    time.sleep(0.1)
    write_in_place(os.path.join(srv.docroot, "sh", "shmod.py"), shmod(2))
    assert texts(srv, "/sh/off.txt", 3) == ["1"] * 3     # Off: as loaded
    assert texts(srv, "/sh/x", 3) == ["2"] * 3           # On: the new code
    assert texts(srv, "/sh/off.txt", 3) == ["2"] * 3     # Off: what the importer has


def test_rebound_handler_is_followed(srv):
    assert texts(srv, "/rebind/x", 3) == ["first", "second", "second"]


def test_handler_added_to_the_running_phase_runs(srv):
    assert texts(srv, "/add/x", 3) == ["lone extra adder::extra"] * 3


def test_option_and_config_tables_are_the_requests_own(srv):
    assert texts(srv, "/opts/x", 3) == ["orig None 2 None"] * 3
    assert texts(srv, "/opts/sub/x", 3) == ["orig sub 3 None"] * 3


def test_request_object_lives_while_python_may_still_run(srv):
    # a Python filter still to see the end of stream after the handler
    assert texts(srv, "/late/x?filter", 3) == ["body foo=bar"] * 3
    # a Python cleanup registered with the request as its data
    mark = srv.log_mark()
    assert texts(srv, "/late/y", 1) == ["body"]
    srv.wait_log("cleanup sees /late/y bar", mark=mark)
