"""Niches: defining them, editing them, reading them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.audit import record_event
from exchange.errors import Conflict, InvalidInput, NotFound
from exchange.models import FieldType, Niche, NicheField, Organization
from exchange.models.niches import NICHE_DEFAULTS
from exchange.niche_fields import FIELD_NAME
from exchange.pagination import Page, paginate
from exchange.regions import validate_currency

NICHE_SETTINGS = (
    "name",
    "description",
    "currency",
    "return_window_hours",
    "duplicate_window_days",
    "accept_score",
    "review_score",
    "consent_required",
    "consent_max_age_days",
    "max_buyers",
    "return_reasons",
    "return_cap_percent",
    "return_response_hours",
    "flag_return_rate",
    "is_active",
)


def _field_errors(spec: dict[str, Any]) -> list[str]:
    errors = []
    if not FIELD_NAME.match(spec.get("name", "")):
        errors.append("name: lower-case letters, digits and underscores, starting with a letter.")
    ftype = spec.get("type")
    choices = spec.get("choices")
    if ftype == FieldType.ENUM:
        if not choices or not all(isinstance(c, str) and c for c in choices):
            errors.append("choices: an enum field needs a list of non-empty strings.")
        elif len(set(choices)) != len(choices):
            errors.append("choices: values must be unique.")
    elif choices:
        errors.append("choices: only enum fields have choices.")
    lo, hi = spec.get("minimum"), spec.get("maximum")
    if (lo is not None or hi is not None) and ftype != FieldType.NUMBER:
        errors.append("minimum/maximum: only number fields have bounds.")
    if lo is not None and hi is not None and lo > hi:
        errors.append("minimum: must not exceed maximum.")
    if spec.get("max_length") is not None and ftype != FieldType.TEXT:
        errors.append("max_length: only text fields have a maximum length.")
    return errors


def _apply_fields(niche: Niche, specs: list[dict[str, Any]]) -> None:
    """Make the niche's field list equal `specs`, editing fields of the same name in place."""
    errors: dict[str, list[str]] = {}
    names = [s.get("name", "") for s in specs]
    for i, spec in enumerate(specs):
        problems = _field_errors(spec)
        if names.count(spec.get("name", "")) > 1:
            problems.append("name: appears more than once.")
        if problems:
            errors[str(i)] = problems
    if errors:
        raise InvalidInput("The field definitions are not valid.", fields={"fields": errors})
    existing = {f.name: f for f in niche.fields}
    kept = []
    for position, spec in enumerate(specs):
        field = existing.get(spec["name"]) or NicheField(name=spec["name"])
        field.label = spec.get("label") or spec["name"].replace("_", " ").capitalize()
        field.type = FieldType(spec["type"])
        field.required = bool(spec.get("required", False))
        field.choices = list(spec["choices"]) if spec.get("choices") else None
        field.minimum = spec.get("minimum")
        field.maximum = spec.get("maximum")
        field.max_length = spec.get("max_length")
        field.description = spec.get("description") or ""
        field.position = position
        kept.append(field)
    niche.fields = kept


def _apply_settings(niche: Niche, data: dict[str, Any]) -> None:
    for key in NICHE_SETTINGS:
        if key in data:
            setattr(niche, key, data[key])
    if "currency" in data:
        niche.currency = validate_currency(data["currency"])
    if not 0 <= niche.review_score <= niche.accept_score <= 100:
        raise InvalidInput(
            "Thresholds must satisfy 0 <= review_score <= accept_score <= 100.",
            fields={"review_score": ["Must not exceed accept_score."]},
        )


def create_niche(session: Session, actor: Organization | None, data: dict[str, Any]) -> Niche:
    """Define a new niche with its fields; the slug is unique."""
    slug = data["slug"]
    if session.scalar(select(Niche.id).where(Niche.slug == slug)):
        raise Conflict(f"A niche with slug {slug!r} already exists.", code="slug_taken")
    niche = Niche(slug=slug, fields=[], **NICHE_DEFAULTS)
    _apply_settings(niche, data)
    _apply_fields(niche, data.get("fields", []))
    session.add(niche)
    session.flush()
    record_event(
        session,
        "niche.created",
        organization=actor,
        actor=actor,
        target_type="niche",
        target_id=niche.slug,
        data={"fields": len(niche.fields)},
    )
    return niche


def update_niche(
    session: Session, actor: Organization | None, slug: str, data: dict[str, Any]
) -> Niche:
    """Change a niche's settings; a `fields` list replaces its field definitions."""
    niche = get_niche(session, slug)
    _apply_settings(niche, data)
    if "fields" in data:
        _apply_fields(niche, data["fields"])
    session.flush()
    record_event(
        session,
        "niche.updated",
        organization=actor,
        actor=actor,
        target_type="niche",
        target_id=niche.slug,
        data={"changed": sorted(data)},
    )
    return niche


def get_niche(session: Session, slug: str) -> Niche:
    """The niche with this slug, or NotFound."""
    niche = session.scalar(select(Niche).where(Niche.slug == slug))
    if niche is None:
        raise NotFound(f"No niche {slug!r}.", code="unknown_niche")
    return niche


def niche_id_for_filter(session: Session, slug: str) -> int:
    """The id of the niche a list is filtered by, or InvalidInput naming the `niche` filter."""
    niche_id = session.scalar(select(Niche.id).where(Niche.slug == slug))
    if niche_id is None:
        raise InvalidInput(f"Unknown niche {slug!r}.", fields={"niche": ["No such niche."]})
    return niche_id


def list_niches(session: Session, *, limit: int, cursor: str | None = None) -> Page[Niche]:
    """All niches, newest first, one page at a time."""
    return paginate(session, select(Niche), Niche.id, limit=limit, cursor=cursor)
