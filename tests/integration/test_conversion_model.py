"""The conversion model on the real X Education leads, intake-time columns only."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from exchange.csv_rows import row_to_submission
from exchange.demo import demo_niche
from exchange.demo_niches import XEDUCATION_POST_SALE_COLUMNS
from quality import FieldSpec
from quality.conversion import (
    NotEnoughOutcomes,
    TrainedModel,
    cross_validated_auc,
    features,
    train,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "xeducation_leads_train.csv"


@pytest.fixture(scope="module")
def dataset() -> tuple[list[dict[str, float]], list[int]]:
    niche = demo_niche("education")
    specs = [FieldSpec(f.name, f.type.value) for f in niche.fields]
    rows, labels = [], []
    with DATA.open(newline="") as fh:
        for row in csv.DictReader(fh):
            label = int(row["Converted"])
            intake = {k: v for k, v in row.items() if k not in XEDUCATION_POST_SALE_COLUMNS}
            data, errors = row_to_submission(intake, niche)
            assert errors == {}
            rows.append(features(data["fields"], specs, {"source": "import"}))
            labels.append(label)
    return rows, labels


def test_no_post_sale_column_becomes_a_feature(dataset: Any) -> None:
    rows, _ = dataset
    names = {key.split("=")[0] for row in rows for key in row}
    assert not any(
        col.lower().replace(" ", "_") in name
        for name in names
        for col in XEDUCATION_POST_SALE_COLUMNS
    )
    assert "cat:lead_origin" in names and "log:total_time_spent_on_website" in names


def test_five_fold_roc_auc_is_at_least_089(dataset: Any) -> None:
    rows, labels = dataset
    auc = cross_validated_auc(rows, labels, folds=5)
    print(f"5-fold ROC AUC on {len(labels)} leads: {auc:.4f}")
    assert auc >= 0.89


def test_training_reports_metrics_and_round_trips(dataset: Any) -> None:
    rows, labels = dataset
    model = train(rows[:3000], labels[:3000], folds=3)
    assert model.metrics["holdout_roc_auc"] > 0.85
    assert 0 < model.metrics["holdout_brier"] < 0.25
    calibration = model.metrics["calibration"]
    assert [b["predicted"] for b in calibration] == sorted(b["predicted"] for b in calibration)
    assert abs(calibration[-1]["observed"] - calibration[-1]["predicted"]) < 0.15
    again = TrainedModel.loads(model.dumps(), model.metrics)
    assert again.predict(rows[0]) == pytest.approx(model.predict(rows[0]))


def test_too_few_outcomes_keeps_the_model_off(dataset: Any) -> None:
    rows, labels = dataset
    with pytest.raises(NotEnoughOutcomes):
        train(rows[:50], labels[:50])
    with pytest.raises(NotEnoughOutcomes):
        train(rows[:500], [0] * 500)
