"""Seeding a market for the benchmarks: niches, buyers with money, a publisher, campaigns.

    python -m bench.seed DATABASE_URL CAMPAIGNS   ->  one JSON line {"publisher_key": ...}

Campaigns go round robin over the 7 demo niches and the 50 US states (and over 20 buyers), so
every (niche, state) pair has about CAMPAIGNS / 350 campaigns and any solar lead in any state
finds a buyer. Bids are fixed, 5 to 50 (major units); about 30% of campaigns are exclusive.
"""

from __future__ import annotations

import json
import random
import sys
from typing import Any

STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]
BUYERS = 20


def campaign_rows(count: int, niches: list[Any], buyer_ids: list[int], seed: int = 1) -> list[Any]:
    """`count` unsaved active CPL campaigns spread over niches, states and buyers."""
    from exchange.models import Campaign

    rng = random.Random(seed)
    rows = []
    for i in range(count):
        niche = niches[i % len(niches)]
        state = STATES[(i // len(niches)) % len(STATES)]
        rows.append(
            Campaign(
                buyer_id=buyer_ids[i % len(buyer_ids)],
                niche_id=niche.id,
                name=f"bench {i}",
                currency=niche.currency,
                geography={
                    "countries": [],
                    "subdivisions": [f"US-{state}"],
                    "postal_codes": [],
                    "radius": None,
                },
                schedule=None,
                min_score=rng.choice([None, 40, 50]),
                exclusive=rng.random() < 0.3,
                filters=[],
                caps={"leads": {}, "spend": {}},
                budget=None,
                pricing={
                    "model": "cpl",
                    "bid": {"type": "fixed", "amount": rng.randint(500, 5000)},
                },
                delivery={"method": "portal"},
                signing_secret="whsec_bench",
            )
        )
    return rows


def insert_campaigns(session: Any, campaigns: list[Any]) -> None:
    """Insert campaigns with their geography index rows, then commit."""
    from exchange.campaign_rules import geography_targets
    from exchange.models import CampaignTarget

    session.add_all(campaigns)
    session.flush()
    session.add_all(
        CampaignTarget(campaign_id=c.id, niche_id=c.niche_id, kind=k, value=v)
        for c in campaigns
        for k, v in geography_targets(c.geography)
    )
    session.commit()


def seed_market(count: int) -> dict[str, Any]:
    """In an app context: the demo niches, funded buyers, a publisher key, `count` campaigns."""
    from billing.ledger import Leg, post_entry
    from billing.models import AccountKind, EntryKind
    from exchange.accounts import create_organization, issue_api_key
    from exchange.demo import load_demo_niches
    from exchange.models import Role
    from extensions import db

    niches = load_demo_niches(db.session)
    publisher = create_organization(db.session, "bench publisher", Role.PUBLISHER)
    _, key = issue_api_key(db.session, publisher)
    buyers = [
        create_organization(db.session, f"bench buyer {i}", Role.BUYER) for i in range(BUYERS)
    ]
    db.session.flush()
    for buyer in buyers:
        for currency in sorted({n.currency for n in niches}):
            amount = 10**12
            post_entry(
                db.session,
                key=f"bench-fund:{buyer.id}:{currency}",
                kind=EntryKind.TOPUP,
                currency=currency,
                legs=[
                    Leg(None, AccountKind.STRIPE_CLEARING, -amount),
                    Leg(buyer.id, AccountKind.BUYER_BALANCE, amount),
                ],
            )
    db.session.commit()
    insert_campaigns(db.session, campaign_rows(count, niches, [b.id for b in buyers]))
    return {"publisher_key": key, "campaigns": count}


def main() -> None:
    from flask_migrate import upgrade

    from app import create_app

    url, count = sys.argv[1], int(sys.argv[2])
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        print(json.dumps(seed_market(count)))


if __name__ == "__main__":
    main()
