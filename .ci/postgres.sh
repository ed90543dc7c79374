#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback for rota's fleet tests and benchmark.
#
#   .ci/postgres.sh start [--no-install] [DIR]   prints shell lines to eval:
#       export ROTA_TEST_PG_URL=postgresql://rota:…@127.0.0.1:PORT/postgres
#       export ROTA_TEST_PG_DIR=DIR
#   .ci/postgres.sh stop DIR                     stops it and removes DIR
#
# Without DIR a fresh directory under ${TMPDIR:-/tmp} is made. PostgreSQL comes from Debian's
# packages (apt-get install postgresql) when no /usr/lib/postgresql/*/bin/initdb exists, unless
# --no-install is given. initdb refuses to run as root, so as root the server runs as the
# `postgres` system user (created by the package). Diagnostics go to stderr; only the export
# lines go to stdout.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
    echo "$d"
  fi
}

as_owner() {
  # Run a server binary as the data directory's owner: `postgres` when we are root.
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

start() {
  local install=1 dir=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --no-install) install=0 ;;
      *) dir="$1" ;;
    esac
    shift
  done
  local bindir
  bindir=$(pg_bindir)
  if [[ -z "$bindir" ]]; then
    if [[ $install -eq 0 ]]; then
      log "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install: apt-get install -y postgresql)"
      return 3
    fi
    if [[ $(id -u) -ne 0 ]]; then
      log "PostgreSQL is not installed and installing it needs root (apt-get install -y postgresql)"
      return 3
    fi
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bindir=$(pg_bindir)
    if [[ -z "$bindir" ]]; then
      log "apt-get install postgresql did not provide initdb/pg_ctl"
      return 3
    fi
  fi
  if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
    log "running as root but there is no 'postgres' user to own the server"
    return 3
  fi
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/rota-pg.XXXXXX")
  else
    mkdir -p "$dir"
  fi
  chmod 0700 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  local port password
  port=$(free_port)
  password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  # The password file lives inside the owner-only dir and is removed right after initdb.
  printf '%s\n' "$password" >"$dir/pwfile"
  chmod 0600 "$dir/pwfile"
  if [[ $(id -u) -eq 0 ]]; then chown postgres: "$dir/pwfile"; fi
  as_owner "$bindir/initdb" -D "$dir/data" -U rota --pwfile="$dir/pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
    log "initdb failed:"; cat "$dir/initdb.log" >&2; return 4
  }
  rm -f "$dir/pwfile"
  # fsync off and a small footprint: this server is thrown away after the run.
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB" \
    start >&2 || {
    log "pg_ctl start failed:"; cat "$dir/server.log" >&2 || true; return 5
  }
  log "PostgreSQL ($bindir) listening on 127.0.0.1:$port, data in $dir/data"
  echo "export ROTA_TEST_PG_URL=postgresql://rota:$password@127.0.0.1:$port/postgres"
  echo "export ROTA_TEST_PG_DIR=$dir"
}

stop() {
  local dir="${1:-${ROTA_TEST_PG_DIR:-}}"
  if [[ -z "$dir" || ! -d "$dir/data" ]]; then
    log "stop: no server directory given (usage: $0 stop DIR)"
    return 2
  fi
  local bindir
  bindir=$(pg_bindir)
  if [[ -n "$bindir" && -f "$dir/data/postmaster.pid" ]]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >&2 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 start [--no-install] [DIR] | stop DIR" >&2; exit 2 ;;
esac
