#!/usr/bin/env bash
# Set up everything on a fresh Debian machine, build mod_python and start a
# demo httpd on 127.0.0.1 (port 8080, or $MP_DEMO_PORT) serving examples/
# from /tmp/mod_python-demo (or $MP_DEMO_ROOT) with PythonAutoReload On.
# Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
[ -x configure ] || autoconf
[ -f Makefile ] || ./configure --with-python=/usr/bin/python3
make mod_python.so

PORT=${MP_DEMO_PORT:-8080}
ROOT=${MP_DEMO_ROOT:-/tmp/mod_python-demo}
# httpd's children run as www-data, who may not read this checkout: stage a
# world-readable copy of the examples, the Python package and the module.
mkdir -p "$ROOT"/{conf,logs,lib}
# The examples are copied into an empty root only: a second run keeps the
# edits made to them (remove $ROOT/htdocs for fresh copies).
if [ -d "$ROOT/htdocs" ] && [ -n "$(ls -A "$ROOT/htdocs")" ]; then
    echo "mod_python demo: reusing $ROOT/htdocs (your edits are kept; remove it for fresh examples)"
else
    cp -r examples/htdocs "$ROOT/"
fi
if [ ! -d "$ROOT/tutorial" ]; then
    cp -r examples/tutorial "$ROOT/"
fi
sed -e "s,@TUTORIAL@,$ROOT/tutorial,g" examples/tutorial/tutorial.conf.in > "$ROOT/conf/tutorial.conf"
rm -rf "$ROOT/lib/mod_python"
cp -r lib/python/mod_python "$ROOT/lib/"
cp mod_python.so "$ROOT/lib/"
sed -e "s,@ROOT@,$ROOT,g" -e "s,@PORT@,$PORT,g" -e "s,@MODULE@,$ROOT/lib/mod_python.so,g" \
    examples/httpd.conf.in > "$ROOT/conf/httpd.conf"
chmod -R a+rX "$ROOT"
cat <<MSG
mod_python demo: http://127.0.0.1:$PORT/
  edit $ROOT/htdocs/hello.py (or helpers/greeting.py) and reload the page:
  PythonAutoReload serves the new code immediately.
  the tutorial's examples: http://127.0.0.1:$PORT/tutorial/hello.py (and form.py, ...)
  error log: $ROOT/logs/error_log        stop: Ctrl-C
MSG
exec env PYTHONPATH="$ROOT/lib" /usr/sbin/apache2 -f "$ROOT/conf/httpd.conf" -DFOREGROUND
