"""The README stays in step with the code: every MPnnnn log tag is in its
catalogue, and its test command is the one CI runs."""
import subprocess

from harness import REPO


def test_message_catalogue_complete():
    p = subprocess.run(["/usr/bin/python3", str(REPO / "scripts" / "msg-catalogue.py"),
                        "--check", str(REPO / "README.md")], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_readme_test_command_is_ci():
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "./scripts/run-tests.sh" in ci
    assert "./scripts/run-tests.sh" in readme


def test_no_duplicate_tags_across_messages():
    import re
    seen = {}
    for f in list((REPO / "src").glob("*.c")):
        for m in re.finditer(r"MP_APLOGNO\((\d{4})\)\s*\"([^\"]*)", f.read_text()):
            seen.setdefault(m.group(1), set()).add((f.name, m.group(2)[:30]))
    clashes = {k: v for k, v in seen.items() if len({n for n, _ in v}) > 1}
    assert not clashes, clashes
