#!/usr/bin/env bash
# Build mod_python warning-free and run the test suite against a real httpd.
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
exit $rc
