"""`flask leads import FILE.csv`: bulk intake from a CSV file, through the normal path."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from flask.cli import AppGroup
from marshmallow import ValidationError

from api.schemas.leads import ImportedLeadIn, LeadOut
from exchange.csv_rows import row_to_submission
from exchange.errors import DomainError
from exchange.intake import submit_lead
from exchange.models import Organization, Role
from exchange.niches import get_niche
from extensions import db

leads = AppGroup("leads", help="Lead files.")
BATCH = 500


def _count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return max(0, sum(1 for _ in fh) - 1)


@leads.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--niche", "niche_slug", required=True, help="Slug of the niche of every row.")
@click.option("--publisher", "publisher_id", type=int, required=True, help="Publisher org id.")
@click.option("--buyer", "buyer_id", type=int, help="Record the leads as bought by this buyer.")
@click.option("--default-country", help="ISO country for rows without one, e.g. IN.")
def import_leads(
    file: Path,
    niche_slug: str,
    publisher_id: int,
    buyer_id: int | None,
    default_country: str | None,
) -> None:
    """Import leads from FILE.csv: known columns map to lead fields, the others to the niche's
    fields by their snake_case name. Bad rows are reported by line; the rest are stored."""
    publisher = db.session.get(Organization, publisher_id)
    if publisher is None or publisher.role != Role.PUBLISHER:
        raise click.ClickException(f"Organisation {publisher_id} is not a publisher.")
    if buyer_id is not None:
        raise click.ClickException(
            "--buyer needs sales (the exchange issue); use `flask outcomes import` for outcomes."
        )
    try:
        niche = get_niche(db.session, niche_slug)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    schema, render = ImportedLeadIn(), LeadOut().dump
    stored = replayed = 0
    errors: list[str] = []
    with (
        file.open(newline="", encoding="utf-8-sig") as fh,
        click.progressbar(length=_count_rows(file), label="Importing leads") as bar,
    ):
        for line, row in enumerate(csv.DictReader(fh), start=2):
            bar.update(1)
            body, problems = row_to_submission(row, niche)
            if default_country and "country" not in body:
                body["country"] = default_country
            try:
                if problems:
                    raise ValidationError(problems)
                data = schema.load(body)
                with db.session.begin_nested():
                    intake = submit_lead(db.session, publisher, data, raw=dict(row), render=render)
            except ValidationError as exc:
                errors.append(f"line {line}: {exc.messages}")
                continue
            except DomainError as exc:
                errors.append(f"line {line}: {exc.message} {exc.fields or ''}".rstrip())
                continue
            replayed += intake.replayed
            stored += not intake.replayed
            if (stored + replayed) % BATCH == 0:
                db.session.commit()
    db.session.commit()
    click.echo(f"{stored} leads stored, {replayed} already imported, {len(errors)} rows refused.")
    for message in errors[:50]:
        click.echo(f"  {message}", err=True)
    if len(errors) > 50:
        click.echo(f"  ... and {len(errors) - 50} more", err=True)
