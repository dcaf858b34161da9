#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server on loopback: its own data directory,
# port and socket directory, stopped and removed afterwards whatever the command's outcome.
#   tests/with_postgres.sh .venv/bin/python -m pytest
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then bindir=$(dirname "$(command -v pg_ctl)"); fi
[ -x "$bindir/initdb" ] || { echo "PostgreSQL introuvable (initdb) : installez le paquet postgresql." >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
datadir=$(mktemp -d /tmp/naumur-pg.XXXXXX)
sockdir=$(mktemp -d /tmp/naumur-pgsock.XXXXXX)

as_pg=()
if [ "$(id -u)" = 0 ]; then
  # initdb refuses to run as root: the server runs as the postgres user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$datadir" "$sockdir"
  as_pg=(runuser -u postgres --)
fi

stop() {
  (cd / && "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -m immediate stop >/dev/null 2>&1) || true
  rm -rf "$datadir" "$sockdir"
}
trap stop EXIT

(cd / && "${as_pg[@]}" "$bindir/initdb" -D "$datadir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null)
(cd / && "${as_pg[@]}" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w \
  -o "-p $port -k $sockdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null)

(cd / && "${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres naumur)
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/naumur"
echo "PostgreSQL jetable sur 127.0.0.1:$port"
"$@"
