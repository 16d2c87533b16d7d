"""The README stays the front door: its test command is the one CI runs,
and the log tags of the sources are unique (the catalogue itself lives in
the manual, docs/troubleshooting.rst, and is checked by test_manual)."""
import re

from harness import REPO


def test_readme_test_command_is_ci():
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "./scripts/run-tests.sh" in ci
    assert "./scripts/run-tests.sh" in readme


def test_no_duplicate_tags_across_messages():
    seen = {}
    for f in list((REPO / "src").glob("*.c")):
        for m in re.finditer(r"MP_APLOGNO\((\d{4})\)\s*\"([^\"]*)", f.read_text()):
            seen.setdefault(m.group(1), set()).add((f.name, m.group(2)[:30]))
    clashes = {k: v for k, v in seen.items() if len({n for n, _ in v}) > 1}
    assert not clashes, clashes
