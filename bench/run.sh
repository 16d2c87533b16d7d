#!/usr/bin/env bash
# Benchmark (not part of CI): our module vs Debian's mod_python 3.5 vs a
# static file, with wrk, in one run.  Usage: bench/run.sh [seconds] [connections] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/deps.sh wrk
exec /usr/bin/python3 bench/bench.py "$@"
