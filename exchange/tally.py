"""Counting what a transaction did, for the metrics, only once it commits.

Services note events on the session (`note(session, "lead", "accepted")`); whoever exports
metrics takes them after the commit (`observability.metrics`). A rollback, or the rollback of
the savepoint an event was noted in (a bad row of a CSV upload), drops them, so a lead that
was never stored is never counted. No dependency on any metrics library here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, SessionTransaction

from database import innermost_transaction, real_session, within_transaction

KEY = "tally"


def note(session: Session, event: str, label: str) -> None:
    """Remember one event of the current transaction (e.g. a lead's verdict, a sale's niche)."""
    session = real_session(session)
    session.info.setdefault(KEY, []).append((event, label, innermost_transaction(session)))


def take(session: Session) -> list[tuple[str, str]]:
    """The events noted since the last take, removed from the session."""
    return [(event, label) for event, label, _ in session.info.pop(KEY, [])]


def drop_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    """Forget the events noted inside `transaction` (or inside savepoints within it)."""
    kept = [i for i in session.info.get(KEY, []) if not within_transaction(i[2], transaction)]
    session.info[KEY] = kept
