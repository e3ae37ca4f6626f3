"""`flask outcomes import FILE.csv`: what happened to leads (contacted ... converted / lost)."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from flask.cli import AppGroup

from exchange.csv_rows import snake_case
from exchange.errors import DomainError
from exchange.outcomes import find_lead, record_outcome
from extensions import db

outcomes = AppGroup("outcomes", help="Lead outcomes reported by buyers.")
# The X Education file says Converted 1/0; other files say the outcome in words.
CONVERTED_FLAG = {"1": "converted", "0": "lost"}


@outcomes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--publisher", "publisher_id", type=int, help="Whose external ids these are.")
def import_outcomes(file: Path, publisher_id: int | None) -> None:
    """Import outcomes: external_id (or Prospect ID) or lead_id, and outcome (or Converted)."""
    recorded, errors = 0, []
    with file.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    with click.progressbar(rows, label="Importing outcomes") as bar:
        for line, raw in enumerate(bar, start=2):
            row = {snake_case(k): (v or "").strip() for k, v in raw.items() if k}
            outcome = row.get("outcome") or CONVERTED_FLAG.get(row.get("converted", ""), "")
            lead_id = row.get("lead_id")
            try:
                lead = find_lead(
                    db.session,
                    lead_id=int(lead_id) if lead_id and lead_id.isdigit() else None,
                    external_id=row.get("external_id") or row.get("prospect_id"),
                    publisher_id=publisher_id,
                )
                record_outcome(db.session, lead, outcome, reason=row.get("reason") or None)
            except DomainError as exc:
                errors.append(f"line {line}: {exc.message}")
                continue
            recorded += 1
    db.session.commit()
    click.echo(f"{recorded} outcomes recorded, {len(errors)} rows refused.")
    for message in errors[:50]:
        click.echo(f"  {message}", err=True)
