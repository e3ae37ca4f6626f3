"""Counting what a transaction did, for the metrics, only once it commits.

Services note events on the session (`note(session, "lead", "accepted")`); whoever exports
metrics takes them after the commit (`observability.metrics`). A rollback, or the rollback of
the savepoint an event was noted in (a bad row of a CSV upload), drops them, so a lead that
was never stored is never counted. No dependency on any metrics library here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, SessionTransaction

KEY = "tally"


def note(session: Session, event: str, label: str) -> None:
    """Remember one event of the current transaction (e.g. a lead's verdict, a sale's niche)."""
    if not isinstance(session, Session):  # a scoped_session proxy: use its current session
        session = session()  # type: ignore[operator]
    innermost = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(KEY, []).append((event, label, innermost))


def take(session: Session) -> list[tuple[str, str]]:
    """The events noted since the last take, removed from the session."""
    return [(event, label) for event, label, _ in session.info.pop(KEY, [])]


def drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """Forget the events noted inside `transaction` (or inside savepoints within it)."""
    kept = [item for item in session.info.get(KEY, []) if not _within(item[2], transaction)]
    session.info[KEY] = kept


def _within(noted: Any, transaction: SessionTransaction) -> bool:
    while noted is not None:
        if noted is transaction:
            return True
        noted = noted.parent
    return False
