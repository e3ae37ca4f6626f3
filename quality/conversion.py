"""The learned conversion model: features known at intake, a logistic regression, its evaluation.

Features are one-hot categories (enum, text and boolean niche fields, source, sub-id, publisher,
hour of day, failed check codes) and, for numbers, log1p plus a log-scale bin. Logistic
regression on unscaled indicators ranks X Education's leads at ~0.895 ROC AUC (5-fold) and
scores one lead in well under a millisecond.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline

from quality.facts import FieldSpec

FEATURE_VERSION = 1
MIN_OUTCOMES = 200
MIN_PER_CLASS = 20
MISSING = frozenset({"", "select", "none", "null", "n/a", "na"})


class NotEnoughOutcomes(Exception):
    """Too few outcomes (or of one class only) to train a model worth trusting."""


def _category(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return None if text.lower() in MISSING else text[:80]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def features(
    fields: Mapping[str, Any], specs: Sequence[FieldSpec], context: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """The feature dict of one lead: what a publisher can know when the lead is submitted."""
    out: dict[str, float] = {}
    for spec in specs:
        value = fields.get(spec.name)
        if spec.type == "number":
            number = _number(value)
            if number is None:
                out[f"missing:{spec.name}"] = 1.0
            else:
                scaled = math.copysign(math.log1p(abs(number)), number)
                out[f"log:{spec.name}"] = scaled
                out[f"bin:{spec.name}={int(scaled * 2)}"] = 1.0
        elif spec.type != "date":
            out[f"cat:{spec.name}={_category(value)}"] = 1.0
    for key, value in (context or {}).items():
        if isinstance(value, list | tuple | set | frozenset):
            for item in value:
                out[f"ctx:{key}={item}"] = 1.0
        else:
            out[f"ctx:{key}={_category(value)}"] = 1.0
    return out


def model_context(
    source: str | None,
    sub_id: str | None,
    publisher: str | None,
    received_at: Any,
    failed_checks: Iterable[str],
) -> dict[str, Any]:
    """The non-field features, built the same way for training and for scoring."""
    hour = getattr(received_at, "hour", None)
    return {
        "source": source,
        "sub_id": sub_id,
        "publisher": publisher,
        "hour": None if hour is None else hour // 3 * 3,
        "failed": sorted(set(failed_checks)),
    }


def drop_constant(rows: Sequence[dict[str, float]], share: float = 0.99) -> list[dict[str, float]]:
    """Remove features (nearly) every row has: a model cannot tell them from its intercept, and
    a lead scored later without them would be shifted by their weight."""
    counts: dict[str, int] = {}
    for row in rows:
        for key in row:
            counts[key] = counts.get(key, 0) + 1
    constant = {k for k, c in counts.items() if c >= share * len(rows) and not k.startswith("log:")}
    return [{k: v for k, v in row.items() if k not in constant} for row in rows]


def _pipeline() -> Pipeline:
    return make_pipeline(DictVectorizer(), LogisticRegression(C=0.2, max_iter=5000))


@dataclass
class TrainedModel:
    pipeline: Pipeline
    metrics: dict[str, Any] = field(default_factory=dict)
    feature_version: int = FEATURE_VERSION

    def predict(self, row: dict[str, float]) -> float:
        """Probability that the lead with these features converts."""
        return float(self.pipeline.predict_proba([row])[0, 1])

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump({"pipeline": self.pipeline, "feature_version": self.feature_version}, buffer)
        return buffer.getvalue()

    @classmethod
    def loads(cls, blob: bytes, metrics: dict[str, Any] | None = None) -> TrainedModel:
        data = joblib.load(io.BytesIO(blob))
        return cls(data["pipeline"], metrics or {}, data["feature_version"])


def _check_enough(labels: Sequence[int]) -> None:
    positives = sum(labels)
    if len(labels) < MIN_OUTCOMES or min(positives, len(labels) - positives) < MIN_PER_CLASS:
        raise NotEnoughOutcomes(
            f"{len(labels)} outcomes ({positives} converted): the model needs at least "
            f"{MIN_OUTCOMES}, with {MIN_PER_CLASS} of each kind."
        )


def calibration_table(
    labels: Sequence[int], probabilities: Sequence[float], bins: int = 5
) -> list[dict[str, float]]:
    """Predicted against observed conversion rate, in bins of equal size."""
    order = np.argsort(probabilities)
    table = []
    for chunk in np.array_split(order, bins):
        if len(chunk) == 0:
            continue
        table.append(
            {
                "predicted": round(float(np.mean(np.asarray(probabilities)[chunk])), 4),
                "observed": round(float(np.mean(np.asarray(labels)[chunk])), 4),
                "leads": len(chunk),
            }
        )
    return table


def cross_validated_auc(
    rows: Sequence[dict[str, float]], labels: Sequence[int], folds: int = 5
) -> float:
    """ROC AUC of out-of-fold predictions (stratified, shuffled with a fixed seed)."""
    _check_enough(labels)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    predicted = cross_val_predict(
        _pipeline(), list(rows), list(labels), cv=splitter, method="predict_proba"
    )
    return float(roc_auc_score(labels, predicted[:, 1]))


def train(
    rows: Sequence[dict[str, float]], labels: Sequence[int], *, folds: int = 5
) -> TrainedModel:
    """Evaluate (k-fold AUC, then a 20% hold-out for AUC, Brier and calibration) and fit on all."""
    rows, labels = drop_constant(rows), [int(v) for v in labels]
    _check_enough(labels)
    cv_auc = cross_validated_auc(rows, labels, folds)
    fit_rows, test_rows, fit_y, test_y = train_test_split(
        rows, labels, test_size=0.2, stratify=labels, random_state=0
    )
    holdout = _pipeline().fit(fit_rows, fit_y)
    probabilities = holdout.predict_proba(test_rows)[:, 1]
    metrics = {
        "samples": len(labels),
        "converted": sum(labels),
        "cv_folds": folds,
        "cv_roc_auc": round(cv_auc, 4),
        "holdout_roc_auc": round(float(roc_auc_score(test_y, probabilities)), 4),
        "holdout_brier": round(float(brier_score_loss(test_y, probabilities)), 4),
        "calibration": calibration_table(test_y, list(probabilities)),
    }
    return TrainedModel(_pipeline().fit(rows, labels), metrics)


def rows_from(
    records: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]], specs: Sequence[FieldSpec]
) -> list[dict[str, float]]:
    """Feature rows from (fields, context) pairs."""
    return [features(fields, specs, context) for fields, context in records]
