#!/usr/bin/env bash
# Throwaway services for the tests, on loopback only.
#   scripts/services.sh start postgres   install PostgreSQL through apt when missing, start a
#                                        fresh cluster in a temporary directory on a free port,
#                                        print its URL (also written to $state/postgres.url)
#   scripts/services.sh stop postgres    stop that cluster and delete its directory
#   scripts/services.sh url postgres     print the URL of the running cluster
# The cluster runs as the `postgres` system user (through runuser when this
# script runs as root, as CI does); it trusts local connections only.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}
service=${2:-postgres}
state=${CLOUDLINK_SERVICES_DIR:-${TMPDIR:-/tmp}/cloudlink-services-$(id -u)-$(pwd | sha1sum | cut -c1-8)}

[ "$service" = postgres ] || { echo "services: unknown service $service" >&2; exit 2; }

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"
  else sudo -u postgres -- "$@"
  fi
}

install_postgres() {
  pg_bindir >/dev/null && return 0
  echo "services: installing postgresql" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    postgresql >/dev/null
  pg_bindir >/dev/null
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if [ -f "$state/postgres.url" ] && stop_quietly; then :; fi
  install_postgres
  local bin port data
  bin=$(pg_bindir)
  port=$(free_port)
  mkdir -p "$state"
  # Under /tmp, not $TMPDIR: the postgres user must be able to reach it.
  data=$(mktemp -d /tmp/cloudlink-pg.XXXXXX)
  chown postgres: "$data" 2>/dev/null || true
  chmod 700 "$data"
  as_postgres "$bin/initdb" -D "$data/cluster" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; exit 1; }
  # Loopback only, a socket in the cluster's own directory, no fsync (a test cluster).
  as_postgres "$bin/pg_ctl" -D "$data/cluster" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $data -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
    start >/dev/null || { cat "$data/server.log" >&2; exit 1; }
  echo "$data" >"$state/postgres.dir"
  echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$state/postgres.url"
  cat "$state/postgres.url"
}

stop_quietly() {
  [ -f "$state/postgres.dir" ] || return 0
  local data bin
  data=$(cat "$state/postgres.dir")
  bin=$(pg_bindir) || true
  if [ -n "$bin" ] && [ -d "$data/cluster" ]; then
    as_postgres "$bin/pg_ctl" -D "$data/cluster" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$data"
  rm -f "$state/postgres.dir" "$state/postgres.url"
}

case "$action" in
  start) start ;;
  stop) stop_quietly ;;
  url) cat "$state/postgres.url" ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
