"""The manual (docs/) stays in step with the code, both ways:

* every directive of the module's command table has a section in
  docs/configuration.rst (with the right contexts), and every directive
  section there is in the table;
* every PythonOption key the C module or the Python library reads is in
  the option table of docs/configuration.rst, and every key listed there
  is read somewhere;
* every public name of mod_python.apache and of each library module is
  documented on its API page, and every name documented there exists;
* every method and attribute of the C types (found in a running httpd) is
  on its API page, has a docstring, and nothing documented is missing;
* the log catalogue of docs/troubleshooting.rst matches the sources;
* the README links into pages that exist, and nothing in the repository
  points at files outside it.
"""
import ast
import json
import re
import subprocess

import pytest

from harness import REPO

DOCS = REPO / "docs"
PKG = REPO / "lib" / "python" / "mod_python"
CONFIG_PAGE = DOCS / "configuration.rst"

LIBRARY_PAGES = {
    "apache": "api/apache.rst", "util": "api/util.rst", "publisher": "api/publisher.rst",
    "psp": "api/psp.rst", "Session": "api/session.rst", "Cookie": "api/cookie.rst",
    "wsgi": "api/wsgi.rst", "cgihandler": "api/cgihandler.rst", "cache": "api/cache.rst",
    "httpdconf": "api/httpdconf.rst", "testhandler": "api/testhandler.rst",
}
C_TYPE_PAGES = {
    "mp_request": "api/request.rst", "mp_hlist": "api/request.rst",
    "mp_conn": "api/connection.rst", "mp_server": "api/server.rst",
    "mp_table": "api/table.rst", "mp_filter": "api/filter.rst", "mp_finfo": "api/finfo.rst",
}


def rst(page):
    return (DOCS / page).read_text()


# ------------------------------------------------------------ directives

def command_table():
    """{directive: context expression} from the module's command_rec table
    (mod_python.c), following a macro that holds its rows (MP_DIRECTIVES)."""
    text = (REPO / "mod_python.c").read_text()
    table = re.search(r"command_rec\s+\w+\[\]\s*=\s*\{(.*?)\n\};", text, re.S).group(1)
    for macro in re.findall(r"^\s*(\w+)\(", table, re.M):
        for h in sorted((REPO / "include").glob("*.h")):
            m = re.search(r"#define %s\([^)]*\)((?:.*\\\n)*.*)" % macro, h.read_text())
            if m:
                table += "\n" + m.group(1).replace("\\\n", "\n") + ","
    out = {}
    for m in re.finditer(r'(MP_HANDLER_CMD|MP_FLAG_CMD|AP_INIT_\w+)\(\s*"(\w+)"\s*,', table):
        macro, name = m.groups()
        depth, i = 1, m.end()
        while depth:                      # to the macro's closing parenthesis
            depth += {"(": 1, ")": -1}.get(table[i], 0)
            i += 1
        args, depth, cur = [], 0, ""
        for ch in table[m.end():i - 1]:   # split on top-level commas
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                args.append(cur.strip())
                cur = ""
            else:
                cur += ch
        args.append(cur.strip())
        if macro == "MP_FLAG_CMD":
            ctx = "OR_ALL"
        elif macro == "MP_HANDLER_CMD":   # (name, phase, ctx, help)
            ctx = args[1]
        else:                             # AP_INIT_*(name, func, info, ctx, help)
            ctx = args[2]
        out[name] = " ".join(ctx.split())
    return out


def directive_sections():
    """{directive: section text} of docs/configuration.rst."""
    lines = CONFIG_PAGE.read_text().splitlines()
    heads = [i for i in range(len(lines) - 1)
             if re.fullmatch(r"Python\w+", lines[i])
             and re.fullmatch(r"~+", lines[i + 1]) and len(lines[i + 1]) == len(lines[i])]
    out = {}
    for n, i in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(lines)
        out[lines[i]] = "\n".join(lines[i + 2:end])
    return out


def test_every_directive_has_a_section():
    table, sections = command_table(), directive_sections()
    assert len(table) >= 26
    assert sorted(set(table) - set(sections)) == [], "directives without a section"
    assert sorted(set(sections) - set(table)) == [], "sections of directives that do not exist"


def test_directive_sections_state_syntax_and_context():
    table, sections = command_table(), directive_sections()
    for name, ctx in table.items():
        body = sections[name]
        syntax = re.search(r":Syntax: ``(\S+)", body)
        context = re.search(r":Context: (.*)", body)
        assert syntax and syntax.group(1) == name, name
        assert context, name
        where = context.group(1)
        assert "server config" in where, name
        if ctx == "OR_ALL":
            assert "directory, .htaccess" in where and ":Override:" in body, name
        elif ctx == "RSRC_CONF":
            assert "directory" not in where and ".htaccess" not in where, name
        else:
            assert ctx.replace(" ", "") == "RSRC_CONF|ACCESS_CONF", (name, ctx)
            assert "directory (not .htaccess)" in where, name


# ------------------------------------------------------------ options

def _c_string_macros(text):
    return {k: v for k, v in re.findall(r'^#define\s+(\w+)\s+"([^"]*)"\s*$', text, re.M)}


def c_option_keys():
    """Keys the C module reads from an options table: apr_table_get(<options
    table>, KEY) and <something>_option(server, KEY), KEY a literal or a
    string macro."""
    keys = {}
    for f in sorted((REPO / "src").glob("*.c")):
        text = f.read_text()
        macros = _c_string_macros(text)
        calls = re.findall(r'apr_table_get\(([^;]*?opt[^;]*?),\s*("[^"]*"|\w+)\s*\)', text)
        calls += re.findall(r'\b\w+_option\(\s*\w+\s*,\s*()("[^"]*"|\w+)\s*\)', text)
        for _, key in calls:
            key = key[1:-1] if key.startswith('"') else macros.get(key)
            if key:
                keys.setdefault(key, set()).add(f.name)
    return keys


def _is_get_options(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "get_options"


def _options_names(scope):
    """Names bound to `<x>.get_options()` in a function (or module) body."""
    names = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and _is_get_options(node.value):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _module_constants(tree):
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node.value.value
    return out


def _param_values(tree, func, param):
    """Constant string arguments given for parameter `param` of function `func`."""
    pos = [a.arg for a in func.args.args].index(param)
    vals = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == func.name and len(node.args) > pos \
                and isinstance(node.args[pos], ast.Constant):
            vals.add(node.args[pos].value)
    return vals


def _keys_of(expr, tree, consts, func):
    """The option key(s) an expression can be: literal, module constant, or
    "prefix" + parameter (every constant that parameter is called with)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.Name) and expr.id in consts:
        return {consts[expr.id]}
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add) \
            and isinstance(expr.left, ast.Constant) and isinstance(expr.right, ast.Name) \
            and func is not None:
        return {expr.left.value + v for v in _param_values(tree, func, expr.right.id)}
    return set()


def _option_reads(scope, opt_names):
    """(node, key expressions) of every read of the options table in scope:
    <table>.get(KEY), <table>[KEY], *_option(<table>, KEY, KEY...), where
    <table> is req.get_options() or a name bound to it."""
    def is_table(n):
        return _is_get_options(n) or (isinstance(n, ast.Name) and n.id in opt_names)
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "get" and is_table(node.func.value) and node.args:
            yield node, [node.args[0]]
        elif isinstance(node, ast.Subscript) and is_table(node.value):
            yield node, [node.slice]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id.endswith("_option") and node.args and is_table(node.args[0]):
            yield node, node.args[1:]


def py_option_keys():
    """Keys the Python library reads from req.get_options()/server.get_options()."""
    keys = {}
    for f in sorted(PKG.glob("*.py")):
        tree = ast.parse(f.read_text())
        consts = _module_constants(tree)
        scopes = [(fn, fn) for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)]
        for scope, func in scopes:
            for _, exprs in _option_reads(scope, _options_names(scope)):
                for e in exprs:
                    for k in _keys_of(e, tree, consts, func):
                        keys.setdefault(k, set()).add(f.name)
    return keys


def documented_options():
    """(keys in the Key column, older names given in the table) of the option table."""
    text = CONFIG_PAGE.read_text()
    table = text.split(".. _options:", 1)[1].split("\n\n``get_config()`` keys", 1)[0]
    main = set(re.findall(r"^   \* - ``([^`]+)``", table, re.M))
    older = set(re.findall(r"older name ``([^`]+)``", table))
    return main, older


def test_every_option_read_is_documented():
    read = {**py_option_keys(), **c_option_keys()}
    main, older = documented_options()
    assert len(read) >= 20
    missing = {k: sorted(v) for k, v in read.items() if k not in main | older}
    assert not missing, "options read but not in docs/configuration.rst: %s" % missing


def test_every_documented_option_is_read():
    read = set(py_option_keys()) | set(c_option_keys())
    main, older = documented_options()
    assert sorted((main | older) - read) == [], "documented options nothing reads"
    assert all(k.startswith("mod_python.") for k in main)


def test_known_key_list_is_the_option_table():
    """config_check.c's list of known keys (MP0015 warns about any other
    key under mod_python.) is the option table's Key column."""
    text = (REPO / "src" / "config_check.c").read_text()
    body = text.split("known_keys[] = {", 1)[1].split("};", 1)[0]
    main, _ = documented_options()
    assert set(re.findall(r'"([^"]+)"', body)) == main


def test_option_checks_documented():
    """The keys apachectl -t checks (config_check.c's table) are the ones
    marked "checked" in the option table."""
    text = CONFIG_PAGE.read_text().split(".. _options:", 1)[1]
    marked = set(re.findall(r"^   \* - ``([^`]+)``\n     - .*\n     - .*\n     - checked$",
                            text, re.M))
    checks = set()
    for f in (REPO / "src").glob("*.c"):
        checks |= set(re.findall(r'\{"(mod_python\.[\w.]+)",\s*check_\w+', f.read_text()))
    assert checks, "no option checks found"
    assert sorted(checks ^ marked) == []


# ------------------------------------------------------------ API names

def public_names(module):
    """Public top-level names of lib/python/mod_python/<module>.py: __all__
    (literal and .append("x")) plus every top-level def, class and assignment
    without a leading underscore, and names re-exported from _apache."""
    tree = ast.parse((PKG / (module + ".py")).read_text())
    names = set()

    def visit(body):
        for n in body:
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                names.add(n.name)
            elif isinstance(n, ast.Assign):
                for t in n.targets:
                    names.update(e.id for e in ast.walk(t) if isinstance(e, ast.Name))
                    if isinstance(t, ast.Name) and t.id == "__all__":
                        names.update(ast.literal_eval(n.value))
            elif isinstance(n, ast.ImportFrom) and n.module == "_apache":
                names.update(a.asname or a.name for a in n.names)
            elif isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) \
                    and isinstance(n.value.func, ast.Attribute) \
                    and n.value.func.attr == "append" \
                    and getattr(n.value.func.value, "id", None) == "__all__" \
                    and isinstance(n.value.args[0], ast.Constant):
                names.add(n.value.args[0].value)
            elif isinstance(n, (ast.Try, ast.If)):
                visit(n.body)
                visit(n.orelse)
                for h in getattr(n, "handlers", []):
                    visit(h.body)
    visit(tree.body)
    return {n for n in names if not n.startswith("_")}


_DIRECTIVE = re.compile(r"^( *)\.\. py:(\w+):: ([\w.]+)(?:\(.*)?$")


def documented_objects(page):
    """[(indent, kind, name)] of the py domain directives of a page, with the
    extra names of multi-name directives (continuation lines)."""
    out = []
    lines = rst(page).splitlines()
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line)
        if not m:
            continue
        indent, kind, name = len(m.group(1)), m.group(2), m.group(3)
        if kind in ("module", "currentmodule"):
            continue
        out.append((indent, kind, name))
        j = i + 1
        col = line.index("::") + 3
        while j < len(lines) and lines[j].startswith(" " * col) and lines[j].strip() \
                and not lines[j].strip().startswith(":"):
            out.append((indent, kind, re.match(r"\s*([\w.]+)", lines[j]).group(1)))
            j += 1
    return out


def literal_names(page):
    return set(re.findall(r"``([A-Za-z_]\w*)", rst(page)))


@pytest.mark.parametrize("module", sorted(LIBRARY_PAGES))
def test_public_names_documented(module):
    page = LIBRARY_PAGES[module]
    documented = {name for _, _, name in documented_objects(page)} | literal_names(page)
    missing = sorted(public_names(module) - documented)
    assert not missing, "%s: public names not in docs/%s" % (module, page)


@pytest.mark.parametrize("module", sorted(LIBRARY_PAGES))
def test_documented_names_exist(module):
    page = LIBRARY_PAGES[module]
    src = (PKG / (module + ".py")).read_text()
    top = public_names(module)
    members = set(re.findall(r"def (\w+)\(", src)) | set(re.findall(r"self\.(\w+)\s*=", src)) \
        | set(re.findall(r"^    (\w+)\s*=", src, re.M))
    bad = []
    for indent, kind, name in documented_objects(page):
        if indent == 0 and name not in top:
            bad.append(name)
        if indent > 0 and name not in members:
            bad.append(name)
    assert not bad, "docs/%s documents names %s.py does not have" % (page, module)


# ------------------------------------------------------------ C types

TYPES_HANDLER = r'''
import json
import _apache
from mod_python import apache

def handler(req):
    out = {}
    for tname in ("mp_request", "mp_hlist", "mp_conn", "mp_server", "mp_table",
                  "mp_filter", "mp_finfo"):
        t = getattr(_apache, tname)
        members = {n: (getattr(v, "__doc__", None) or "") for n, v in vars(t).items()
                   if not n.startswith("_")}
        out[tname] = {"doc": t.__doc__ or "", "members": members}
    req.content_type = "application/json"
    req.write(json.dumps(out))
    return apache.OK
'''


@pytest.fixture(scope="module")
def c_types(httpd):
    s = httpd("""
<Directory @DOCROOT@>
    SetHandler mod_python
    PythonHandler types
</Directory>
""", files={"htdocs/types.py": TYPES_HANDLER}, name="manual")
    r = s.get("/x")
    assert r.status == 200, r.text
    return json.loads(r.text)


def class_members(page, cls):
    """Names documented under `.. py:class:: cls` (one level deeper)."""
    out, inside = set(), False
    for indent, kind, name in documented_objects(page):
        if indent == 0:
            inside = kind == "class" and name == cls
        elif inside:
            out.add(name)
    return out


@pytest.mark.parametrize("tname", sorted(C_TYPE_PAGES))
def test_c_type_members_documented(c_types, tname):
    members = set(c_types[tname]["members"])
    documented = class_members(C_TYPE_PAGES[tname], tname)
    assert members, tname
    assert sorted(members - documented) == [], "%s members not in docs/%s" % (
        tname, C_TYPE_PAGES[tname])
    assert sorted(documented - members) == [], "docs/%s documents %s members that do not exist" % (
        C_TYPE_PAGES[tname], tname)


@pytest.mark.parametrize("tname", sorted(C_TYPE_PAGES))
def test_c_types_have_docstrings(c_types, tname):
    t = c_types[tname]
    assert len(t["doc"]) > 10, tname
    undocumented = sorted(n for n, doc in t["members"].items() if not doc.strip())
    assert not undocumented, "%s: members without a docstring (help() shows nothing)" % tname


# ------------------------------------------------------------ the rest

def test_log_catalogue_in_manual():
    p = subprocess.run(["/usr/bin/python3", str(REPO / "scripts" / "msg-catalogue.py"),
                        "--check", str(DOCS / "troubleshooting.rst")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_tags_named_in_the_manual_exist():
    sys_path = str(REPO / "scripts")
    import sys
    if sys_path not in sys.path:
        sys.path.insert(0, sys_path)
    tags = {"MP" + n for n in __import__("msg-catalogue").messages()}
    named = set()
    for page in DOCS.rglob("*.rst"):
        if "_build" not in page.parts:
            named |= set(re.findall(r"\bMP\d{4}\b", page.read_text()))
    assert sorted(named - tags) == [], "log tags the manual names but no source has"


def test_every_page_is_in_the_toctree():
    pages = {str(p.relative_to(DOCS))[:-4] for p in DOCS.rglob("*.rst")
             if "_build" not in p.parts}
    listed = {"index"}
    for p in ("index", "api/index"):
        base = p.rsplit("/", 1)[0] + "/" if "/" in p else ""
        for block in re.findall(r"\.\. toctree::\n((?:   .*\n|\n)+)", rst(p + ".rst")):
            listed |= {base + w.strip() for w in block.splitlines()
                       if w.strip() and not w.strip().startswith(":")}
    assert pages == listed


def test_readme_links_into_the_manual():
    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert len(links) >= 8
    for link in links:
        assert (REPO / link).exists(), link


OUTSIDE = re.compile(r"python-api\.md|handlers\.md|stdlib\.md|directives\.md|\bcli\.md"
                     r"|shared/spec|shared/design|\.\./shared/|/work/|spec README|spec §")


def test_nothing_refers_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout.split()
    bad = []
    for name in files:
        if name.startswith("notes/") or name.startswith("test/test_manual.py"):
            continue
        path = REPO / name
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                bad.append("%s:%d: %s" % (name, n, line.strip()[:80]))
    assert not bad, "\n".join(bad)


def test_manual_builds_without_warnings(tmp_path):
    """What `make docs` does (warnings are errors, every reference checked),
    into a temporary directory."""
    p = subprocess.run(["sphinx-build", "-q", "-W", "--keep-going", "-n", "-b", "html",
                        "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "html" / "configuration.html").exists()


if __name__ == "__main__":
    # What the tests check, counted (the C type members are the ones the
    # pages document, which test_c_type_members_documented holds equal to
    # what a running httpd has): /usr/bin/python3 test/test_manual.py
    import sys
    sys.path.insert(0, str(REPO / "scripts"))
    catalogue = __import__("msg-catalogue")
    main_keys, older = documented_options()
    read = set(py_option_keys()) | set(c_option_keys())
    names = {m: len(public_names(m)) for m in LIBRARY_PAGES}
    members = {t: len(class_members(p, t)) for t, p in C_TYPE_PAGES.items()}
    print("directives: %d" % len(command_table()))
    print("PythonOption keys read: %d (%d mod_python.* keys, %d older names)"
          % (len(read), len(main_keys), len(older)))
    print("public names: %d (%s)" % (sum(names.values()),
                                     ", ".join("%s %d" % kv for kv in names.items())))
    print("C type members: %d (%s)" % (sum(members.values()),
                                       ", ".join("%s %d" % kv for kv in members.items())))
    print("log tags: %d" % len(catalogue.messages()))
