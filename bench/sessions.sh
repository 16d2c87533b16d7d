#!/usr/bin/env bash
# Benchmark (not part of CI): session read+write handler on FileSession vs
# RedisSession vs MemcachedSession, with wrk, in one run.
# Usage: bench/sessions.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f Makefile ] || { [ -x configure ] || autoconf; ./configure -q --with-python=/usr/bin/python3; }
make -s mod_python.so
exec /usr/bin/python3 bench/sessions.py "$@"
