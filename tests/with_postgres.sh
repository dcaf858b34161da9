#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server on loopback: its own data directory,
# port and socket directory, stopped and removed afterwards whatever the command's outcome.
#   tests/with_postgres.sh .venv/bin/python -m pytest
# Inside that command, `tests/with_postgres.sh --stop` and `--start` stop and start the same
# server again (outage tests and the cluster load test's database fault).
set -euo pipefail

as_pg=()
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi

pg_start() {
  (cd / && "${as_pg[@]}" "$NAUMUR_PG_BINDIR/pg_ctl" -D "$NAUMUR_PG_DATADIR" \
    -l "$NAUMUR_PG_DATADIR/server.log" -w -o "-p $NAUMUR_PG_PORT -k $NAUMUR_PG_SOCKDIR \
    -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=200" start >/dev/null)
}
pg_stop() {
  (cd / && "${as_pg[@]}" "$NAUMUR_PG_BINDIR/pg_ctl" -D "$NAUMUR_PG_DATADIR" -m "$1" -w stop >/dev/null)
}

case "${1:-}" in
  --start|--stop)
    [ -n "${NAUMUR_PG_DATADIR:-}" ] || { echo "$1 : seulement sous tests/with_postgres.sh" >&2; exit 2; }
    if [ "$1" = --start ]; then pg_start; else pg_stop fast; fi
    exit 0 ;;
esac

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then bindir=$(dirname "$(command -v pg_ctl)"); fi
[ -x "$bindir/initdb" ] || { echo "PostgreSQL introuvable (initdb) : installez le paquet postgresql." >&2; exit 1; }

export NAUMUR_PG_BINDIR=$bindir
NAUMUR_PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NAUMUR_PG_DATADIR=$(mktemp -d /tmp/naumur-pg.XXXXXX)
NAUMUR_PG_SOCKDIR=$(mktemp -d /tmp/naumur-pgsock.XXXXXX)
export NAUMUR_PG_PORT NAUMUR_PG_DATADIR NAUMUR_PG_SOCKDIR

if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: the server runs as the postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$NAUMUR_PG_DATADIR" "$NAUMUR_PG_SOCKDIR"
fi

stop() {
  pg_stop immediate >/dev/null 2>&1 || true
  rm -rf "$NAUMUR_PG_DATADIR" "$NAUMUR_PG_SOCKDIR"
}
trap stop EXIT

(cd / && "${as_pg[@]}" "$bindir/initdb" -D "$NAUMUR_PG_DATADIR" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null)
pg_start

(cd / && "${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$NAUMUR_PG_PORT" -U postgres naumur)
export DATABASE_URL="postgres://postgres@127.0.0.1:$NAUMUR_PG_PORT/naumur"
echo "PostgreSQL jetable sur 127.0.0.1:$NAUMUR_PG_PORT"
"$@"
