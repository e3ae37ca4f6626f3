#!/usr/bin/env bash
# `make run-prod`: the production mode on one machine, for trying it. Installs Postgres and Redis
# from the system packages when missing, starts a private Postgres cluster and a Redis on
# 127.0.0.1 (data kept between runs), migrates, loads the demo, then runs Celery (worker + beat)
# and gunicorn (gunicorn.conf.py). Ctrl-C stops everything it started.
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
PGPORT=${PGPORT:-5433}
REDIS_PORT=${REDIS_PORT:-6380}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "run-prod: installing ${need[*]} from the system packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# Postgres refuses to run as root: as root the cluster lives in the postgres user's home.
if [ "$(id -u)" = 0 ]; then
  DATA_ROOT=${PROD_DATA_DIR:-/var/lib/postgresql/lead-exchange}
  pg=(runuser -u postgres --)
  mkdir -p "$DATA_ROOT" && chown postgres "$DATA_ROOT"
else
  DATA_ROOT=${PROD_DATA_DIR:-$PWD/instance/prod}
  pg=()
  mkdir -p "$DATA_ROOT"
fi
mkdir -p instance/prod
PGDATA="$DATA_ROOT/pg"
if [ ! -f "$PGDATA/PG_VERSION" ]; then
  "${pg[@]}" "$pgbin/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 >/dev/null
fi
"${pg[@]}" "$pgbin/pg_ctl" -D "$PGDATA" -l "$DATA_ROOT/postgres.log" -w \
  -o "-h 127.0.0.1 -p $PGPORT -k /tmp -c max_connections=200" start >/dev/null
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$PWD/instance/prod" \
  --save 60 1000 --appendonly yes --daemonize no --loglevel warning &
REDIS_PID=$!
pids=()
stop() {
  for p in "${pids[@]}" "${LOCALSTRIPE_PID:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  kill "$REDIS_PID" 2>/dev/null || true
  "${pg[@]}" "$pgbin/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true
}
trap stop EXIT

"${pg[@]}" "$pgbin/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'exchange'" | grep -q 1 ||
  "${pg[@]}" "$pgbin/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres exchange

[ -f instance/prod/secret_key ] || "$BIN/python" -c \
  'import secrets; print(secrets.token_urlsafe(48))' > instance/prod/secret_key
chmod 600 instance/prod/secret_key
export EXCHANGE_ENV=production
export SECRET_KEY; SECRET_KEY=$(cat instance/prod/secret_key)
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PGPORT/exchange"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DEMO_KEYS_FILE="$PWD/instance/prod/demo_keys.json"

source scripts/localstripe-env.sh

"$BIN/flask" db upgrade
"$BIN/flask" exchange demo
PYTHONPATH=$PWD "$BIN/celery" -A celery_app:celery worker --beat --loglevel INFO \
  --concurrency "${CELERY_CONCURRENCY:-4}" -s "$PWD/instance/prod/celerybeat-schedule" &
pids+=($!)
echo "Production mode: Postgres 127.0.0.1:$PGPORT, Redis 127.0.0.1:$REDIS_PORT, Celery worker + beat"
echo "Serving on http://$HOST:$PORT  (portals: /login, API docs: /api/docs, /healthz, /readyz, /metrics)"
HOST=$HOST PORT=$PORT "$BIN/gunicorn" -c gunicorn.conf.py wsgi:app &
pids+=($!)
wait -n "${pids[@]}"
