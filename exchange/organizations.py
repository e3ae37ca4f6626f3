"""Organisations as admins see them: every organisation with its balances, one page at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from billing.models import AccountKind, LedgerAccount
from exchange.errors import NotFound
from exchange.models import Organization, Role
from exchange.pagination import MAX_LIMIT, Page, decode_cursor, encode_cursor

# The accounts an organisation's row shows: what a buyer can spend, what a publisher is owed.
SHOWN_KINDS = (
    AccountKind.BUYER_BALANCE,
    AccountKind.PUBLISHER_PENDING,
    AccountKind.PUBLISHER_PAYABLE,
)


@dataclass
class OrgRow:
    """An organisation with its buyer balances or publisher earnings (one account per
    kind and currency)."""

    org: Organization
    accounts: list[LedgerAccount] = field(default_factory=list)

    def of_kind(self, kind: AccountKind) -> list[LedgerAccount]:
        return [a for a in self.accounts if a.kind == kind]


def list_organizations(
    session: Session,
    *,
    limit: int = 50,
    cursor: str | None = None,
    role: Role | None = None,
    name: str | None = None,
) -> Page[OrgRow]:
    """Organisations oldest first (filtered by role and a part of the name) with their
    accounts, in one query: the page's ids in a subquery, the accounts joined to it."""
    limit = max(1, min(limit, MAX_LIMIT))
    ids = select(Organization.id)
    if role is not None:
        ids = ids.where(Organization.role == role)
    if name:
        ids = ids.where(Organization.name.ilike(f"%{_escape_like(name)}%", escape="\\"))
    if cursor:
        ids = ids.where(Organization.id > decode_cursor(cursor))
    page_ids = ids.order_by(Organization.id).limit(limit + 1).subquery()
    rows = session.execute(
        select(Organization, LedgerAccount)
        .join(page_ids, page_ids.c.id == Organization.id)
        .outerjoin(
            LedgerAccount,
            and_(
                LedgerAccount.organization_id == Organization.id,
                LedgerAccount.kind.in_(SHOWN_KINDS),
            ),
        )
        .order_by(Organization.id, LedgerAccount.currency, LedgerAccount.kind)
    ).all()
    by_id: dict[int, OrgRow] = {}
    for org, account in rows:
        row = by_id.setdefault(org.id, OrgRow(org))
        if account is not None:
            row.accounts.append(account)
    items = list(by_id.values())
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1].org.id) if more and items else None)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_organization(session: Session, org_id: int) -> OrgRow:
    """One organisation with all its accounts, or NotFound."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"No organisation {org_id}.")
    accounts = session.scalars(
        select(LedgerAccount)
        .where(LedgerAccount.organization_id == org_id)
        .order_by(LedgerAccount.currency, LedgerAccount.kind)
    ).all()
    return OrgRow(org, list(accounts))


def names_of(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Organisation names by id for the ids a list shows (one query, however long the list)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    stmt = select(Organization.id, Organization.name).where(Organization.id.in_(wanted))
    return {org_id: org_name for org_id, org_name in session.execute(stmt)}
