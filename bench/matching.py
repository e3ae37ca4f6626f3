"""Per-lead matching cost against 100, 1,000 and 10,000 active campaigns.

    python -m bench.matching        (make bench-matching: SQLite, then a throwaway Postgres)

For each size the script times `exchange.matching.offers` (the indexed candidate query, the
rule checks and the pricing) over 300 solar leads and prints the mean and p99 per lead and how
many campaigns were eligible on average, in two series:
- campaigns spread at random over the 7 demo niches and 50 states (about 1 in 350 buys where a
  given lead is), leads from all over the US: the eligible count grows with the total;
- the same 30 eligible campaigns (solar, California) among 100, 1,000 or 10,000, leads from
  California: only the total grows.
The claim to check: the cost follows the eligible campaigns, not the total.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from typing import Any

from bench.seed import STATES, campaign_rows, insert_campaigns

SIZES = (100, 1_000, 10_000)
LEADS = 300
ELIGIBLE = 30


def seed(session: Any, count: int, niches: list[Any], buyer_id: int) -> None:
    """`count` campaigns in random states and niches (the spread series)."""
    rows = campaign_rows(count, niches, [buyer_id], seed=count)
    rng = random.Random(count)
    for row in rows:
        row.geography = {**row.geography, "subdivisions": [f"US-{rng.choice(STATES)}"]}
    insert_campaigns(session, rows)


def seed_fixed(session: Any, count: int, niches: list[Any], buyer_id: int) -> None:
    """`count` campaigns of which exactly ELIGIBLE buy solar in California (the leads' state);
    the others buy other niches or other states."""
    rows = campaign_rows(count, niches, [buyer_id], seed=count)
    solar = next(n for n in niches if n.slug == "solar")
    for i, row in enumerate(rows):
        if i < ELIGIBLE:
            row.niche_id, row.currency, state = solar.id, solar.currency, "CA"
        else:
            state = STATES[i % len(STATES)]
            if state == "CA" and row.niche_id == solar.id:
                state = "NV"
        row.geography = {**row.geography, "subdivisions": [f"US-{state}"]}
        row.min_score = None
    insert_campaigns(session, rows)


def run_series(label: str, seeder: Any, leads: list[Any], niches: list[Any], ids: Any) -> None:
    from sqlalchemy import delete

    from database import utcnow
    from exchange.matching import offers
    from exchange.models import Campaign, CampaignTarget, Lead, LeadStatus
    from extensions import db

    solar = next(n for n in niches if n.slug == "solar")
    print(f"\n{label}")
    print(f"{'campaigns':>10} {'eligible/lead':>14} {'mean ms':>8} {'p99 ms':>7}")
    for size in SIZES:
        db.session.execute(delete(CampaignTarget))
        db.session.execute(delete(Campaign))
        db.session.commit()
        seeder(db.session, size, niches, ids["buyer"])
        timings, eligible = [], []
        for z in leads:
            lead = Lead(
                niche=solar,
                niche_id=solar.id,
                publisher_id=ids["publisher"],
                country="US",
                region=z.region,
                postal_code=z.zip_code,
                fields={"homeowner": True, "monthly_electric_bill": 150},
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


def main() -> None:
    from flask_migrate import upgrade

    from app import create_app
    from exchange.accounts import create_organization
    from exchange.demo import load_demo_niches
    from exchange.models import Role
    from exchange.regions import all_us_zips
    from extensions import db

    url = (
        os.environ.get("DATABASE_URL")
        or os.environ.get("TEST_POSTGRES_URL")  # set by scripts/with-postgres.sh
        or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    rng = random.Random(7)
    states = {f"US-{s}" for s in STATES}
    everywhere = rng.sample([z for z in all_us_zips() if z.region in states], LEADS)
    california = rng.sample([z for z in all_us_zips() if z.region == "US-CA"], LEADS)
    print(f"database: {url.split('://')[0]}")
    with app.app_context():
        upgrade()
        niches = load_demo_niches(db.session)
        buyer = create_organization(db.session, "bench buyer", Role.BUYER)
        publisher = create_organization(db.session, "bench publisher", Role.PUBLISHER)
        db.session.commit()
        ids = {"buyer": buyer.id, "publisher": publisher.id}
        run_series(
            "Campaigns in random niches and states; leads from all over the US",
            seed,
            everywhere,
            niches,
            ids,
        )
        run_series(
            f"The same {ELIGIBLE} eligible campaigns (solar, California) among all the others",
            seed_fixed,
            california,
            niches,
            ids,
        )


if __name__ == "__main__":
    main()
