"""The ledger check: reconcile the books on demand and show the last recorded result."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from exchange.admin_overview import check_summary, last_book_check, run_book_check
from exchange.models import Role
from exchange.organizations import names_of
from extensions import db
from web.admin import bp
from web.guard import current_org, portal


@bp.get("/ledger")
@portal(Role.ADMIN)
def ledger() -> str:
    """The last ledger check: ok, or every problem it found."""
    check = check_summary(last_book_check(db.session))
    names = names_of(db.session, [check["by"]] if check else [])
    return render_template("admin/ledger.html", check=check, names=names)


@bp.post("/ledger/check")
@portal(Role.ADMIN)
def run_ledger_check() -> Response:
    """Run the check now (the same as `flask billing check`) and record its result."""
    result = run_book_check(db.session, current_org())
    db.session.commit()
    if result.ok:
        flash("The books balance.", "success")
    else:
        flash(f"The check found {len(result.problems)} problem(s).", "error")
    return redirect(url_for("admin_portal.ledger"))
