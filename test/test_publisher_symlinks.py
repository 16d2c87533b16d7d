"""mod_python.publisher resolves the module file it loads through httpd's
own rules (req.lookup_file, a sub-request): `Options None` refuses a
symbolic link whether the URL names it (`/d/link.py`) or the publisher adds
the `.py` itself (`/d/link`, `/d/link/index`, the index.py fallback);
`FollowSymLinks` follows it only to a target whose <Directory> is not
`Require all denied`; `SymLinksIfOwnerMatch` compares owners.  A refused
module is never imported.
"""
import os
import pwd

import pytest

PAGE = '''
import os
open(os.path.join("@ROOT@", "tmp", "imported-%s"), "w").close()

def index(req):
    return "%s index"

def other(req):
    return "%s other"
'''

CONF = """
<Directory @DOCROOT@/none>
  Options None
  SetHandler mod_python
  PythonHandler mod_python.publisher
</Directory>
<Directory @DOCROOT@/noneidx>
  Options None
  SetHandler mod_python
  PythonHandler mod_python.publisher
</Directory>
<Directory @DOCROOT@/follow>
  Options FollowSymLinks
  SetHandler mod_python
  PythonHandler mod_python.publisher
</Directory>
<Directory @DOCROOT@/followadd>
  Options FollowSymLinks
  AddHandler mod_python .py
  PythonHandler mod_python.publisher
</Directory>
<Directory @DOCROOT@/owner>
  Options SymLinksIfOwnerMatch
  SetHandler mod_python
  PythonHandler mod_python.publisher
</Directory>
<Directory @ROOT@/shared>
  Require all granted
</Directory>
"""
# @ROOT@/secret is under the base config's <Directory /> Require all denied.

FILES = {
    "secret/mod.py": PAGE % ("secret", "secret", "secret"),
    "shared/mod.py": PAGE % ("shared", "shared", "shared"),
    "shared/sub/mod.py": PAGE % ("sub", "sub", "sub"),
    "htdocs/none/plain.py": PAGE % ("plain", "plain", "plain"),
    "htdocs/follow/plain.py": PAGE % ("fplain", "fplain", "fplain"),
}

LINKS = {
    "htdocs/none/link.py": "secret/mod.py",
    "htdocs/none/ok.py": "shared/mod.py",
    "htdocs/none/dir": "shared/sub",
    "htdocs/noneidx/index.py": "shared/mod.py",
    "htdocs/follow/link.py": "secret/mod.py",
    "htdocs/follow/ok.py": "shared/mod.py",
    "htdocs/follow/dir": "shared/sub",
    "htdocs/follow/rel.py": "plain.py",
    "htdocs/followadd/link.py": "secret/mod.py",
    "htdocs/followadd/ok.py": "shared/mod.py",
    "htdocs/owner/same.py": "shared/mod.py",
    "htdocs/owner/other.py": "shared/mod.py",
}


@pytest.fixture(scope="module")
def srv(httpd):
    s = httpd(CONF, files=FILES, name="pubsym", start=False)
    for d in ("htdocs/none", "htdocs/noneidx", "htdocs/follow", "htdocs/followadd",
              "htdocs/owner"):
        os.makedirs(os.path.join(s.root, d), exist_ok=True)
        os.chmod(os.path.join(s.root, d), 0o755)
    for link, target in LINKS.items():
        path = os.path.join(s.root, link)
        if target == "plain.py":
            os.symlink(target, path)
        else:
            os.symlink(os.path.join(s.root, target), path)
    # a link owned by someone else than its target's owner
    os.lchown(os.path.join(s.root, "htdocs/owner/other.py"),
              pwd.getpwnam("nobody").pw_uid, -1)
    return s.start()


def imported(srv, name):
    return os.path.exists(os.path.join(srv.root, "tmp", "imported-" + name))


def refused(srv, path, status=403):
    mark = srv.log_mark()
    r = srv.get(path)
    assert r.status == status, (path, r, srv.log_since(mark))
    assert "index" not in r.text
    return srv.log_since(mark)


@pytest.mark.parametrize("path", ["/none/link.py", "/none/link", "/none/link/",
                                  "/none/link/index", "/none/link.py/other",
                                  "/none/ok", "/none/ok/other", "/none/dir/mod",
                                  "/noneidx/", "/noneidx/other"])
def test_options_none_refuses_links(srv, path):
    refused(srv, path)


def test_options_none_logs_why(srv):
    log = refused(srv, "/none/link/index")
    assert "MP0394" in log and "link.py" in log, log


def test_options_none_plain_file_works(srv):
    r = srv.get("/none/plain")
    assert (r.status, r.text) == (200, "plain index")
    r = srv.get("/none/plain.py/other")
    assert (r.status, r.text) == (200, "plain other")


@pytest.mark.parametrize("path", ["/follow/link.py", "/follow/link", "/follow/link/index",
                                  "/followadd/link.py", "/followadd/link.py/other"])
def test_follow_symlinks_still_honours_target_access(srv, path):
    log = refused(srv, path)
    assert "MP0394" in log and os.path.join(srv.root, "secret", "mod.py") in log, log


@pytest.mark.parametrize("path,text", [
    ("/follow/ok", "shared index"), ("/follow/ok.py", "shared index"),
    ("/follow/ok/other", "shared other"), ("/followadd/ok.py/other", "shared other"),
    ("/follow/dir/mod", "sub index"), ("/follow/rel", "fplain index"),
])
def test_follow_symlinks_to_allowed_target_works(srv, path, text):
    r = srv.get(path)
    assert (r.status, r.text) == (200, text), (r, srv.error_log()[-2000:])


def test_symlinks_if_owner_match(srv):
    r = srv.get("/owner/same")
    assert (r.status, r.text) == (200, "shared index")
    for path in ("/owner/other", "/owner/other.py", "/owner/other/index"):
        refused(srv, path)


def test_refused_modules_never_imported(srv):
    for path in ("/none/link", "/follow/link/index", "/followadd/link.py"):
        srv.get(path)
    assert not imported(srv, "secret")
    srv.assert_no_crash()
