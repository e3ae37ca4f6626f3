"""Per-lead CPU cost of `quality.assess` with the conversion model loaded, and the plans of
the duplicate / velocity / rotation look-ups.

    python -m bench.quality        (make bench-quality)

The model is trained on the shared X Education file; each lead is one of its rows with
contact details added, so every check runs. Look-ups are timed separately on SQLite with
10,000 stored leads, and their query plans are printed to show the index each one uses.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "xeducation_leads_train.csv"


def main() -> None:
    from exchange.csv_rows import row_to_submission
    from exchange.demo import demo_niche
    from exchange.demo_niches import XEDUCATION_POST_SALE_COLUMNS as POST_SALE
    from quality import FieldSpec, LeadFacts, NicheRules, assess
    from quality.conversion import features, model_context, train

    niche = demo_niche("education")
    specs = [FieldSpec(f.name, f.type.value) for f in niche.fields]
    with DATA.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh)]
    submissions = [
        row_to_submission({k: v for k, v in r.items() if k not in POST_SALE}, niche)[0]
        for r in rows
    ]
    labels = [int(r["Converted"]) for r in rows]
    context = model_context("import", None, "1", dt.datetime(2026, 1, 1, 10), [])
    model = train([features(s["fields"], specs, context) for s in submissions], labels)

    def predict(facts: LeadFacts, reasons: list) -> float:  # type: ignore[type-arg]
        ctx = model_context(
            facts.source,
            facts.sub_id,
            facts.publisher,
            facts.received_at,
            [r.code for r in reasons if r.severity.value == "fail"],
        )
        return model.predict(features(facts.fields, specs, ctx))

    rules = NicheRules(slug="education", fields=specs)
    now = dt.datetime.now(dt.UTC)
    leads = [
        LeadFacts(
            first_name="Anita",
            last_name=f"Sharma{'abcdefgh'[i % 8]}",
            email=f"anita.{i}@gmail.com",
            phone=f"+9198765{i % 100000:05d}",
            country="IN",
            postal_code="400001",
            ip=f"203.0.113.{i % 250}",
            form_seconds=40.0,
            fields=s["fields"],
            received_at=now,
            publisher="1",
            source="google",
        )
        for i, s in enumerate(submissions[:2000])
    ]
    for lead in leads[:100]:  # warm-up
        assess(lead, rules, predict=predict, model_version="v1", now=now)
    costs = []
    for lead in leads:
        start = time.process_time_ns()
        assess(lead, rules, predict=predict, model_version="v1", now=now)
        costs.append((time.process_time_ns() - start) / 1e6)
    costs.sort()
    print(f"\nassess() with the model loaded, {len(costs)} leads (CPU time per lead):")
    print(
        f"  mean {statistics.mean(costs):.3f} ms   p50 {costs[len(costs) // 2]:.3f} ms   "
        f"p99 {costs[int(len(costs) * 0.99)]:.3f} ms"
    )
    print(f"  model: 5-fold ROC AUC {model.metrics['cv_roc_auc']:.4f} on {len(labels)} leads")
    lookups()


def lookups() -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from exchange.assessment import lookups_for
    from exchange.demo import load_demo
    from exchange.models import Lead, LeadStatus, Niche, Organization
    from extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db", "DEMO_KEYS_FILE": f"{tmp}/k.json"}
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            load_demo(db.session, {})
            niche = db.session.query(Niche).filter_by(slug="solar").one()
            publisher = db.session.query(Organization).filter_by(role="publisher").one()
            now = dt.datetime.now(dt.UTC)
            db.session.add_all(
                Lead(
                    publisher_id=publisher.id,
                    niche_id=niche.id,
                    country="US",
                    email=f"p{i}@gmail.com",
                    phone=f"+1415555{i % 10000:04d}",
                    ip=f"10.0.{i % 200}.{i % 250}",
                    postal_code=f"{94000 + i % 900}",
                    first_name="A",
                    last_name=f"L{i % 500}",
                    sub_id=f"s{i % 50}",
                    status=LeadStatus.UNSOLD,
                    created_at=now - dt.timedelta(minutes=i),
                )
                for i in range(10_000)
            )
            db.session.commit()
            probe = Lead(
                publisher=publisher,
                niche=niche,
                email="new@gmail.com",
                phone="+14155550999",
                first_name="A",
                last_name="L7",
                country="US",
            )
            look = lookups_for(db.session, probe)
            since = now - dt.timedelta(days=30)
            calls = {
                "duplicate (email or phone)": lambda: look.duplicates(
                    "p5@gmail.com", "+14155550005", since
                ),
                "velocity by IP": lambda: look.recent(
                    "ip", "10.0.5.5", now - dt.timedelta(hours=1)
                ),
                "velocity by sub-id": lambda: look.recent(
                    "sub_id", "s5", now - dt.timedelta(hours=1)
                ),
                "rotation (name + ZIP)": lambda: look.rotations("A", "L7", "94007", since),
            }
            print("\nLook-ups over 10,000 leads on SQLite (wall time per call):")
            for label, call in calls.items():
                call()
                start = time.perf_counter()
                for _ in range(200):
                    call()
                print(f"  {label:<28} {(time.perf_counter() - start) / 200 * 1000:.3f} ms")
            statement = text(
                "EXPLAIN QUERY PLAN SELECT 1 FROM lead WHERE niche_id = :n AND "
                "(email = :e OR phone = :p) AND created_at >= :s"
            )
            plan = db.session.execute(
                statement, {"n": niche.id, "e": "x", "p": "y", "s": since}
            ).all()
            print("  duplicate query plan: " + " | ".join(str(row[-1]) for row in plan))
        os.environ.pop("DATABASE_URL", None)


if __name__ == "__main__":
    main()
