"""`flask quality train --niche SLUG`: train a niche's conversion model, print its evaluation."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from exchange.conversion import train_niche_model
from exchange.errors import DomainError
from exchange.niches import get_niche
from extensions import db
from quality.conversion import NotEnoughOutcomes

quality = AppGroup("quality", help="The quality module.")


@quality.command("train")
@click.option("--niche", "niche_slug", required=True)
def train(niche_slug: str) -> None:
    """Train a new model version from the niche's outcomes; it scores new leads at once."""
    try:
        niche = get_niche(db.session, niche_slug)
        model = train_niche_model(db.session, niche)
    except NotEnoughOutcomes as exc:
        raise click.ClickException(f"The model stays off for {niche_slug}: {exc}") from None
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    m = model.metrics
    click.echo(
        f"Conversion model {model.label} for {niche_slug}: {m['samples']} leads, "
        f"{m['converted']} converted"
    )
    click.echo(f"  {m['cv_folds']}-fold cross-validated ROC AUC: {m['cv_roc_auc']:.4f}")
    click.echo(
        f"  hold-out (20%) ROC AUC: {m['holdout_roc_auc']:.4f}   Brier: {m['holdout_brier']:.4f}"
    )
    click.echo("  calibration (hold-out, by fifths):  predicted  observed  leads")
    for row in m["calibration"]:
        click.echo(f"{'':38}{row['predicted']:>9.3f} {row['observed']:>9.3f} {row['leads']:>6}")


@quality.command("retrain-due")
@click.option(
    "--growth",
    default=0.2,
    show_default=True,
    help="Retrain when outcomes grew by this share since the last model.",
)
def retrain_due(growth: float) -> None:
    """Retrain every niche with enough new outcomes (run it from cron or Celery beat)."""
    import jobs

    jobs.retrain_due_models(growth, echo=click.echo)
