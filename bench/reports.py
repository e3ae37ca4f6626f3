"""Reports over a million leads: how long each one takes, admin-wide and for one account.

    python -m bench.reports [LEADS]   (make bench-reports: SQLite, then a throwaway Postgres)

Seeds LEADS leads (default 1,000,000) spread over 90 days, 7 niches, 50 regions, 50
publishers with 200 sub-ids and 20 buyers, straight into the tables with INSERT ... SELECT
over a generated series (not the intake path): 10% rejected, 10% in review, 20% unsold, 60%
sold; of the sales 2% returned, 5% converted (a third of them with a CPA charge, a tenth of
those disputed and refunded), 5% lost; a reason for each rejected lead. Then it times each
report (`exchange.reports.lead_report`) over the last 30 days for an admin (everything), one
publisher and one buyer, and prints p50 and p99 over RUNS runs of each.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from bench.seed import campaign_rows, insert_campaigns

LEADS = 1_000_000
DAYS = 90
PUBLISHERS = 50
BUYERS = 20
RUNS = 7
PERIOD_DAYS = 30


def _series(dialect: str, count: int) -> str:
    """A FROM clause yielding i = 1..count."""
    if dialect == "postgresql":
        return f"generate_series(CAST(1 AS BIGINT), {count}) AS n(i)"
    return (
        "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s"
        f" WHERE i < {count}) SELECT i FROM s) AS n"
    )


def _ago(dialect: str, seconds: str) -> str:
    """The timestamp `seconds` (an SQL expression) before :now, as the dialect stores it."""
    if dialect == "postgresql":
        return f"CAST(:now AS timestamptz) - ({seconds}) * interval '1 second'"
    # SQLite: the text form SQLAlchemy writes, to the microsecond.
    return f"strftime('%Y-%m-%d %H:%M:%f', :now, '-' || ({seconds}) || ' seconds') || '000'"


def _json(dialect: str, text: str) -> str:
    return f"CAST('{text}' AS JSONB)" if dialect == "postgresql" else f"'{text}'"


def seed(session: Any, count: int) -> dict[str, Any]:
    """Organisations, campaigns and `count` leads with their sales, outcomes and returns."""
    from sqlalchemy import text

    from exchange.accounts import create_organization
    from exchange.demo import load_demo_niches
    from exchange.models import Role

    dialect = session.get_bind().dialect.name
    niches = load_demo_niches(session)
    publishers = [
        create_organization(session, f"bench publisher {i}", Role.PUBLISHER)
        for i in range(PUBLISHERS)
    ]
    buyers = [create_organization(session, f"bench buyer {i}", Role.BUYER) for i in range(BUYERS)]
    session.flush()
    rows = campaign_rows(BUYERS, niches, [b.id for b in buyers])
    insert_campaigns(session, rows)
    ids = {
        "pub0": publishers[0].id,
        "buyer0": buyers[0].id,
        "camp0": rows[0].id,
        "niche0": niches[0].id,
    }
    assert [p.id for p in publishers] == list(range(ids["pub0"], ids["pub0"] + PUBLISHERS))
    assert [b.id for b in buyers] == list(range(ids["buyer0"], ids["buyer0"] + BUYERS))
    assert [c.id for c in rows] == list(range(ids["camp0"], ids["camp0"] + BUYERS))
    assert [n.id for n in niches] == list(range(ids["niche0"], ids["niche0"] + len(niches)))
    now = dt.datetime.now(dt.UTC)
    params = {"now": now.strftime("%Y-%m-%d %H:%M:%S") if dialect == "sqlite" else now}
    status = (
        "CASE WHEN i % 10 = 0 THEN 'rejected' WHEN i % 10 = 1 THEN 'review' "
        "WHEN i % 10 IN (2, 3) THEN 'unsold' ELSE 'sold' END"
    )
    created = _ago(dialect, f"(i * 7919) % {DAYS * 86400}")
    session.execute(
        text(
            "INSERT INTO lead (publisher_id, niche_id, status, first_name, last_name, email,"
            " country, region, sub_id, fields, findings, raw_payload, sales_count, payout,"
            " created_at, updated_at)"
            f" SELECT {ids['pub0']} + (i / 11) % {PUBLISHERS},"
            f" {ids['niche0']} + (i / 13) % {len(niches)},"
            f" {status}, 'Bench', 'Lead', 'lead' || i || '@example.com', 'US',"
            " 'US-S' || ((i / 17) % 50),"
            " CASE WHEN i % 7 = 0 THEN NULL ELSE 'sub-' || ((i / 5) % 200) END,"
            f" {_json(dialect, '{}')}, {_json(dialect, '[]')}, {_json(dialect, '{}')},"
            f" 0, 0, {created}, {created}"
            f" FROM {_series(dialect, count)}"
        ),
        params,
    )
    bucket = "(lead.id / 10) % 20"
    session.execute(
        text(
            "INSERT INTO sale (lead_id, campaign_id, buyer_id, publisher_id, niche_id, currency,"
            " price, publisher_amount, exclusive, status, pipeline_status, created_at)"
            f" SELECT lead.id, {ids['camp0']} + (lead.id / 3) % {BUYERS},"
            f" {ids['buyer0']} + (lead.id / 3) % {BUYERS}, lead.publisher_id, lead.niche_id,"
            " niche.currency, 1000 + (lead.id % 40) * 100, 700 + (lead.id % 40) * 70, false,"
            " CASE WHEN lead.id % 50 = 4 THEN 'returned' ELSE 'sold' END,"
            f" CASE WHEN lead.id % 50 = 4 THEN 'new' WHEN {bucket} = 0 THEN 'converted'"
            f" WHEN {bucket} = 1 THEN 'lost' ELSE 'new' END, lead.created_at"
            " FROM lead JOIN niche ON niche.id = lead.niche_id WHERE lead.status = 'sold'"
        )
    )
    session.execute(
        text(
            "INSERT INTO conversion (buyer_id, sale_id, action, transaction_id, amount,"
            " publisher_amount, created_at)"
            " SELECT buyer_id, id, 'sale', 'tx-' || id, 5000, 3500, created_at FROM sale"
            " WHERE pipeline_status = 'converted' AND id % 3 = 0"
        )
    )
    session.execute(
        text(
            "INSERT INTO lead_return (kind, sale_id, conversion_id, lead_id, buyer_id,"
            " publisher_id, niche_id, reason, status, stage, amount, currency, refunded,"
            " created_at)"
            " SELECT 'dispute', sale.id, conversion.id, sale.lead_id, sale.buyer_id,"
            " sale.publisher_id, sale.niche_id, 'fake_or_fraud', 'approved', 'decided',"
            " conversion.amount, sale.currency, conversion.amount, conversion.created_at"
            " FROM conversion JOIN sale ON sale.id = conversion.sale_id"
            " WHERE conversion.id % 10 = 0"
        )
    )
    session.execute(
        text(
            "INSERT INTO lead_reason (lead_id, code, severity)"
            " SELECT id, CASE WHEN id % 3 = 0 THEN 'duplicate_lead' WHEN id % 3 = 1"
            " THEN 'form_too_fast' ELSE 'contact_unreachable' END, 'fail'"
            " FROM lead WHERE status = 'rejected'"
        )
    )
    session.commit()
    if dialect == "postgresql":
        # What autovacuum would have done by now: statistics, and the visibility map that
        # lets the covering indexes answer without reading the tables.
        with session.get_bind().connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    # (SQLite: no ANALYZE, as the app never runs one; with its statistics SQLite prefers a
    # skip-scan of ix_lead_niche_phone_created, twice as slow.)
    return {"publisher": publishers[1].id, "buyer": buyers[1].id}


def time_reports(session: Any, viewer: Any, dimensions: tuple[str, ...]) -> list[tuple[str, ...]]:
    """(dimension, rows, p50 ms, p99 ms) of each report over the last 30 days."""
    from exchange.reports import lead_report, rejection_reasons

    until = dt.datetime.now(dt.UTC).date()
    since = until - dt.timedelta(days=PERIOD_DAYS - 1)
    out = []
    runs: dict[str, Any] = {
        by: lambda by=by: lead_report(session, viewer, by=by, since=since, until=until)
        for by in dimensions
    }
    if viewer.role.value == "publisher":
        runs["rejection reasons"] = lambda: rejection_reasons(
            session, viewer, since=since, until=until
        )
    for name, run in runs.items():
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            rows = run()
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        out.append((name, f"{len(rows):,}", f"{statistics.median(timings):.0f}", f"{p99:.0f}"))
    return out


def main() -> None:
    from flask_migrate import upgrade

    from app import create_app
    from exchange.models import Organization, Role
    from exchange.reports import dimensions_for
    from extensions import db

    count = int(sys.argv[1]) if len(sys.argv) > 1 else LEADS
    url = (
        os.environ.get("DATABASE_URL")
        or os.environ.get("TEST_POSTGRES_URL")  # set by scripts/with-postgres.sh
        or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    print(f"database: {url.split('://')[0]}; {count:,} leads over {DAYS} days")
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        ids = seed(db.session, count)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        admin = Organization(name="bench admin", role=Role.ADMIN)
        db.session.add(admin)
        db.session.commit()
        viewers = [
            ("admin (all)", admin),
            ("one publisher", db.session.get(Organization, ids["publisher"])),
            ("one buyer", db.session.get(Organization, ids["buyer"])),
        ]
        print(f"\nreports over the last {PERIOD_DAYS} days, {RUNS} runs each")
        print(f"{'viewer':<14} {'report by':<18} {'rows':>6} {'p50 ms':>7} {'p99 ms':>7}")
        for label, viewer in viewers:
            for name, rows, p50, p99 in time_reports(db.session, viewer, dimensions_for(viewer)):
                print(f"{label:<14} {name:<18} {rows:>6} {p50:>7} {p99:>7}")


if __name__ == "__main__":
    main()
