"""Admin pages for subscribers under /admin/subscribers: list, detail with history, import, export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from newsletter.db import get_session
from newsletter.models import Event, Role, SubscriberStatus
from newsletter.subscribers import exporter, manage, queries
from newsletter.subscribers.categories import all_categories
from newsletter.subscribers.errors import SubscriberError, SubscriberNotFound
from newsletter.subscribers.importer import import_csv
from newsletter.subscribers.suppression import get_suppression

from .roles import role_required

bp = Blueprint("admin_subscribers", __name__, url_prefix="/admin/subscribers")

PAGE_SIZE = 50


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> tuple[str, int] | str:
    session = get_session()
    filters = {
        "q": request.args.get("q", "").strip()[:320],
        "status": request.args.get("status", ""),
        "category": request.args.get("category", ""),
    }
    error = None
    page = queries.Page(items=[], next=None)
    try:
        page = queries.list_subscribers(
            session,
            cursor=request.args.get("cursor") or None,
            limit=PAGE_SIZE,
            status=queries.parse_status(filters["status"]),
            category=filters["category"] or None,
            search=filters["q"] or None,
            descending=True,  # newest first
        )
    except SubscriberError as exc:
        error = str(exc)
    html = render_template(
        "web/subscribers/admin_list.html",
        page=page,
        filters=filters,
        error=error,
        statuses=list(SubscriberStatus),
        categories=all_categories(session),
        counts=queries.status_counts(session),
    )
    return (html, 422) if error else html


@bp.post("/import")
@role_required(Role.ADMIN)
def upload() -> tuple[str, int] | str:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to import.", "error")
        return redirect(url_for(".index"))  # type: ignore[return-value]
    session = get_session()
    try:
        report = import_csv(
            session,
            upload.stream,
            confirmed=request.form.get("confirmed") == "on",
            categories=request.form.getlist("categories"),
            source="admin-import",
        )
    except SubscriberError as exc:
        return render_template(
            "web/subscribers/admin_import.html", report=None, error=str(exc)
        ), 422
    return render_template("web/subscribers/admin_import.html", report=report, error=None)


@bp.get("/export.<fmt>")
@role_required(Role.ADMIN)
def export(fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        abort(404)
    session = get_session()
    chunks = exporter.export_csv(session) if fmt == "csv" else exporter.export_json(session)
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    response = Response(chunks, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=subscribers.{fmt}"
    return response


@bp.get("/<int:subscriber_id>")
@role_required(Role.ADMIN)
def detail(subscriber_id: int) -> str:
    session = get_session()
    subscriber = queries.get_subscriber(session, subscriber_id)
    if subscriber is None:
        abort(404)
    events = session.scalars(
        select(Event)
        .where(Event.subscriber_id == subscriber_id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "web/subscribers/admin_detail.html",
        subscriber=subscriber,
        events=events,
        suppression=get_suppression(session, subscriber.email),
    )


@bp.post("/<int:subscriber_id>/status")
@role_required(Role.ADMIN)
def change_status(subscriber_id: int) -> BaseResponse:
    session = get_session()
    wanted = request.form.get("status", "")
    try:
        status = queries.parse_status(
            wanted,
            allowed=[
                SubscriberStatus.ACTIVE,
                SubscriberStatus.UNSUBSCRIBED,
                SubscriberStatus.BLOCKED,
            ],
        )
        manage.update_subscriber(session, subscriber_id=subscriber_id, status=status)
    except SubscriberNotFound:
        abort(404)
    except SubscriberError as exc:
        session.rollback()
        flash(str(exc), "error")
    else:
        flash(f"Status changed to {wanted}.", "info")
    return redirect(url_for(".detail", subscriber_id=subscriber_id))


@bp.post("/<int:subscriber_id>/erase")
@role_required(Role.ADMIN)
def erase(subscriber_id: int) -> BaseResponse:
    try:
        exporter.erase(get_session(), subscriber_id=subscriber_id)
    except SubscriberNotFound:
        abort(404)
    flash("Personal data erased; the address stays on the suppression list.", "info")
    return redirect(url_for(".index"))
