#!/usr/bin/env bash
# A throw-away PostgreSQL for the tests: pg.sh start|stop DIR PORT
#   pg.sh standby DIR PORT PRIMARY_PORT   a streaming standby of the server on PRIMARY_PORT
#                                         (pg_basebackup), started on PORT
#   pg.sh promote DIR PORT                the standby becomes a primary
#   pg.sh kill DIR PORT                   the server stops at once (immediate shutdown)
# Its own data folder under DIR, listening on 127.0.0.1:PORT and a socket in DIR, trust
# authentication for the local user "nqs" (superuser: the tests create a database each).
# As root, the server runs as the "postgres" system user (initdb refuses root).
set -euo pipefail
action=$1
dir=$(realpath -m "$2")
port=$3
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U nqs --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=100" >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    fi
    "$bin/pg_isready" -h 127.0.0.1 -p "$port" -t 30 >/dev/null
    echo "postgresql://nqs@127.0.0.1:$port/postgres"
    ;;
  standby)
    primary_port=$4
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    rm -rf "$dir/data"
    as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U nqs -D "$dir/data" -R -X stream \
      >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    "$bin/pg_isready" -h 127.0.0.1 -p "$port" -t 30 >/dev/null
    ;;
  promote)
    as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
  kill)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  stop)
    if [ -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: pg.sh start|stop|standby|promote|kill DIR PORT [PRIMARY_PORT]" >&2; exit 2 ;;
esac
