"""Core: configuration merging (mod_python 3.5 manual: "Apache Configuration
Directives") observed through req.get_config() / req.get_options(): server <
<Directory> (outer < inner) < .htaccess < <Files> < <Location>; PythonOption unset
with an empty value; PythonPath; handler directory on sys.path; AllowOverride All vs
None. Parametrised over the three MPMs."""
import json

import pytest

from harness import MPMS

pytestmark = pytest.mark.mpms(*MPMS)

DUMP_PY = r'''
import json, sys
from mod_python import apache

def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({
        "config": dict(req.get_config()),
        "options": dict(req.get_options()),
        "server_options": dict(req.server.get_options()),
        "server_config": dict(req.server.get_config()),
        "module": __name__,
        "file": __file__,
    }))
    return apache.OK
'''

SYSPATH_PY = r'''
import json, sys
from mod_python import apache

def handler(req):
    req.content_type = "application/json"
    req.write(json.dumps({"path": sys.path, "file": __file__,
                          "config": dict(req.get_config())}))
    return apache.OK
'''

ONLYLIB2_PY = r'''
from mod_python import apache

def handler(req):
    req.content_type = "text/plain"
    req.write("from-lib2")
    return apache.OK
'''

CONFIG = r'''
PythonOption srvopt s1
PythonOption level server
PythonOption tobeunset present
PythonDebug Off
PythonAutoReload Off

<Directory @DOCROOT@/cfg>
    SetHandler mod_python
    PythonHandler dump
    AllowOverride All
    PythonOption level dir
    PythonOption diropt d1
    PythonDebug On
    <Files "files.txt">
        PythonOption level files
        PythonOption filesopt f1
    </Files>
</Directory>
<Directory @DOCROOT@/cfg/sub>
    PythonOption level subdir
    PythonOption subopt s2
</Directory>
<Directory @DOCROOT@/cfg/sub/deeper>
    PythonOption diropt
    PythonOption tobeunset ""
</Directory>
<Location /cfg/loc>
    PythonOption level location
    PythonInterpreter loc_interp
</Location>

<Directory @DOCROOT@/noover>
    SetHandler mod_python
    PythonHandler dump2
    AllowOverride None
</Directory>

<Directory @DOCROOT@/pp>
    SetHandler mod_python
    PythonPath "sys.path+['@ROOT@/lib2']"
    PythonHandler onlylib2
</Directory>
<Directory @DOCROOT@/nopp>
    SetHandler mod_python
    PythonInterpreter nopp_interp
    PythonHandler onlylib2
</Directory>
'''

FILES = {
    "htdocs/cfg/dump.py": DUMP_PY,
    "htdocs/cfg/x.txt": "x\n",
    "htdocs/cfg/files.txt": "f\n",
    "htdocs/cfg/sub/x.txt": "x\n",
    "htdocs/cfg/sub/deeper/x.txt": "x\n",
    "htdocs/cfg/ht/.htaccess": "PythonOption level htaccess\nPythonOption htopt h1\n"
                               "PythonAutoReload On\n",
    "htdocs/cfg/ht/x.txt": "x\n",
    "htdocs/cfg/ht/files.txt": "f\n",
    "htdocs/cfg/ht/handler/.htaccess": "PythonHandler syspath\n",
    "htdocs/cfg/ht/handler/syspath.py": SYSPATH_PY,
    "htdocs/cfg/ht/handler/x.txt": "x\n",
    "htdocs/noover/dump2.py": DUMP_PY,
    "htdocs/noover/.htaccess": "PythonOption level htaccess\nPythonHandler no_such_module\n",
    "htdocs/noover/x.txt": "x\n",
    "htdocs/rsrc/.htaccess": "PythonTransHandler dump\n",
    "htdocs/rsrc/x.txt": "x\n",
    "htdocs/pp/x.txt": "x\n",
    "htdocs/ovlist/dump3.py": DUMP_PY,
    "htdocs/ovlist/.htaccess": "PythonOption level ovlist\n",
    "htdocs/ovlist/x.txt": "x\n",
    "htdocs/ovlist/bad/.htaccess": "PythonHandler no_such_module\n",
    "htdocs/ovlist/bad/x.txt": "x\n",
    "htdocs/nopp/x.txt": "x\n",
    "lib2/onlylib2.py": ONLYLIB2_PY,
}

EXTRA = r'''
<Directory @DOCROOT@/rsrc>
    AllowOverride All
</Directory>
<Directory @DOCROOT@/ovlist>
    SetHandler mod_python
    PythonHandler dump3
    AllowOverride None
    AllowOverrideList PythonOption
</Directory>

Listen 127.0.0.1:@PORT2@
<VirtualHost 127.0.0.1:@PORT2@>
    ServerName v.test
    PythonOption level vhost
    PythonOption vhopt v1
    PythonOption tobeunset
    PythonAutoReload On
</VirtualHost>
'''


@pytest.fixture(scope="module")
def srv(httpd):
    return httpd(CONFIG + EXTRA, files=FILES, name="config")


def dump(srv, path):
    r = srv.get(path)
    assert r.status == 200, (r, srv.error_log()[-3000:])
    return json.loads(r.text)


def test_directory_level(srv):
    d = dump(srv, "/cfg/x.txt")
    assert d["options"] == {"srvopt": "s1", "level": "dir", "tobeunset": "present",
                            "diropt": "d1"}
    assert d["config"]["PythonDebug"] == "1"
    assert d["config"]["PythonAutoReload"] == "0"


def test_handler_directory_put_on_sys_path(srv):
    # no PythonPath: the module is found in the directory of the directive
    d = dump(srv, "/cfg/x.txt")
    assert d["file"] == srv.docroot + "/cfg/dump.py"
    assert "PythonPath" not in d["config"]


def test_nested_directory_wins(srv):
    d = dump(srv, "/cfg/sub/x.txt")
    assert d["options"]["level"] == "subdir"
    assert d["options"]["subopt"] == "s2"
    assert d["options"]["diropt"] == "d1"
    assert d["options"]["srvopt"] == "s1"


def test_empty_option_value_unsets(srv):
    d = dump(srv, "/cfg/sub/deeper/x.txt")
    assert "diropt" not in d["options"]
    assert "tobeunset" not in d["options"]
    assert d["options"]["level"] == "subdir"
    assert d["options"]["srvopt"] == "s1"


def test_files_section_wins_over_directory(srv):
    d = dump(srv, "/cfg/files.txt")
    assert d["options"]["level"] == "files"
    assert d["options"]["filesopt"] == "f1"
    assert d["options"]["diropt"] == "d1"


def test_location_wins_over_directory(srv):
    # <Location> holds no handler directive, so translation is normal and the
    # <Directory> handler runs; the Location's values are merged last.
    d = dump(srv, "/cfg/loc")
    assert d["options"]["level"] == "location"
    assert d["config"]["PythonInterpreter"] == "loc_interp"
    assert d["options"]["diropt"] == "d1"


def test_htaccess_merged_with_allowoverride_all(srv):
    d = dump(srv, "/cfg/ht/x.txt")
    assert d["options"]["level"] == "htaccess"
    assert d["options"]["htopt"] == "h1"
    assert d["config"]["PythonAutoReload"] == "1"
    assert d["config"]["PythonDebug"] == "1"


def test_files_section_wins_over_htaccess(srv):
    d = dump(srv, "/cfg/ht/files.txt")
    assert d["options"]["level"] == "files"
    assert d["options"]["htopt"] == "h1"


def test_handler_in_htaccess(srv):
    # PythonHandler in .htaccess replaces the inherited one; its directory
    # (that of the .htaccess file) is prepended to sys.path.
    r = srv.get("/cfg/ht/handler/x.txt")
    assert r.status == 200, (r, srv.error_log()[-3000:])
    d = json.loads(r.text)
    assert d["file"] == srv.docroot + "/cfg/ht/handler/syspath.py"
    assert srv.docroot + "/cfg/ht/handler/" in d["path"]


def test_htaccess_ignored_with_allowoverride_none(srv):
    d = dump(srv, "/noover/x.txt")
    assert d["options"]["level"] == "server"
    assert "htopt" not in d["options"]


def test_server_only_directive_in_htaccess_is_500(srv):
    mark = srv.log_mark()
    r = srv.get("/rsrc/x.txt")
    assert r.status == 500
    log = srv.log_since(mark)
    assert "PythonTransHandler" in log and "not allowed here" in log, log


def test_allowoverridelist_enables_single_directive(srv):
    d = dump(srv, "/ovlist/x.txt")
    assert d["options"]["level"] == "ovlist"


def test_directive_not_in_allowoverridelist_is_500(srv):
    mark = srv.log_mark()
    r = srv.get("/ovlist/bad/x.txt")
    assert r.status == 500
    log = srv.log_since(mark)
    assert "PythonHandler" in log and "not allowed here" in log, log


def test_main_server_config(srv):
    d = dump(srv, "/noover/x.txt")
    assert d["options"] == {"srvopt": "s1", "level": "server", "tobeunset": "present"}
    assert d["config"]["PythonAutoReload"] == "0"
    assert d["server_options"] == {"srvopt": "s1", "level": "server",
                                   "tobeunset": "present"}
    assert d["server_config"]["PythonAutoReload"] == "0"
    assert d["server_config"]["PythonDebug"] == "0"


def test_vhost_overrides_main_server(srv):
    d = json.loads(srv.get("/noover/x.txt", port=srv.port2).text)
    assert d["options"] == {"srvopt": "s1", "level": "vhost", "vhopt": "v1"}
    assert d["config"]["PythonAutoReload"] == "1"
    assert d["config"]["PythonDebug"] == "0"
    # server.get_options() does not drop empty values (PythonOption)
    assert d["server_options"] == {"srvopt": "s1", "level": "vhost",
                                   "tobeunset": "", "vhopt": "v1"}
    assert d["server_config"]["PythonAutoReload"] == "1"


def test_directory_overrides_vhost(srv):
    d = json.loads(srv.get("/cfg/sub/x.txt", port=srv.port2).text)
    assert d["options"]["level"] == "subdir"
    assert d["options"]["vhopt"] == "v1"
    assert d["config"]["PythonDebug"] == "1"
    assert d["config"]["PythonAutoReload"] == "1"


def test_python_path(srv):
    r = srv.get("/pp/x.txt")
    assert r.status == 200, (r, srv.error_log()[-3000:])
    assert r.text == "from-lib2"


def test_python_path_not_inherited(srv):
    # /nopp has no PythonPath and its own interpreter: lib2 is not on its
    # sys.path, so the module cannot be imported.
    mark = srv.log_mark()
    r = srv.get("/nopp/x.txt")
    assert r.status == 500
    assert "onlylib2" in srv.log_since(mark)


def test_no_crash(srv):
    srv.assert_no_crash()
