#!/usr/bin/env bash
# ccusage, pinned: a test dependency. tests/test_claude_logs_ccusage*.py run it and rota's Claude
# log reader on the same generated projects tree and compare blocks and totals.
#
#   .ci/ccusage.sh        prints a shell line to eval:  export ROTA_CCUSAGE=/path/to/ccusage
#
# Installed from the npm registry into ${ROTA_CCUSAGE_DIR:-~/.cache/rota-ccusage-VERSION}, outside
# the clone, once. 20.0.24 is the newest release that installs a working Linux build (it ships the
# native binary in @ccusage/ccusage-linux-x64; the latest, 20.0.26, installs none); the 18.x
# releases are JavaScript and work too. Node and npm come from Debian's packages when missing.
# Diagnostics go to stderr; only the export line goes to stdout.
set -euo pipefail

version=20.0.24
dir="${ROTA_CCUSAGE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rota-ccusage-$version}"
launcher="$dir/node_modules/.bin/ccusage"
native="$dir/node_modules/@ccusage/ccusage-linux-x64/bin/ccusage"

log() { echo "ccusage.sh: $*" >&2; }

installed() { [[ -x "$1" ]] && "$1" --version 2>/dev/null | grep -q "$version"; }

if ! installed "$native" && ! installed "$launcher"; then
  if ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs and npm from Debian"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  fi
  log "installing ccusage@$version into $dir"
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "ccusage@$version" >&2
fi

# The native binary needs no Node at run time (npm leaves it without the execute bit; the launcher
# would set it on first run); fall back to the launcher (the JS builds).
[[ -f "$native" ]] && chmod +x "$native"
if installed "$native"; then
  echo "export ROTA_CCUSAGE=$native"
elif installed "$launcher"; then
  echo "export ROTA_CCUSAGE=$launcher"
else
  log "ccusage@$version did not install a working executable under $dir"
  exit 1
fi
