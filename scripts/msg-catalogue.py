#!/usr/bin/python3
"""The catalogue of mod_python's numbered log messages (MPnnnn), read from
the C and Python sources, kept in the manual's troubleshooting page
(docs/troubleshooting.rst, between the catalogue markers) together with
what to do about each message.

Usage:
  scripts/msg-catalogue.py                   print tag, source and message, one a line
  scripts/msg-catalogue.py --update [FILE]   rewrite the catalogue table in FILE
                                             (default docs/troubleshooting.rst),
                                             keeping the advice written for each tag
  scripts/msg-catalogue.py --check [FILE]    exit 1 unless FILE's table matches the
                                             sources and every message has advice
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PAGE = ROOT / "docs" / "troubleshooting.rst"
BEGIN = ".. catalogue-begin"
END = ".. catalogue-end"
NO_ADVICE = "(no advice written yet)"

_C_STR = r'"(?:[^"\\]|\\.)*"'


def _c_defines(text):
    """String macros of a C file: NAME -> "text"."""
    return dict(re.findall(r'^#define\s+(\w+)\s+(' + _C_STR + r')\s*$', text, re.M))


def messages():
    """{tag number: (source file name, message text)} from src/*.c and the
    Python package (messages written as "MPnnnn: ...")."""
    found = {}
    c_re = re.compile(r'MP_APLOGNO\((\d{4})\)\s*((?:(?:' + _C_STR + r'|[A-Z][A-Z0-9_]*)\s*)+)', re.S)
    for f in sorted((ROOT / "src").glob("*.c")):
        text = f.read_text()
        defines = _c_defines(text)
        for m in c_re.finditer(text):
            parts = []
            for tok in re.findall(_C_STR + r'|[A-Z][A-Z0-9_]*', m.group(2)):
                if tok.startswith('"'):
                    parts.append(tok[1:-1])
                elif tok in defines:
                    parts.append(defines[tok][1:-1])
                elif tok.endswith("_FMT"):
                    parts.append("d")          # "%" APR_PID_T_FMT and friends
            msg = "".join(parts).replace("\\n", " ").replace('\\"', '"')
            found.setdefault(m.group(1), (f.name, msg))
    py_re = re.compile(r'"MP(\d{4}): ((?:[^"\\]|\\.)*)"((?:\s*"(?:[^"\\]|\\.)*")*)', re.S)
    for f in sorted((ROOT / "lib" / "python" / "mod_python").glob("*.py")):
        text = f.read_text()
        for m in py_re.finditer(text):
            rest = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(3)))
            found.setdefault(m.group(1), (f.name, (m.group(2) + rest).replace("\\n", " ")))
    return {k: (src, re.sub(r"\s+", " ", msg).strip()) for k, (src, msg) in sorted(found.items())}


def _literal(msg):
    # an inline literal may not start or end with a space, nor hold ``
    return "``%s``" % msg.replace("``", "` `") if msg else "(built at run time)"


def _parse_rows(block):
    """{tag: (source, message cell, advice lines)} from the table block."""
    rows = {}
    for chunk in re.split(r"\n   \* - ", "\n" + block)[1:]:
        items = re.split(r"\n     - ", chunk)
        if len(items) < 4 or not re.fullmatch(r"MP\d{4}", items[0].strip()):
            continue
        rows[items[0].strip()[2:]] = (items[1].strip(), items[2].strip(),
                                      "\n     - ".join(items[3:]).rstrip())
    return rows


def _split_page(text):
    try:
        head, rest = text.split(BEGIN + "\n", 1)
        block, tail = rest.split(END + "\n", 1)
    except ValueError:
        sys.exit("the page has no %r ... %r block" % (BEGIN, END))
    return head, block, tail


def render(msgs, advice):
    out = ["", ".. list-table::", "   :header-rows: 1", "   :widths: 9 11 40 40", "",
           "   * - Tag", "     - Source", "     - Message", "     - What to do"]
    for num, (src, msg) in msgs.items():
        out += ["   * - MP" + num, "     - " + src, "     - " + _literal(msg),
                "     - " + advice.get(num, NO_ADVICE)]
    return "\n".join(out) + "\n\n"


def check(page):
    _, block, _ = _split_page(page.read_text())
    rows = _parse_rows(block)
    msgs = messages()
    problems = []
    for num, (src, msg) in msgs.items():
        if num not in rows:
            problems.append("MP%s (%s) is not in the catalogue" % (num, src))
            continue
        if rows[num][0] != src or rows[num][1] != _literal(msg):
            problems.append("MP%s: source or text changed (run --update)" % num)
        if not rows[num][2].strip() or NO_ADVICE in rows[num][2]:
            problems.append("MP%s has no advice" % num)
    for num in rows:
        if num not in msgs:
            problems.append("MP%s is in the catalogue but in no source" % num)
    return problems


def main(argv):
    if len(argv) >= 2 and argv[1] in ("--update", "--check"):
        page = Path(argv[2]) if len(argv) > 2 else DEFAULT_PAGE
        if argv[1] == "--check":
            problems = check(page)
            if problems:
                sys.exit("%s:\n  %s" % (page, "\n  ".join(problems)))
            return
        head, block, tail = _split_page(page.read_text())
        advice = {n: a for n, (_, _, a) in _parse_rows(block).items()}
        page.write_text(head + BEGIN + "\n" + render(messages(), advice) + END + "\n" + tail)
        return
    for num, (src, msg) in messages().items():
        print("MP%s\t%s\t%s" % (num, src, msg))


if __name__ == "__main__":
    main(sys.argv)
