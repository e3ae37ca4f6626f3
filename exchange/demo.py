"""Loading the demo data: niches, one organisation per role, their users and API keys."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.accounts import authenticate_api_key, create_organization, create_user, issue_api_key
from exchange.demo_niches import DEMO_NICHES
from exchange.errors import AuthenticationFailed
from exchange.models import FieldType, Niche, NicheField, Organization, Role
from exchange.niches import create_niche, update_niche

DEMO_PASSWORD = "demo-password"
DEMO_ORGS = [
    ("Demo Publisher", Role.PUBLISHER, "publisher@example.com"),
    ("Demo Buyer", Role.BUYER, "buyer@example.com"),
    ("Demo Admin", Role.ADMIN, "admin@example.com"),
]


@dataclass
class DemoAccount:
    role: str
    organization_id: int
    email: str
    password: str
    api_key: str


def demo_niche(slug: str) -> Niche:
    """A demo niche as an unsaved object (for benchmarks and tests that need no database)."""
    spec = next(n for n in DEMO_NICHES if n["slug"] == slug)
    return Niche(
        slug=slug,
        fields=[
            NicheField(name=f["name"], type=FieldType(f["type"]), choices=f.get("choices"))
            for f in spec["fields"]
        ],
    )


def load_demo_niches(session: Session) -> list[Niche]:
    """Create the demo niches, or bring existing ones back to the demo definition."""
    niches = []
    for spec in DEMO_NICHES:
        exists = session.scalar(select(Niche.id).where(Niche.slug == spec["slug"]))
        if exists:
            data = {k: v for k, v in spec.items() if k != "slug"}
            niches.append(update_niche(session, None, spec["slug"], data))
        else:
            niches.append(create_niche(session, None, spec))
    return niches


def _still_works(session: Session, plaintext: str, org: Organization) -> bool:
    try:
        return authenticate_api_key(session, plaintext).organization_id == org.id
    except AuthenticationFailed:
        return False


def load_demo(session: Session, known_keys: dict[str, str]) -> list[DemoAccount]:
    """Demo niches plus a publisher, a buyer and an admin; keys still valid are kept."""
    load_demo_niches(session)
    accounts = []
    for name, role, email in DEMO_ORGS:
        org = session.scalar(select(Organization).where(Organization.name == name))
        if org is None:
            org = create_organization(session, name, role)
            create_user(session, org, email, DEMO_PASSWORD)
        plaintext = known_keys.get(role.value)
        if not plaintext or not _still_works(session, plaintext, org):
            _, plaintext = issue_api_key(session, org, name="demo")
        accounts.append(DemoAccount(role.value, org.id, email, DEMO_PASSWORD, plaintext))
    return accounts
