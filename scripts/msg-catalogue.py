#!/usr/bin/python3
"""Print the table of mod_python's numbered log messages (MPnnnn), read
from the C and Python sources, as Markdown (for README.md).
Usage: scripts/msg-catalogue.py [--check README.md]"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def messages():
    found = {}
    c_re = re.compile(r'MP_APLOGNO\((\d{4})\)\s*((?:"(?:[^"\\]|\\.)*"\s*(?:APR_\w+\s*)?)+)', re.S)
    for f in sorted((ROOT / "src").glob("*.c")):
        text = f.read_text()
        for m in c_re.finditer(text):
            parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
            msg = "".join(parts).replace("\\n", " ").replace('\\"', '"')
            found.setdefault(m.group(1), (f.name, msg))
    py_re = re.compile(r'"MP(\d{4}): ((?:[^"\\]|\\.)*)"((?:\s*"(?:[^"\\]|\\.)*")*)', re.S)
    for f in sorted((ROOT / "lib" / "python" / "mod_python").glob("*.py")):
        text = f.read_text()
        for m in py_re.finditer(text):
            rest = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(3)))
            found.setdefault(m.group(1), (f.name, (m.group(2) + rest).replace("\\n", " ")))
    return dict(sorted(found.items()))


def table():
    rows = ["| tag | source | message |", "|---|---|---|"]
    for num, (src, msg) in messages().items():
        msg = re.sub(r"\s+", " ", msg).strip().replace("|", "\\|")
        rows.append("| MP%s | %s | %s |" % (num, src, msg))
    return "\n".join(rows)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        readme = Path(sys.argv[2]).read_text()
        missing = [n for n in messages() if "MP" + n not in readme]
        if missing:
            sys.exit("README.md lacks message tags: " + ", ".join("MP" + n for n in missing))
        sys.exit(0)
    print(table())
