"""The migration history, applied to an empty database, reproduces the models exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from database import Base
from extensions import db
from tests.conftest import MIGRATIONS, empty_database, make_app


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with empty_database(backend, tmp_path) as url:
        yield url


def _diff() -> list[object]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_from_empty_matches_the_models(empty_database_url: str, tmp_path: Path) -> None:
    app = make_app(empty_database_url, tmp_path)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade(directory=MIGRATIONS)
        assert _diff() == []
        tables = set(inspect(db.engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)
        assert _diff() == []
        db.engine.dispose()


def test_the_comparison_notices_a_missing_table(empty_database_url: str, tmp_path: Path) -> None:
    """Guard against a comparison that can never fail."""
    app = make_app(empty_database_url, tmp_path)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE audit_event")
        assert any(d[0] == "add_table" for d in _diff() if isinstance(d, tuple))
        db.engine.dispose()
