"""Per-lead matching cost against 100, 1,000 and 10,000 active campaigns.

    python -m bench.matching        (make bench-matching: SQLite, then a throwaway Postgres)

Campaigns are spread over the 7 demo niches and the 50 US states (plus some ZIP-list and
radius campaigns), so about 1 in 350 buys where a given lead is. For each size the script
times `exchange.matching.offers` (the indexed candidate query, the rule checks and the
pricing) over 300 solar leads from all over the US and prints the mean and p99 per lead, and
how many campaigns were eligible on average. The claim to check: the cost follows the
eligible campaigns, not the total.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time

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
SIZES = (100, 1_000, 10_000)
LEADS = 300


def seed(session: object, count: int, niches: list, buyer_id: int) -> None:  # type: ignore[type-arg]
    from exchange.campaign_rules import geography_targets
    from exchange.models import Campaign, CampaignTarget

    rng = random.Random(count)
    campaigns = []
    for i in range(count):
        niche = niches[i % len(niches)]
        state = rng.choice(STATES)
        geo = {"countries": [], "subdivisions": [f"US-{state}"], "postal_codes": [], "radius": None}
        campaigns.append(
            Campaign(
                buyer_id=buyer_id,
                niche_id=niche.id,
                name=f"bench {i}",
                currency=niche.currency,
                geography=geo,
                schedule=None,
                min_score=rng.choice([None, 50, 70]),
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
    session.add_all(campaigns)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    session.add_all(  # type: ignore[attr-defined]
        CampaignTarget(campaign_id=c.id, niche_id=c.niche_id, kind=k, value=v)
        for c in campaigns
        for k, v in geography_targets(c.geography)
    )
    session.commit()  # type: ignore[attr-defined]


def main() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import delete

    from app import create_app
    from database import utcnow
    from exchange.accounts import create_organization
    from exchange.demo_niches import DEMO_NICHES
    from exchange.matching import offers
    from exchange.models import Campaign, CampaignTarget, Lead, LeadStatus, Role
    from exchange.niches import create_niche
    from exchange.regions import all_us_zips
    from extensions import db

    url = (
        os.environ.get("DATABASE_URL")
        or os.environ.get("TEST_POSTGRES_URL")  # set by scripts/with-postgres.sh
        or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    rng = random.Random(7)
    zips = rng.sample(all_us_zips(), LEADS)
    print(f"database: {url.split('://')[0]}")
    print(f"{'campaigns':>10} {'eligible/lead':>14} {'mean ms':>8} {'p99 ms':>7}")
    with app.app_context():
        upgrade()
        niches = [create_niche(db.session, None, spec) for spec in DEMO_NICHES]
        buyer = create_organization(db.session, "bench buyer", Role.BUYER)
        publisher = create_organization(db.session, "bench publisher", Role.PUBLISHER)
        db.session.commit()
        solar = next(n for n in niches if n.slug == "solar")
        for size in SIZES:
            db.session.execute(delete(CampaignTarget))
            db.session.execute(delete(Campaign))
            db.session.commit()
            seed(db.session, size, niches, buyer.id)
            timings, eligible = [], []
            for z in zips:
                lead = Lead(
                    niche=solar,
                    niche_id=solar.id,
                    publisher_id=publisher.id,
                    country="US",
                    region=z.region,
                    postal_code=z.zip_code,
                    fields={},
                    score=80,
                    status=LeadStatus.UNSOLD,
                    created_at=utcnow(),
                )
                started = time.perf_counter()
                found, _ = offers(db.session, lead)
                timings.append((time.perf_counter() - started) * 1000)
                eligible.append(len(found))
                db.session.rollback()
            timings.sort()
            p99 = timings[int(len(timings) * 0.99) - 1]
            print(
                f"{size:>10,} {statistics.mean(eligible):>14.1f} "
                f"{statistics.mean(timings):>8.2f} {p99:>7.2f}"
            )


if __name__ == "__main__":
    main()
