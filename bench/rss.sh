#!/usr/bin/env bash
# RSS of one httpd child over many requests.  Usage: bench/rss.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/deps.sh wrk
exec /usr/bin/python3 bench/rss.py "$@"
