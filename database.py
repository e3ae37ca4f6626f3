"""SQLAlchemy base shared by every package's models; free of Flask.

Models inherit `Base`; Flask-SQLAlchemy is given `Base.metadata`, so the core packages never
need the Flask extension to define or query tables.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Enum, Integer, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC, always returns aware datetimes (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# An integer key that autoincrements on SQLite (rowid) and is 64-bit on Postgres.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


def enum_column(enum_cls: type[enum.Enum], name: str, length: int = 16) -> Enum:
    """A portable enum: VARCHAR plus a CHECK constraint listing the values."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        int: BigId,
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


# SQLite transactions: pysqlite's own BEGIN is switched off (isolation_level=None) and we
# emit BEGIN ourselves, so SAVEPOINTs work and writers take the lock up front (IMMEDIATE)
# instead of failing to upgrade a read lock half way through a request.
sqlite_begin_mode: contextvars.ContextVar[str] = contextvars.ContextVar(
    "sqlite_begin_mode", default="IMMEDIATE"
)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout and explicit BEGIN on every SQLite connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        if cur.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"BEGIN {sqlite_begin_mode.get()}")


def real_session(session: Any) -> Any:
    """The Session behind a scoped_session proxy (or the session itself)."""
    from sqlalchemy.orm import Session

    return session if isinstance(session, Session) else session()


def innermost_transaction(session: Any) -> Any:
    """The open savepoint, or else the transaction: what a rollback of this moment would undo."""
    session = real_session(session)
    return session.get_nested_transaction() or session.get_transaction()


def within_transaction(transaction: Any, outer: Any) -> bool:
    """Whether `transaction` is `outer` or a savepoint inside it (so undone when it rolls back)."""
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
