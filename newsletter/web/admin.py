"""The admin's area: subscribers and sends."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from newsletter import current_settings, deliverability
from newsletter.db import get_session
from newsletter.models import Issue, Role, Subscriber

from .roles import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _dashboard(checked: tuple[object, deliverability.Report] | None) -> str:
    session = get_session()
    by_status = dict(
        session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all()
    )
    issues = session.scalars(select(Issue).order_by(Issue.created_at.desc()).limit(10)).all()
    return render_template(
        "web/admin_dashboard.html", by_status=by_status, issues=issues, checked=checked
    )


@bp.get("/")
@role_required(Role.ADMIN)
def dashboard() -> str:
    # No DNS here: the last report this process computed, if any.
    return _dashboard(deliverability.last_report())


@bp.post("/deliverability")
@role_required(Role.ADMIN)
def deliverability_check() -> str:
    """Run the deliverability check now (short DNS timeouts) and show the dashboard with it."""
    return _dashboard(deliverability.run_for_dashboard(current_settings()))
