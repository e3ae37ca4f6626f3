# Sourced by run-dev.sh and run-prod.sh: unless STRIPE_SECRET_KEY is set (real Stripe test or
# live keys), start the localstripe emulator on 127.0.0.1:$LOCALSTRIPE_PORT with its webhooks
# pointed at the app on $HOST:$PORT, and export the keys the app reads.
LOCALSTRIPE_PORT=${LOCALSTRIPE_PORT:-8420}
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
    export STRIPE_SECRET_KEY=sk_test_localstripe
    export STRIPE_PUBLISHABLE_KEY=pk_test_localstripe
    export STRIPE_WEBHOOK_SECRET=whsec_localstripe_dev
    export STRIPE_API_BASE="http://127.0.0.1:${LOCALSTRIPE_PORT}"
    "$BIN/python" scripts/localstripe_server.py --port "$LOCALSTRIPE_PORT" &
    LOCALSTRIPE_PID=$!
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

