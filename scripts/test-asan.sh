#!/usr/bin/env bash
# Run the whole pytest suite against build-asan/mod_python.so (built by
# `make asan` with -fsanitize=address,undefined) and fail on any sanitizer
# report.  Usage: scripts/test-asan.sh [pytest arguments; default: test]
# (or `make test-asan`).
#
# httpd itself is not instrumented, so the ASan runtime is preloaded into it
# (and only into it: the harness passes MP_TEST_ENV to the servers it starts,
# the pytest process stays uninstrumented).  Leak detection is off: Python's
# arenas and interpreter-lifetime allocations are never freed by design.
# Every report goes to a file under $MP_SAN_DIR (world-writable, because httpd
# children run as www-data); the run fails if any such file exists afterwards
# or if a server's error log shows a sanitizer line (the harness treats those
# as crash markers).  The parametrised tests already cover event, worker and
# prefork; MP_SAN_MPMS (default "event prefork") restricts them to save time.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${MP_PYTHON:-/usr/bin/python3}"
MODULE="$ROOT/build-asan/mod_python.so"
[ -f "$MODULE" ] || { echo "test-asan: $MODULE missing (make asan)" >&2; exit 2; }

LIBASAN="$(gcc -print-file-name=libasan.so)"
LIBASAN="$(readlink -f "$LIBASAN")"
[ -f "$LIBASAN" ] || { echo "test-asan: libasan not found" >&2; exit 2; }

SAN_DIR="${MP_SAN_DIR:-$(mktemp -d /tmp/mp-asan-XXXXXX)}"
mkdir -p "$SAN_DIR"
chmod 1777 "$SAN_DIR"
rm -f "$SAN_DIR"/asan.* "$SAN_DIR"/ubsan.*

# abort_on_error: a report kills the child with SIGABRT, which the harness
# sees in the error log ("exit signal Aborted") and the test fails there.
ASAN="detect_leaks=0:abort_on_error=1:log_path=$SAN_DIR/asan:detect_odr_violation=0"
ASAN="$ASAN:allow_user_segv_handler=1:handle_segv=1:detect_stack_use_after_return=0"
UBSAN="print_stacktrace=1:log_path=$SAN_DIR/ubsan"
export MP_MODULE="$MODULE"
export MP_TEST_ENV="LD_PRELOAD=$LIBASAN ASAN_OPTIONS=$ASAN UBSAN_OPTIONS=$UBSAN"
export MP_TEST_MPMS="${MP_SAN_MPMS-event prefork}"

echo "test-asan: module $MODULE" >&2
echo "test-asan: reports to $SAN_DIR" >&2
echo "test-asan: MP_TEST_ENV=$MP_TEST_ENV" >&2
[ $# -gt 0 ] || set -- test
"$PYTHON" -m pytest -q "$@"
rc=$?
[ $rc -eq 5 ] && { echo "test-asan: FAILURE: no tests collected" >&2; rc=1; }

reports=$(find "$SAN_DIR" -type f \( -name 'asan.*' -o -name 'ubsan.*' \) | sort)
if [ -n "$reports" ]; then
    echo "test-asan: FAILURE: sanitizer reports:" >&2
    for f in $reports; do
        echo "==== $f" >&2
        head -60 "$f" >&2
    done
    exit 1
fi
echo "test-asan: no sanitizer reports (pytest exit $rc)" >&2
exit $rc
