#!/usr/bin/env bash
# `make run`: migrate, load the demo, and serve the app on $HOST:$PORT (default 127.0.0.1:8000).
# Unless STRIPE_SECRET_KEY is set (real Stripe test or live keys), payments go to the localstripe
# emulator started here on 127.0.0.1:$LOCALSTRIPE_PORT, with its webhooks pointed at the app.
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

source scripts/localstripe-env.sh
trap 'kill "${LOCALSTRIPE_PID:-}" 2>/dev/null || true' EXIT

"$BIN/flask" db upgrade
"$BIN/flask" exchange demo
echo "Serving on http://$HOST:$PORT  (portals: http://$HOST:$PORT/login, API docs: http://$HOST:$PORT/api/docs)"
WEB_CONCURRENCY=${WEB_CONCURRENCY:-2} HOST=$HOST PORT=$PORT "$BIN/gunicorn" -c gunicorn.conf.py wsgi:app
