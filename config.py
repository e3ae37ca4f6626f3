"""Settings from the environment.

The embedded default is a SQLite file under `instance/`; `DATABASE_URL` selects Postgres
(psycopg 3). In production (`EXCHANGE_ENV=production`) the development secret is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEV_SECRET_KEY = "dev-insecure-secret-change-me"


class ConfigError(RuntimeError):
    """The configuration cannot run safely."""


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def default_database_url() -> str:
    instance = Path(os.environ.get("EXCHANGE_INSTANCE_DIR", BASE_DIR / "instance"))
    return f"sqlite:///{instance / 'exchange.db'}"


def load_config(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment plus explicit overrides."""
    env = os.environ
    cfg: dict = {
        "ENV_NAME": env.get("EXCHANGE_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            env.get("DATABASE_URL") or default_database_url()
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Lead bodies are small; anything larger is a mistake or an attack.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 256 * 1024)),
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL", "memory://"),
        "RATELIMIT_ENABLED": env.get("RATELIMIT_ENABLED", "1") == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Browsers keep Secure cookies from http://127.0.0.1 and localhost too, so `make run` works.
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "1") == "1",
        "SESSION_COOKIE_NAME": "exchange_session",
        "PERMANENT_SESSION_LIFETIME": int(env.get("SESSION_LIFETIME_SECONDS", 12 * 3600)),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "API_TITLE": "Lead Exchange API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        # Stripe: real keys in production; `make run` points the SDK at localstripe.
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "STRIPE_WEBHOOK_TOLERANCE": int(env.get("STRIPE_WEBHOOK_TOLERANCE", 300)),
        # Publisher payouts: the smallest payout, in major units of the payout's currency.
        "PAYOUT_MINIMUM": int(env.get("PAYOUT_MINIMUM", 50)),
        # How long a ping's bid holds, in seconds.
        "PING_TTL_SECONDS": int(env.get("PING_TTL_SECONDS", 60)),
        # Delivering sold leads: the in-process worker, its retries and timeouts.
        # With REDIS_URL set, Celery workers deliver (celery_app.py) instead of the thread.
        "REDIS_URL": env.get("REDIS_URL", ""),
        "DELIVERY_WORKER": env.get("DELIVERY_WORKER", "0" if env.get("REDIS_URL") else "1") == "1",
        "OUTBOX_SWEEP_SECONDS": float(env.get("OUTBOX_SWEEP_SECONDS", 5)),
        "DELIVERY_LEASE_SECONDS": float(env.get("DELIVERY_LEASE_SECONDS", 60)),
        "DELIVERY_MAX_ATTEMPTS": int(env.get("DELIVERY_MAX_ATTEMPTS", 5)),
        "DELIVERY_BACKOFF_SECONDS": float(env.get("DELIVERY_BACKOFF_SECONDS", 30)),
        "DELIVERY_TIMEOUT": float(env.get("DELIVERY_TIMEOUT", 10)),
        # E-mail delivery of sold leads (campaigns with delivery method "email").
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", 25)),
        "SMTP_FROM": env.get("SMTP_FROM", "leads@exchange.localhost"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": env.get("SMTP_STARTTLS", "0") == "1",
        # Logs: "json" (one object a line, with the request id) or "text"; json in production.
        "LOG_FORMAT": env.get(
            "LOG_FORMAT", "json" if env.get("EXCHANGE_ENV") == "production" else "text"
        ),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "ACCESS_LOG": env.get("ACCESS_LOG", "1") == "1",
        # /metrics: a bearer token required to scrape it, when set; the ledger check's age.
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        "LEDGER_CHECK_SECONDS": int(env.get("LEDGER_CHECK_SECONDS", 600)),
        "DEMO_KEYS_FILE": env.get("DEMO_KEYS_FILE", str(BASE_DIR / "instance" / "demo_keys.json")),
    }
    if overrides:
        cfg.update(overrides)
    cfg["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(cfg["SQLALCHEMY_DATABASE_URI"])
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # One connection per thread; the busy timeout and BEGIN IMMEDIATE serialise writers.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}}
    elif cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that does not answer is a quick 503, not requests hanging until gunicorn
        # kills the worker: libpq waits forever for a connection unless told otherwise.
        options = dict(cfg["SQLALCHEMY_ENGINE_OPTIONS"])
        if "connect_timeout=" not in cfg["SQLALCHEMY_DATABASE_URI"]:
            timeout = int(env.get("DATABASE_CONNECT_TIMEOUT", 3))
            options["connect_args"] = {
                "connect_timeout": timeout,
                **options.get("connect_args", {}),
            }
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if cfg["ENV_NAME"] == "production":
        if cfg["SECRET_KEY"] == DEV_SECRET_KEY or len(cfg["SECRET_KEY"]) < 32:
            raise ConfigError(
                "EXCHANGE_ENV=production needs SECRET_KEY set to a random value of 32+ characters"
            )
        cfg["SESSION_COOKIE_SECURE"] = True
    return cfg
