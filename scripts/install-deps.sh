#!/usr/bin/env bash
# Install the Debian packages needed to build and test mod_python.
# Idempotent: runs apt-get only when something is missing.
# Usage: scripts/install-deps.sh [--deb]
# (libapache2-mod-python is deliberately NOT installed: it would enable itself
#  in /etc/apache2; bench/ handles the comparison build separately.)
set -euo pipefail

PKGS=(apache2 apache2-dev libpython3-dev python3-dev python3-pytest
      autoconf make gcc curl wrk strace python3-sphinx python3-flask
      redis-server memcached python3-redis python3-pymemcache)
# --deb: also what dpkg-buildpackage needs for debian/ (apache2-dev has dh_apache2)
if [ "${1:-}" = "--deb" ]; then
    PKGS+=(debhelper dh-python dpkg-dev build-essential)
fi

missing=()
for p in "${PKGS[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing+=("$p") ;;
    esac
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: missing packages (${missing[*]}) and not root" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}" >&2
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
