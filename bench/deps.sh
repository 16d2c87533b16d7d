# Sourced by bench/*.sh: installs what the benchmarks need.  Debian's
# mod_python 3.5 (libapache2-mod-python) is the baseline; its package
# enables it in /etc/apache2, which the benchmarks never use: it is
# disabled again so that the machine's own httpd configuration is untouched.
need=()
for tool in "$@"; do
    command -v "$tool" >/dev/null || need+=("$tool")
done
[ -f /usr/lib/apache2/modules/mod_python.so ] && [ -d /usr/lib/python3/dist-packages/mod_python ] \
    || need+=(libapache2-mod-python)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ -e /etc/apache2/mods-enabled/python.load ] && command -v a2dismod >/dev/null; then
    a2dismod -q python >/dev/null
fi
[ -f Makefile ] || { [ -x configure ] || autoconf; ./configure -q --with-python=/usr/bin/python3; }
make -s mod_python.so
