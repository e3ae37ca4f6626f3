"""CSV upload of leads: the form, the processing a batch at a time (the page polls), the
per-row report, and an example file per niche."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from api.schemas.leads import LeadIn, LeadOut
from exchange import upload_files as service
from exchange.errors import InvalidInput
from exchange.models import Niche, Role
from exchange.upload_files import create_upload, size_limit
from exchange.uploads import get_upload, list_uploads, process_upload, upload_rows
from extensions import db
from web.forms import field_errors
from web.guard import current_org, portal
from web.publisher import bp
from web.publisher.examples import example_row

_schema, _render = LeadIn(), LeadOut().dump
# A page without JavaScript carries on the upload for this long per request.
NO_SCRIPT_SECONDS = 5.0


def load_row(body: dict[str, Any]) -> dict[str, Any]:
    """A row's body validated as the API validates a posted lead."""
    try:
        return dict(_schema.load(body))
    except ValidationError as exc:
        raise InvalidInput("The row is not a valid lead.", fields=exc.messages_dict) from None


def active_niches() -> list[Niche]:
    return list(db.session.scalars(select(Niche).where(Niche.is_active).order_by(Niche.name)))


@bp.url_value_preprocessor
def _allow_larger_upload(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Runs before the CSRF check reads the form: the upload's own size limit applies (the
    # app-wide one is sized for JSON bodies); a file above it is refused on the form.
    if endpoint == "publisher_portal.upload_create":
        request.max_content_length = service.MAX_BYTES + 64 * 1024


def _form(errors: dict[str, list[str]] | None = None, niche: str = "", status: int = 200) -> Any:
    try:
        page = list_uploads(db.session, current_org(), cursor=request.args.get("cursor"))
    except InvalidInput as exc:
        page = list_uploads(db.session, current_org())
        errors, status = {**field_errors(exc), **(errors or {})}, max(status, 422)
    niches = active_niches()
    return render_template(
        "publisher/upload.html",
        niches=niches,
        niche_options=[("", "Choose a niche…"), *((n.slug, n.name) for n in niches)],
        niche=niche,
        errors=errors or {},
        page=page,
        max_rows=service.MAX_ROWS,
        size_limit=size_limit(),
    ), status


@bp.get("/uploads")
@portal(Role.PUBLISHER)
def uploads() -> Any:
    """The upload form and the publisher's earlier uploads."""
    return _form(niche=request.args.get("niche", ""))


@bp.post("/uploads")
@portal(Role.PUBLISHER)
def upload_create() -> Any:
    niche = request.form.get("niche", "")
    file = request.files.get("file")
    try:
        data = file.read(service.MAX_BYTES + 1) if file else b""
        upload = create_upload(
            db.session, current_org(), niche, (file.filename or "") if file else "", data
        )
    except InvalidInput as exc:
        db.session.rollback()
        return _form(field_errors(exc), niche, 422)
    db.session.commit()
    return redirect(url_for("publisher_portal.upload", upload_id=upload.id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_: RequestEntityTooLarge) -> Any:
    message = f"The file is larger than {size_limit()}; split it."
    if request.endpoint != "publisher_portal.upload_create":
        return render_template("error.html", status=413, message=message), 413
    return _form({"_form": [message], "file": [message]}, status=413)


@bp.get("/uploads/<int:upload_id>")
@portal(Role.PUBLISHER)
def upload(upload_id: int) -> str:
    """An upload's progress while rows remain, then its report: problem rows first."""
    item = get_upload(db.session, current_org(), upload_id)
    show_all = request.args.get("rows") == "all"
    rows = upload_rows(db.session, current_org(), upload_id, problems_only=not show_all)
    niche = db.session.get(Niche, item.niche_id)
    return render_template(
        "publisher/upload_report.html", upload=item, rows=rows, show_all=show_all, niche=niche
    )


def _progress(item: Any) -> dict[str, Any]:
    return {
        "processed": item.processed_rows,
        "total": item.total_rows,
        "done": item.done,
        "report": url_for("publisher_portal.upload", upload_id=item.id),
    }


@bp.post("/uploads/<int:upload_id>/process")
@portal(Role.PUBLISHER)
def upload_process(upload_id: int) -> Response:
    """Submit the next rows: one batch for the page's script (JSON), or for a few seconds
    for a page without script (then back to the progress page)."""
    wants_json = request.accept_mimetypes.best == "application/json"
    deadline = time.monotonic() + (0 if wants_json else NO_SCRIPT_SECONDS)
    while True:
        item = process_upload(db.session, current_org(), upload_id, load=load_row, render=_render)
        db.session.commit()
        if item.done or time.monotonic() >= deadline:
            break
    if wants_json:
        return jsonify(_progress(item))
    if item.done:
        flash(f"{item.filename}: all {item.total_rows:,} rows processed.", "success")
    return redirect(url_for("publisher_portal.upload", upload_id=upload_id))


@bp.get("/uploads/example/<slug>.csv")
@portal(Role.PUBLISHER)
def upload_example(slug: str) -> Response:
    """An example CSV for a niche: the lead columns and the niche's own, with one valid row."""
    niche = None if "\x00" in slug else db.session.scalar(select(Niche).where(Niche.slug == slug))
    if niche is None:
        return Response(f"No niche {slug}.", status=404, mimetype="text/plain")
    row = example_row(niche, csv_style=True)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{niche.slug}-leads.csv"'},
    )
