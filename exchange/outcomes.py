"""Buyer-reported outcomes of leads: the ground truth the conversion model learns from."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.errors import InvalidInput, NotFound
from exchange.models import Lead, LeadOutcome, Organization, Outcome


def find_lead(
    session: Session,
    *,
    lead_id: int | None = None,
    external_id: str | None = None,
    publisher_id: int | None = None,
) -> Lead:
    """A lead by id, or by external id (unique per publisher; give the publisher if ambiguous)."""
    if lead_id is not None:
        lead = session.get(Lead, lead_id)
    elif external_id:
        stmt = select(Lead).where(Lead.external_id == external_id)
        if publisher_id is not None:
            stmt = stmt.where(Lead.publisher_id == publisher_id)
        matches = session.scalars(stmt.limit(2)).all()
        if len(matches) > 1:
            raise InvalidInput(f"external_id {external_id!r} belongs to several publishers.")
        lead = matches[0] if matches else None
    else:
        raise InvalidInput("Give a lead_id or an external_id.")
    if lead is None:
        raise NotFound(f"No lead {lead_id or external_id!r}.")
    return lead


def record_outcome(
    session: Session,
    lead: Lead,
    outcome: Outcome | str,
    *,
    buyer: Organization | None = None,
    reason: str | None = None,
) -> LeadOutcome:
    """Append an outcome (contacted, qualified, converted, lost) to a lead's history."""
    try:
        outcome = Outcome(str(outcome).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown outcome {outcome!r}.", fields={"outcome": [f"One of {', '.join(Outcome)}."]}
        ) from None
    row = LeadOutcome(
        lead_id=lead.id, buyer_id=buyer.id if buyer else None, outcome=outcome, reason=reason
    )
    session.add(row)
    session.flush()
    return row
