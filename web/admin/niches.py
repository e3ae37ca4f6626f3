"""Niches and their fields: list, create, edit. The field editor is a repeated group of
inputs (one fieldset per field); every problem is shown next to the input or row it concerns.

Values are checked by the API's own input schemas (one set of rules for both doors), then
by the niche service."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from api.schemas.niches import NicheIn, NicheSettings
from errors import Conflict, InvalidInput
from exchange.models import RETURN_REASONS, FieldType, Niche, Role
from exchange.models.niches import NICHE_DEFAULTS
from exchange.niches import create_niche, get_niche, list_niches, update_niche
from extensions import db
from web.admin import bp
from web.admin.inputs import schema_errors
from web.guard import current_org, portal

NUMBERS = (
    "return_window_hours",
    "duplicate_window_days",
    "accept_score",
    "review_score",
    "consent_max_age_days",
    "max_buyers",
    "return_cap_percent",
    "return_response_hours",
    "flag_return_rate",
)
FIELD_KEYS = ("name", "label", "type", "choices", "minimum", "maximum", "max_length", "description")
MAX_ROWS = 105
BLANK_ROWS = 2
NEW_DEFAULTS = {
    **NICHE_DEFAULTS,
    "return_cap_percent": 15,
    "return_response_hours": 48,
    "flag_return_rate": 25,
}


@bp.get("/niches")
@portal(Role.ADMIN)
def niches() -> str:
    """Every niche with its settings at a glance, newest first."""
    page = list_niches(db.session, limit=50, cursor=request.args.get("cursor") or None)
    return render_template("admin/niches.html", page=page)


def _values_of(niche: Niche | None) -> dict[str, Any]:
    """The form's values for a niche (or a new one's defaults), as the inputs show them."""
    source: Any = niche if niche is not None else None
    values = {k: getattr(source, k) if source else NEW_DEFAULTS.get(k, "") for k in NUMBERS}
    for key in ("name", "description", "currency", "consent_required", "is_active"):
        values[key] = getattr(source, key) if source else NEW_DEFAULTS.get(key, "")
    values["slug"] = niche.slug if niche else ""
    reasons = (niche.return_reasons if niche else None) or list(RETURN_REASONS)
    values["return_reasons"] = list(reasons)
    rows = []
    for f in niche.fields if niche else []:
        rows.append(
            {
                "name": f.name,
                "label": f.label,
                "type": f.type.value,
                "required": f.required,
                "choices": ", ".join(f.choices or []),
                "minimum": "" if f.minimum is None else f"{f.minimum:g}",
                "maximum": "" if f.maximum is None else f"{f.maximum:g}",
                "max_length": "" if f.max_length is None else str(f.max_length),
                "description": f.description,
            }
        )
    values["rows"] = rows + [_blank_row() for _ in range(BLANK_ROWS)]
    return values


def _blank_row() -> dict[str, Any]:
    return {**dict.fromkeys(FIELD_KEYS, ""), "type": "text", "required": False}


def _typed(form: MultiDict[str, str]) -> dict[str, Any]:
    """The values as typed, to show again when the form comes back with errors."""
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in (*NUMBERS, "name", "currency")}
    values["slug"] = form.get("slug", "").strip()
    values["description"] = form.get("description", "")
    values["consent_required"] = "consent_required" in form
    values["is_active"] = "is_active" in form
    values["return_reasons"] = form.getlist("return_reasons")
    rows = []
    for i in range(_row_count(form)):
        row = {k: form.get(f"field-{i}-{k}", "").strip() for k in FIELD_KEYS}
        row["required"] = f"field-{i}-required" in form
        row["remove"] = f"field-{i}-remove" in form
        rows.append(row)
    values["rows"] = rows
    return values


def _row_count(form: MultiDict[str, str]) -> int:
    raw = form.get("field_rows", "0")
    return min(int(raw), MAX_ROWS) if raw.isdigit() else 0


def _body(values: dict[str, Any], errors: dict[str, list[str]]) -> tuple[dict[str, Any], list[int]]:
    """The service's data from the typed values, and which form row each field spec came from."""
    data: dict[str, Any] = {"description": values["description"]}
    for key in (*NUMBERS, "name", "currency"):
        if values[key] == "":
            errors.setdefault(key, []).append("Required.")
        else:
            data[key] = values[key]
    data["consent_required"] = values["consent_required"]
    data["is_active"] = values["is_active"]
    reasons = values["return_reasons"]
    data["return_reasons"] = None if set(reasons) == set(RETURN_REASONS) else reasons
    if not reasons:
        errors.setdefault("return_reasons", []).append("Tick at least one reason.")
        data.pop("return_reasons")
    specs, rows = [], []
    for i, row in enumerate(values["rows"]):
        if row["remove"] or not any(row[k] for k in FIELD_KEYS if k != "type"):
            continue
        spec: dict[str, Any] = {
            "name": row["name"],
            "type": row["type"],
            "required": row["required"],
        }
        for key in ("label", "description"):
            if row[key]:
                spec[key] = row[key]
        if row["choices"]:
            spec["choices"] = [c.strip() for c in row["choices"].split(",") if c.strip()]
        for key in ("minimum", "maximum", "max_length"):
            if row[key]:
                spec[key] = row[key]
        specs.append(spec)
        rows.append(i)
    data["fields"] = specs
    return data, rows


def _service_errors(exc: InvalidInput | Conflict, rows: list[int]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {"_form": [exc.message]}
    for name, messages in (exc.fields or {}).items():
        if name == "fields" and isinstance(messages, dict):
            for index, problems in messages.items():
                row = rows[int(index)] if str(index).isdigit() and int(index) < len(rows) else 0
                errors.setdefault(f"field-{row}", []).extend(problems)
        else:
            errors.setdefault(name, []).extend(messages)
    if exc.code == "slug_taken":
        errors.setdefault("slug", []).append("Taken: choose another slug.")
    return errors


def _schema_errors(error: ValidationError, rows: list[int]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, messages in schema_errors(error).items():
        parts = name.split("-")
        if parts[0] == "fields" and len(parts) >= 2 and parts[1].isdigit():
            row = rows[int(parts[1])] if int(parts[1]) < len(rows) else 0
            name = "-".join(["field", str(row), *parts[2:]])
        errors.setdefault(name, []).extend(messages)
    return errors


def _save(schema: Schema, slug: str | None) -> Response | tuple[str, int]:
    values = _typed(request.form)
    errors: dict[str, list[str]] = {}
    status = 422
    data, rows = _body(values, errors)
    if slug is None:
        data["slug"] = values["slug"]
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        errors.update(_schema_errors(exc, rows))
        loaded = None
    if loaded is not None and not errors:
        try:
            if slug is None:
                niche = create_niche(db.session, current_org(), loaded)
            else:
                niche = update_niche(db.session, current_org(), slug, loaded)
        except (InvalidInput, Conflict) as exc:
            db.session.rollback()
            errors = _service_errors(exc, rows)
            status = 409 if isinstance(exc, Conflict) else 422
        else:
            saved = niche.slug
            db.session.commit()
            flash(f"Niche {saved} saved with {len(rows)} field(s).", "success")
            return redirect(url_for("admin_portal.edit_niche", slug=saved))
    errors.setdefault("_form", ["Some values are not valid; see the messages by each one."])
    values["rows"] = [*values["rows"], _blank_row()]
    return _form(values, errors, slug), status


def _form(values: dict[str, Any], errors: dict[str, list[str]], slug: str | None) -> str:
    return render_template(
        "admin/niche_form.html",
        values=values,
        errors=errors,
        slug=slug,
        types=[(t.value, t.value) for t in FieldType],
        reasons=RETURN_REASONS,
    )


@bp.route("/niches/new", methods=["GET", "POST"])
@portal(Role.ADMIN)
def new_niche() -> Response | str | tuple[str, int]:
    """Define a niche: its settings and its typed fields."""
    if request.method == "POST":
        return _save(NicheIn(), None)
    return _form(_values_of(None), {}, None)


@bp.route("/niches/<slug>", methods=["GET", "POST"])
@portal(Role.ADMIN)
def edit_niche(slug: str) -> Response | str | tuple[str, int]:
    """Change a niche's settings and fields (fields keep their identity by name)."""
    niche = get_niche(db.session, slug)
    if request.method == "POST":
        return _save(NicheSettings(), niche.slug)
    return _form(_values_of(niche), {}, niche.slug)
