#!/usr/bin/env bash
# `make run`: migrate, load the demo, and serve the app on $HOST:$PORT (default 127.0.0.1:8000).
# Unless STRIPE_SECRET_KEY is set (real Stripe test or live keys), payments go to the localstripe
# emulator started here on 127.0.0.1:$LOCALSTRIPE_PORT, with its webhooks pointed at the app.
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
LOCALSTRIPE_PORT=${LOCALSTRIPE_PORT:-8420}

if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
    export STRIPE_SECRET_KEY=sk_test_localstripe
    export STRIPE_PUBLISHABLE_KEY=pk_test_localstripe
    export STRIPE_WEBHOOK_SECRET=whsec_localstripe_dev
    export STRIPE_API_BASE="http://127.0.0.1:${LOCALSTRIPE_PORT}"
    "$BIN/python" scripts/localstripe_server.py --port "$LOCALSTRIPE_PORT" &
    LOCALSTRIPE_PID=$!
    trap 'kill "$LOCALSTRIPE_PID" 2>/dev/null || true' EXIT
    # For the flask CLI in another terminal (`make test-pay TOPUP=<id>`).
    mkdir -p instance
    printf 'STRIPE_SECRET_KEY=%s\nSTRIPE_PUBLISHABLE_KEY=%s\nSTRIPE_WEBHOOK_SECRET=%s\nSTRIPE_API_BASE=%s\n' \
        "$STRIPE_SECRET_KEY" "$STRIPE_PUBLISHABLE_KEY" "$STRIPE_WEBHOOK_SECRET" "$STRIPE_API_BASE" \
        > instance/localstripe.env
    "$BIN/python" - <<PY
import time, requests
base = "$STRIPE_API_BASE"
for _ in range(100):
    try:
        requests.post(
            f"{base}/_config/webhooks/exchange",
            data={"url": "http://$HOST:$PORT/billing/stripe/webhook",
                  "secret": "$STRIPE_WEBHOOK_SECRET"},
            headers={"Authorization": "Bearer $STRIPE_SECRET_KEY"},
            timeout=2,
        ).raise_for_status()
        break
    except requests.RequestException:
        time.sleep(0.1)
else:
    raise SystemExit("localstripe did not start on $STRIPE_API_BASE")
print("Stripe: the localstripe emulator on $STRIPE_API_BASE (webhooks -> /billing/stripe/webhook)")
PY
fi

"$BIN/flask" db upgrade
"$BIN/flask" exchange demo
echo "Serving on http://$HOST:$PORT  (portals: http://$HOST:$PORT/login, API docs: http://$HOST:$PORT/api/docs)"
WEB_CONCURRENCY=${WEB_CONCURRENCY:-2} HOST=$HOST PORT=$PORT "$BIN/gunicorn" -c gunicorn.conf.py wsgi:app
