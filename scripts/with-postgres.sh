#!/usr/bin/env bash
# Run a command with TEST_POSTGRES_URL pointing at a throwaway Postgres on 127.0.0.1.
# Uses TEST_POSTGRES_URL as given when it is set; without Postgres binaries the command runs
# anyway, and the Postgres half of the suite skips (or fails, under CI=true).
set -euo pipefail

if [ -n "${TEST_POSTGRES_URL:-}" ]; then exec "$@"; fi

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
  [ -x "$candidate/pg_ctl" ] && bindir=$candidate
done
if [ -z "$bindir" ] && command -v pg_ctl >/dev/null; then
  bindir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
fi
if [ -z "$bindir" ]; then
  echo "with-postgres: no Postgres found; running without it (apt-get install postgresql)" >&2
  exec "$@"
fi

tmp=$(mktemp -d /tmp/exchange-pg.XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run=()
if [ "$(id -u)" = 0 ]; then
  # Postgres refuses to run as root.
  chown postgres "$tmp"
  run=(runuser -u postgres --)
fi
cleanup() {
  "${run[@]}" "$bindir/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"${run[@]}" "$bindir/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 >/dev/null
"${run[@]}" "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w -o \
  "-h 127.0.0.1 -p $port -k $tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
echo "with-postgres: Postgres $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2

export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
"$@"
