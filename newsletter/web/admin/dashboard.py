"""The admin's area: subscribers and sends."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from markupsafe import Markup
from sqlalchemy import func, select

from newsletter import current_settings, deliverability
from newsletter.db import get_session
from newsletter.models import Issue, Role, Subscriber
from newsletter.tracking import overview

from ..roles import role_required
from .charts import Series, bar_chart, line_chart

bp = Blueprint("admin", __name__, url_prefix="/admin")
GROWTH_RANGES = (7, 30, 90, 365)  # days the list-growth chart offers


def _growth_days() -> int:
    """`?days=` if it is one of GROWTH_RANGES, else 30 (any other input is ignored)."""
    raw = request.args.get("days", "")
    return int(raw) if raw.isdigit() and int(raw) in GROWTH_RANGES else 30


def _overview_charts(
    growth: list[overview.GrowthDay], categories: overview.CategoryOverview
) -> dict[str, Markup]:
    labels = [d.day.isoformat() for d in growth]
    names = {
        "subscribed": "Subscribed",
        "confirmed": "Confirmed",
        "unsubscribed": "Unsubscribed",
        "bounced": "Bounced",
    }
    items = [(c.name, c.subscribers) for c in categories.categories]
    items.append(("(no choice: every post)", categories.everything))
    return {
        "growth": line_chart(
            chart_id="list-growth",
            title=f"List growth per day, last {len(growth)} days",
            labels=labels,
            series=[
                Series(label, [getattr(d, key) for d in growth]) for key, label in names.items()
            ],
        ),
        "categories": bar_chart(
            chart_id="per-category", title="Active subscribers per category", items=items
        ),
    }


def _dashboard(checked: tuple[object, deliverability.Report] | None) -> str:
    session = get_session()
    by_status = dict(
        session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all()
    )
    issues = session.scalars(select(Issue).order_by(Issue.created_at.desc()).limit(10)).all()
    days = _growth_days()
    growth = overview.list_growth(session, days=days)
    categories = overview.category_counts(session)
    return render_template(
        "web/admin_dashboard.html",
        by_status=by_status,
        issues=issues,
        checked=checked,
        days=days,
        ranges=GROWTH_RANGES,
        growth=growth,
        growth_totals={key: sum(getattr(d, key) for d in growth) for key in overview.GROWTH_SERIES},
        categories=categories,
        charts=_overview_charts(growth, categories),
    )


@bp.get("/")
@role_required(Role.ADMIN)
def dashboard() -> str:
    """GET /admin/: the admin dashboard: subscribers by status, the last 10 issues, list
    growth per day over `?days=` (7, 30, 90 or 365; otherwise 30), active subscribers
    per category, and the last deliverability report this process computed (no DNS here).

    Renders web/admin_dashboard.html; 200; 302 to the login page when logged out, 403 for a
    non-admin.
    """
    # No DNS here: the last report this process computed, if any.
    return _dashboard(deliverability.last_report())


@bp.post("/deliverability")
@role_required(Role.ADMIN)
def deliverability_check() -> str:
    """POST /admin/deliverability: run the deliverability check now (short DNS timeouts)
    and show the dashboard with its report.

    Renders web/admin_dashboard.html; 200; 400 without a valid CSRF token; 302 to the login page
    when logged out, 403 for a non-admin.
    """
    return _dashboard(deliverability.run_for_dashboard(current_settings()))
