#!/usr/bin/env bash
# Build mod_python warning-free and run the test suite against a real httpd;
# with no arguments, also the manual and the ASan+UBSan pass (see below).
# Usage: scripts/run-tests.sh [pytest arguments]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${MP_PYTHON:-/usr/bin/python3}"

./scripts/install-deps.sh

if [ ! -f configure ] || [ configure.ac -nt configure ]; then
    echo "run-tests: autoconf" >&2
    autoconf
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ Makefile.in -nt Makefile ]; then
    echo "run-tests: ./configure" >&2
    ./configure -q --with-python="$PYTHON"
fi

echo "run-tests: make strict" >&2
make -s strict

set +e
"$PYTHON" -m pytest -q test "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
    echo "run-tests: FAILURE: pytest collected no tests" >&2
    exit 1
fi
# A full run (no pytest arguments) also builds the manual with warnings as
# errors and runs the suite again against the ASan+UBSan build (HACKING.md,
# "Quality runs"); MP_SKIP_ASAN=1 leaves that pass out.
if [ $rc -ne 0 ] || [ $# -gt 0 ]; then
    exit $rc
fi
echo "run-tests: make docs" >&2
make -s docs
if [ -z "${MP_SKIP_ASAN:-}" ]; then
    echo "run-tests: the suite against the ASan+UBSan build" >&2
    make -s asan
    ./scripts/test-asan.sh
fi
