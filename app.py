"""The application factory: configuration, extensions, blueprints, error handlers, CLI."""

from __future__ import annotations

from typing import Any

from flask import Flask

import billing.models  # noqa: F401  (registers the tables on the metadata)
import exchange.models  # noqa: F401
from billing import gateway_from_config
from config import BASE_DIR, load_config
from database import configure_sqlite, sqlite_begin_mode
from extensions import csrf, db, limiter, login_manager, migrate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides settings read from the environment."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.update(load_config(config))

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    _init_database(app)
    # The payment gateway chosen from config; tests may swap it (see tests/conftest.py).
    app.extensions["payment_gateway"] = gateway_from_config(app.config)

    from api import init_api
    from api.errors import register_error_handlers
    from observability import init_observability
    from web import init_web

    init_observability(app)
    init_api(app)
    init_web(app)
    register_error_handlers(app)

    if app.config["REDIS_URL"]:
        from celery_app import init_celery

        init_celery(app)

    from cli import register_cli

    register_cli(app)
    return app


def _init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri.startswith("sqlite"):
        return
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        from pathlib import Path

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        configure_sqlite(db.engine)

    @app.before_request
    def _reads_do_not_lock() -> None:
        # Reads begin DEFERRED so they run beside a writer; writes take the lock up front.
        from flask import request

        sqlite_begin_mode.set("DEFERRED" if request.method in SAFE_METHODS else "IMMEDIATE")
