#!/usr/bin/env bash
# Interop suite (tests/interop): Node.js and the pinned npm packages (@auth/sequelize-adapter,
# sequelize, pg, sqlite3, mysql2) in tests/interop/node_modules, which git ignores and which stays
# between runs as the cache. Idempotent: when node_modules was installed from the same
# package-lock.json by the same node, and the adapter and the sqlite3 native module load, nothing runs.
set -euo pipefail
cd "$(dirname "$0")/../../tests/interop"

if ! command -v node >/dev/null 2>&1; then
  # A fallback only: the pins are tested with Node 20 (sqlite3 6 asks for >= 20.17; Debian 12 has 18).
  echo "interop: node missing; installing Debian's nodejs, npm and the node headers"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null
  apt-get install -y -qq nodejs npm libnode-dev </dev/null >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "interop: node is installed without npm; install npm (it comes with Node.js's own packages)"
  exit 1
fi

stamp="node_modules/.interop-stamp"
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version) $(uname -m)"
loads() {
  node --input-type=module -e 'await import("@auth/sequelize-adapter"); await import("sqlite3"); await import("pg"); await import("mysql2")' >/dev/null 2>&1
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && loads; then
  echo "interop: node_modules is up to date ($(node --version))"
  exit 0
fi

# node-gyp builds sqlite3 from source: it needs the headers of the running node, found locally
# rather than downloaded. Skip sqlite3's attempt to download a prebuilt binary.
nodedir="$(npm config get nodedir 2>/dev/null || true)"
if [ -z "$nodedir" ] || [ "$nodedir" = "undefined" ] || [ "$nodedir" = "null" ]; then
  export npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
  nodedir="$npm_config_nodedir"
fi
if [ ! -f "$nodedir/include/node/node.h" ]; then
  echo "interop: warning: no node headers under $nodedir/include/node; node-gyp will try to download them"
fi
export npm_config_build_from_source=true
export JOBS="${JOBS:-max}"  # node-gyp: build with every core

echo "interop: npm ci in tests/interop (builds sqlite3 from source, about a minute)"
start=$(date +%s)
rm -f "$stamp"
npm ci --no-audit --no-fund --loglevel=error </dev/null
loads || { echo "interop: the installed packages do not load"; exit 1; }
echo "$want" > "$stamp"
echo "interop: installed in $(( $(date +%s) - start )) s"
