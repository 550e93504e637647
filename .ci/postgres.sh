#!/usr/bin/env bash
# A throwaway PostgreSQL server for the `postgres` feature's tests, on
# 127.0.0.1 with its own data directory (Debian's packages; run as root).
#
#   .ci/postgres.sh setup     install if missing, initdb, start, create the database
#   .ci/postgres.sh stop      stop the server (the tests use this to simulate an outage)
#   .ci/postgres.sh crash     stop it at once, as a crash would (-m immediate: no checkpoint)
#   .ci/postgres.sh start     start it again on the same data directory
#   .ci/postgres.sh teardown  stop it and remove the data directory
#   .ci/postgres.sh url       print the address to export as REGISTRY_CREDENTIALS_PG_URL
set -euo pipefail

PORT="${REGISTRY_CREDENTIALS_PG_PORT:-54329}"
DATA="${REGISTRY_CREDENTIALS_PG_DATA:-/tmp/registry-credentials-pg}"
DB=registry_credentials
URL="postgresql://postgres@127.0.0.1:${PORT}/${DB}?connect_timeout=5"

bindir() {
  local d
  # The server's own directory: a new machine may have the client alone
  # (psql) in a version directory with no initdb.
  d=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1 || true)
  d=${d%/initdb}
  if [ -z "$d" ]; then
    echo "PostgreSQL is not installed" >&2
    return 1
  fi
  echo "$d"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_ctl_() {
  # fd 3 (setup's stdout) is closed for the server, or `$(… setup)` would
  # wait for the server to exit.
  as_postgres "$(bindir)/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 "$@" 3>&-
}

case "${1:-}" in
  setup)
    # Only the address goes to stdout, for `URL="$(.ci/postgres.sh setup)"`.
    exec 3>&1 1>&2
    if ! bindir >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
    fi
    if [ -f "$DATA/postmaster.pid" ]; then pg_ctl_ stop -m fast || true; fi
    rm -rf "$DATA"
    mkdir -p "$DATA"
    chown postgres:postgres "$DATA" 2>/dev/null || true
    as_postgres "$(bindir)/initdb" -D "$DATA" -U postgres --auth=trust \
      --encoding=UTF8 --no-locale >/dev/null
    pg_ctl_ start -o "-c listen_addresses=127.0.0.1 -c port=${PORT} -c unix_socket_directories=${DATA} -c max_connections=200 -c fsync=off" >/dev/null
    as_postgres "$(bindir)/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
    echo "$URL" >&3
    ;;
  stop) pg_ctl_ stop -m fast >/dev/null ;;
  crash) pg_ctl_ stop -m immediate >/dev/null ;;
  start) pg_ctl_ start -o "-c listen_addresses=127.0.0.1 -c port=${PORT} -c unix_socket_directories=${DATA} -c max_connections=200 -c fsync=off" >/dev/null ;;
  teardown)
    if [ -f "$DATA/postmaster.pid" ]; then pg_ctl_ stop -m fast >/dev/null || true; fi
    rm -rf "$DATA"
    ;;
  url) echo "$URL" ;;
  *)
    echo "usage: $0 setup|stop|crash|start|teardown|url" >&2
    exit 2
    ;;
esac
