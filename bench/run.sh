#!/usr/bin/env bash
# Benchmark (not part of CI): our module vs Debian's mod_python 3.5 vs a
# static file, with wrk, in one run.  Usage: bench/run.sh [seconds] [connections] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
[ -f /usr/lib/apache2/modules/mod_python.so ] && [ -d /usr/lib/python3/dist-packages/mod_python ] \
    || need+=(libapache2-mod-python)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -f Makefile ] || { [ -x configure ] || autoconf; ./configure -q --with-python=/usr/bin/python3; }
make -s mod_python.so
exec /usr/bin/python3 bench/bench.py "$@"
