#!/usr/bin/env bash
# Instructions per request with callgrind: our module vs Debian's mod_python
# 3.5 vs a static file.  Usage: bench/callgrind.sh [--only ...] [--n1 N] [--n2 N] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/deps.sh valgrind
exec /usr/bin/python3 bench/callgrind.py "$@"
