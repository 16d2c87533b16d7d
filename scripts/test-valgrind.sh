#!/usr/bin/env bash
# Memcheck run: a representative subset of the suite (request, table, filter
# and session tests) with every httpd started as one foreground process
# (`httpd -X`) under valgrind.  Usage: scripts/test-valgrind.sh [pytest args]
# (default: the subset below; or `make valgrind`).
#
# Python runs with PYTHONMALLOC=malloc so memcheck sees every object
# allocation (pymalloc's arenas would hide them and trip its address checks).
# Suppressions: test/valgrind.supp (ours, for httpd/APR/CPython internals,
# each commented) and valgrind's python3.supp.  Each process writes its
# report to $MP_VG_DIR/vg.<pid>.log; the run fails if any report counts an
# error (the first few stacks are shown, those in our code first).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${MP_PYTHON:-/usr/bin/python3}"
command -v valgrind >/dev/null || { echo "test-valgrind: apt-get install valgrind" >&2; exit 2; }
[ -f mod_python.so ] || { echo "test-valgrind: mod_python.so missing (make)" >&2; exit 2; }

VG_DIR="${MP_VG_DIR:-$(mktemp -d /tmp/mp-valgrind-XXXXXX)}"
mkdir -p "$VG_DIR"
chmod 1777 "$VG_DIR"
rm -f "$VG_DIR"/vg.*.log

SUPP=(--suppressions="$ROOT/test/valgrind.supp")
for s in /usr/lib/x86_64-linux-gnu/valgrind/python3.supp /usr/lib/valgrind/python3.supp; do
    [ -f "$s" ] && SUPP+=(--suppressions="$s") && break
done
VG="valgrind --tool=memcheck --error-limit=no --num-callers=30 --track-origins=yes"
VG="$VG --leak-check=no --child-silent-after-fork=yes --log-file=$VG_DIR/vg.%p.log"
VG="$VG ${SUPP[*]}"
export MP_TEST_WRAP="$VG"
export MP_TEST_ENV="PYTHONMALLOC=malloc"
export MP_TEST_TIMEOUT_SCALE="${MP_TEST_TIMEOUT_SCALE:-8}"
export MP_TEST_MPMS="${MP_VG_MPMS:-event}"

[ $# -gt 0 ] || set -- test/test_request_attrs.py test/test_request_methods.py \
    test/test_request_io.py test/test_table.py test/test_filters.py test/test_session.py
echo "test-valgrind: reports to $VG_DIR" >&2
"$PYTHON" -m pytest -q "$@"
rc=$?

total=0 ours=0 files=0
for f in "$VG_DIR"/vg.*.log; do
    [ -f "$f" ] || continue
    files=$((files + 1))
    n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
    total=$((total + ${n:-0}))
    if [ "${n:-0}" -gt 0 ]; then
        m=$("$PYTHON" - "$f" "$ROOT" <<'PY'
# An error is ours when its innermost frame outside libc and valgrind's
# preload (memcpy, strlen, malloc...) is in mod_python.so.
import glob, os, re, sys
text = open(sys.argv[1], errors="replace").read()
ours_files = {os.path.basename(p) for p in glob.glob(sys.argv[2] + "/src/*.c")}
ours_files.add("mod_python.c")
frame = re.compile(r"==\d+==    (?:at|by) 0x[0-9A-F]+: (\S+) \((.*)\)")
def is_ours(where):
    return "mod_python.so" in where or where.split(":")[0] in ours_files
errs, ours = [], []
for block in re.split(r"\n==\d+== \n", text):
    frames = frame.findall(block)
    if not frames or not re.search(r"==\d+== [A-Z]", block):
        continue
    errs.append(block)
    for fn, where in frames:
        if "libc.so" in where or "vgpreload" in where:
            continue
        if is_ours(where):
            ours.append(block)
        break
print(len(ours))
for b in (ours or errs)[:5]:
    sys.stderr.write(b + "\n----\n")
PY
)
        ours=$((ours + ${m:-0}))
        echo "test-valgrind: $f: $n errors (${m:-0} in our code)" >&2
    fi
done
echo "test-valgrind: $files process reports, $total errors, $ours in our code (pytest exit $rc)" >&2
[ "$files" -gt 0 ] || { echo "test-valgrind: FAILURE: no valgrind report written" >&2; exit 1; }
[ "$total" -eq 0 ] || exit 1
exit $rc
