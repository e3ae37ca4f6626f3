"""The quality commands end to end: import leads and outcomes, train, score a new lead."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from exchange.models import ConversionModel, Lead
from extensions import db

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "xeducation_leads_train.csv"


def _subset(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "edu.csv"
    with DATA.open(newline="") as src, path.open("w", newline="") as dst:
        writer = csv.writer(dst)
        for i, row in enumerate(csv.reader(src)):
            if i > rows:
                break
            writer.writerow(row)
    return path


def _import_args(data: Path, publisher_id: str) -> list[str]:
    return [
        "leads",
        "import",
        str(data),
        "--niche",
        "education",
        "--publisher",
        publisher_id,
        "--default-country",
        "IN",
    ]


def _demo(ctx: Flask) -> dict[str, Any]:
    output = ctx.test_cli_runner().invoke(args=["exchange", "demo", "--json"]).output
    return {a["role"]: a for a in json.loads(output)}


def test_import_train_and_score(ctx: Flask, tmp_path: Path) -> None:
    runner = ctx.test_cli_runner()
    publisher = _demo(ctx)["publisher"]
    org = str(publisher["organization_id"])
    data = _subset(tmp_path, 1200)

    off = runner.invoke(args=["quality", "train", "--niche", "education"])
    assert off.exit_code != 0 and "stays off" in off.output

    args = _import_args(data, org)
    imported = runner.invoke(args=args)
    assert imported.exit_code == 0, imported.output
    assert "1200 leads stored, 0 already imported, 0 rows refused" in imported.output
    assert "0 leads stored, 1200 already imported" in runner.invoke(args=args).output
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1200

    outcomes = runner.invoke(args=["outcomes", "import", str(data), "--publisher", org])
    assert "1200 outcomes recorded, 0 rows refused" in outcomes.output, outcomes.output

    trained = runner.invoke(args=["quality", "train", "--niche", "education"])
    assert trained.exit_code == 0, trained.output
    assert "5-fold cross-validated ROC AUC" in trained.output
    model = db.session.scalar(select(ConversionModel))
    assert model is not None and model.version == 1 and model.metrics["cv_roc_auc"] > 0.8
    nothing_new = runner.invoke(args=["quality", "retrain-due"])
    assert nothing_new.exit_code == 0 and "education" not in nothing_new.output

    body: dict[str, Any] = {
        "niche": "education",
        "first_name": "Anita",
        "last_name": "Sharma",
        "email": "anita.sharma@gmail.com",
        "phone": "+91 98765 43210",
        "country": "IN",
        "fields": {
            "lead_origin": "Lead Add Form",
            "total_visits": 5,
            "total_time_spent_on_website": 1400,
            "what_is_your_current_occupation": "Working Professional",
        },
    }
    response = ctx.test_client().post(
        "/api/v1/leads", json=body, headers={"Authorization": f"Bearer {publisher['api_key']}"}
    )
    assert response.status_code == 201, response.json
    report = response.json["quality"]
    assert 0 < report["conversion_probability"] < 1
    assert report["temperature"] in ("cold", "warm", "hot")
    assert report["model_version"] == "v1"


def test_import_reports_bad_rows_by_line(ctx: Flask, tmp_path: Path) -> None:
    publisher = _demo(ctx)["publisher"]
    path = tmp_path / "bad.csv"
    path.write_text(
        "external_id,first_name,email,phone,country,postal_code,homeowner,monthly_electric_bill\n"
        "a1,Maria,maria.a1@gmail.com,(415) 555-2671,US,94103,yes,120\n"
        "a2,Ana,ana@gmail.com,(415) 555-2672,US,94103,maybe,120\n"
        "a3,Bo,bo@gmail.com,(415) 555-2673,XX,94103,no,120\n"
        "a4,Cy,cy@gmail.com,(415) 555-2674,US,94103,yes,\n"
    )
    result = ctx.test_cli_runner().invoke(
        args=[
            "leads",
            "import",
            str(path),
            "--niche",
            "solar",
            "--publisher",
            str(publisher["organization_id"]),
        ]
    )
    assert result.exit_code == 0
    assert "1 leads stored, 0 already imported, 3 rows refused" in result.output
    for line in ("line 3:", "line 4:", "line 5:"):
        assert line in result.output
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 1


def test_retrain_due_trains_niches_with_new_outcomes_only(ctx: Flask, tmp_path: Path) -> None:
    runner = ctx.test_cli_runner()
    org = str(_demo(ctx)["publisher"]["organization_id"])
    data = _subset(tmp_path, 400)
    runner.invoke(args=_import_args(data, org))
    runner.invoke(args=["outcomes", "import", str(data), "--publisher", org])
    first = runner.invoke(args=["quality", "retrain-due"])
    assert first.exit_code == 0 and "education: v1" in first.output, first.output
    assert "solar" not in first.output  # no outcomes, nothing to do
    again = runner.invoke(args=["quality", "retrain-due"])
    assert "education" not in again.output
    models = db.session.scalars(select(ConversionModel.trained_by)).all()
    assert models == ["schedule"]
