from __future__ import annotations

import pytest

from config import DEV_SECRET_KEY, ConfigError, load_config, normalise_database_url


def test_default_is_a_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = load_config()
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert cfg["SQLALCHEMY_DATABASE_URI"].endswith("exchange.db")


@pytest.mark.parametrize(
    "url", ["postgres://u:p@h/db", "postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"]
)
def test_postgres_urls_use_psycopg3(url: str) -> None:
    assert normalise_database_url(url) == "postgresql+psycopg://u:p@h/db"


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://x@127.0.0.1/ex")
    assert load_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://x@127.0.0.1/ex"


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError):
        load_config()
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError):
        load_config()


def test_production_accepts_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is True
