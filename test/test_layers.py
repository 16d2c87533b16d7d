"""HACKING.md stays true: its layer table lists every C file and header, no
`#include "..."` goes up a layer or round in a circle, and every MPnnnn log
tag lies in the range HACKING.md gives its file.  Both tables are read from
HACKING.md itself, so the document and the check cannot drift apart."""
import re

from harness import REPO

HACKING = REPO / "HACKING.md"
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def md_table(after):
    """Rows (lists of cells) of the first Markdown table after the line
    matching `after`, header row dropped."""
    text = HACKING.read_text()
    m = re.search(after, text, re.M)
    assert m, "HACKING.md has no %r" % after
    rows = []
    for line in text[m.end():].splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not set("".join(cells)) <= set("-: "):
            rows.append(cells)
    return rows[1:]


def layers():
    """[(name, files, headers, peers)] top to bottom of the table: files as
    `src/x.c`/`mod_python.c`, headers as `x.h`; peers: the row's files may
    include each other's headers in a circle."""
    return [(name, re.findall(r"`((?:src/)?\w+\.c)`", files),
             re.findall(r"`(\w+\.h)`", headers), "each other" in may_use)
            for name, files, headers, may_use in md_table(r"^## Layers")]


def c_files():
    return sorted(["mod_python.c"] + ["src/" + p.name for p in (REPO / "src").glob("*.c")])


def h_files():
    return sorted(p.name for p in (REPO / "include").glob("*.h"))


def unit_of(path, headers):
    """A header is its own unit; src/<x>.c belongs to mp_<stem>.h for the
    longest stem with x == stem or x starting with stem + "_" (request_io.c
    -> mp_request.h); a .c file without a header (mod_python.c) is its own."""
    if path.endswith(".h"):
        return path
    base = path.rsplit("/", 1)[-1][:-2]
    stems = [h[3:-2] for h in headers if h.startswith("mp_")]
    fits = [s for s in stems if base == s or base.startswith(s + "_")]
    return "mp_%s.h" % max(fits, key=len) if fits else path


def include_graph():
    """{unit: {units it includes}} over our own files and headers."""
    headers = h_files()
    g = {}
    for path in c_files() + ["include/" + h for h in headers]:
        unit = unit_of(path.rsplit("/", 1)[-1] if path.endswith(".h") else path, headers)
        incs = INCLUDE_RE.findall((REPO / path).read_text(errors="replace"))
        g.setdefault(unit, set()).update(unit_of(i, headers) for i in incs if i in headers)
    return {u: deps - {u} for u, deps in g.items()}


def ranks():
    """{unit: (row index, row name, peers)} from the layer table."""
    headers = h_files()
    out = {}
    for i, (name, files, hdrs, peers) in enumerate(layers()):
        for f in files + hdrs:
            out[unit_of(f, headers)] = (i, name, peers)
    return out


def upward(graph, rank):
    return sorted("%s (%s) includes %s (%s)" % (u, rank[u][1], d, rank[d][1])
                  for u, deps in graph.items() for d in deps if rank[d][0] > rank[u][0])


def circles(graph, rank):
    """Include circles, except those wholly inside one peers row."""
    found, done = set(), set()

    def visit(node, path):
        for d in sorted(graph.get(node, ())):
            if d in path:
                cyc = path[path.index(d):] + [d]
                if not (all(rank[u][2] for u in cyc) and len({rank[u][0] for u in cyc}) == 1):
                    found.add(" -> ".join(cyc))
            elif d not in done:
                visit(d, path + [d])
        done.add(node)

    for u in sorted(graph):
        if u not in done:
            visit(u, [u])
    return sorted(found)


def test_layer_table_lists_every_file_once():
    files = [f for _, fs, _, _ in layers() for f in fs]
    headers = [h for _, _, hs, _ in layers() for h in hs]
    assert sorted(files) == c_files()
    assert sorted(headers) == h_files()


def test_no_upward_include():
    assert upward(include_graph(), ranks()) == []


def test_no_circular_include():
    assert circles(include_graph(), ranks()) == []


def test_the_checks_catch_what_they_should():
    rank = ranks()
    assert unit_of("src/request_io.c", h_files()) == "mp_request.h"
    assert unit_of("src/psp_parser.c", h_files()) == "mp_psp_parser.h"
    assert unit_of("src/filterobj.c", h_files()) == "mp_filterobj.h"
    # util.c including the dispatcher's header goes up
    assert upward({"mp_util.h": {"mp_dispatch.h"}}, rank)
    # config.c and mutex.c (one row, not peers) including each other
    assert circles({"mp_config.h": {"mp_mutex.h"}, "mp_mutex.h": {"mp_config.h"}}, rank)
    # the objects may (request <-> server)
    assert not circles({"mp_request.h": {"mp_server.h"}, "mp_server.h": {"mp_request.h"}},
                       rank)


def tag_ranges():
    """[(low, high, {file names})] from HACKING.md's table of log tags."""
    return [(int(tags.split("-")[0]), int(tags.split("-")[1]), set(re.findall(r"`([\w.]+)`", f)))
            for tags, f in md_table(r"Tags by file:")]


def test_log_tags_in_their_files_range():
    ranges = tag_ranges()
    wrong = []
    for f in sorted((REPO / "src").glob("*.c")) + \
            sorted((REPO / "lib" / "python" / "mod_python").glob("*.py")):
        text = f.read_text()
        for t in set(re.findall(r"MP_APLOGNO\((\d{4})\)", text) + re.findall(r'"MP(\d{4}):', text)):
            if not any(lo <= int(t) <= hi and f.name in names for lo, hi, names in ranges):
                wrong.append("MP%s in %s" % (t, f.name))
    assert not wrong, "outside the range HACKING.md gives their file: " + ", ".join(wrong)
