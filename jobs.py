"""Scheduled jobs, shared by the `flask ...` commands and the Celery tasks (celery_app.py).

Each job runs inside an app context and commits one unit of work at a time (one lead, one
payout, one top-up), so a job killed part-way leaves only whole units behind and the next run
picks up the rest.
"""

from __future__ import annotations

from collections.abc import Callable

from billing.autotopup import AutoTopUpResult, pending_auto_topups, run_auto_topup
from billing.charges import release_due_earnings
from billing.gateway import PaymentGateway
from billing.payouts import PayoutResult, pay_account, payable_accounts
from exchange.audit import record_event
from exchange.models import Organization
from extensions import db

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def release_earnings() -> int:
    """Make earnings payable whose return window has closed; returns how many."""
    count = release_due_earnings(db.session)
    db.session.commit()
    return count


def rematch_unsold(max_age_days: int = 30) -> tuple[int, int]:
    """Offer unsold accepted leads again (aged-lead prices); returns (offered, sold)."""
    from exchange.rematch import rematch_lead, unsold_lead_ids

    after, offered, sold = 0, 0, 0
    while ids := unsold_lead_ids(db.session, max_age_days=max_age_days, after_id=after):
        db.session.rollback()
        for lead_id in ids:
            sales = rematch_lead(db.session, lead_id)
            db.session.commit()
            offered += 1
            sold += bool(sales)
        after = ids[-1]
    return offered, sold


def pay_publishers(gateway: PaymentGateway, minimum_major: int) -> tuple[int, list[PayoutResult]]:
    """Release due earnings, then pay every publisher whose payable balance reaches the minimum.
    Each payout is audited and committed on its own; returns (earnings released, payouts)."""
    released = release_earnings()
    results = []
    for account_id, _org, _currency in payable_accounts(db.session):
        result = pay_account(db.session, gateway, account_id, minimum_major=minimum_major)
        if result.payout_id is not None:
            record_event(
                db.session,
                f"billing.payout_{result.outcome}",
                organization=db.session.get(Organization, result.organization_id),
                target_type="payout",
                target_id=result.payout_id,
                data={
                    "amount": result.amount,
                    "currency": result.currency,
                    "message": result.message,
                },
            )
        db.session.commit()
        results.append(result)
    return released, results


def run_auto_topups(gateway: PaymentGateway) -> list[AutoTopUpResult]:
    """Charge saved cards for the pending auto top-ups (a declined card is audited, not retried)."""
    results = []
    for topup_id in pending_auto_topups(db.session):
        result = run_auto_topup(db.session, gateway, topup_id)
        if result.outcome in ("declined", "no_card"):
            record_event(
                db.session,
                "billing.auto_topup_declined",
                organization=db.session.get(Organization, result.organization_id),
                target_type="topup",
                target_id=result.topup_id,
                data={"message": result.message},
            )
        db.session.commit()
        results.append(result)
    return results


def retrain_due_models(growth: float = 0.2, echo: Echo = _quiet) -> int:
    """Retrain every niche whose outcomes grew by `growth` since its last model; returns how
    many models were trained."""
    from exchange.conversion import niches_due, train_niche_model
    from quality.conversion import NotEnoughOutcomes

    trained = 0
    for niche in niches_due(db.session, growth=growth):
        try:
            model = train_niche_model(db.session, niche, trained_by="schedule")
        except NotEnoughOutcomes as exc:
            db.session.rollback()
            echo(f"{niche.slug}: stays off ({exc})")
            continue
        db.session.commit()
        trained += 1
        echo(f"{niche.slug}: {model.label}, ROC AUC {model.metrics['cv_roc_auc']:.4f}")
    return trained
