"""Admin pages for subscribers under /admin/subscribers: list, detail with history, import, export.

Destructive actions (unsubscribe, block, erase) act only on a POST carrying
`confirmed=yes`. The detail page's script asks with confirm() and adds it; without
a script, the first POST changes nothing and answers a page that asks, with a
required checkbox.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from newsletter.db import get_session
from newsletter.models import Role, Subscriber, SubscriberStatus
from newsletter.subscribers import exporter, history, manage, queries
from newsletter.subscribers.categories import all_categories
from newsletter.subscribers.erase import erase as erase_subscriber
from newsletter.subscribers.errors import SubscriberError, SubscriberNotFound
from newsletter.subscribers.importer import import_csv
from newsletter.subscribers.suppression import get_suppression

from ..roles import role_required

bp = Blueprint("admin_subscribers", __name__, url_prefix="/admin/subscribers")

PAGE_SIZE = 50

# What each destructive action does, in the words the confirmation page uses.
DESTRUCTIVE: dict[str, dict[str, str]] = {
    "unsubscribed": {
        "title": "Unsubscribe from everything",
        "warning": "{email} will get no more email. Only they can come back, by signing up "
        "and confirming again.",
    },
    "blocked": {
        "title": "Block",
        "warning": "{email} will never be mailed again and cannot sign up again. "
        "Only an admin can undo this.",
    },
    "erase": {
        "title": "Erase personal data (GDPR)",
        "warning": "Everything we hold about {email} is deleted: name, choices and history. "
        "Only a hash of the address stays, so they are never mailed again. This cannot be undone.",
    },
}


@bp.get("/")
@role_required(Role.ADMIN)
def index() -> tuple[str, int] | str:
    """GET /admin/subscribers/: subscribers newest first, PAGE_SIZE a page (`?cursor=`),
    filtered by `?q=` (part of the address or name), `?status=` and `?category=`, with
    the count per status.

    Renders web/subscribers/admin_list.html; 200, or 422 with the message (and no rows) for an
    unknown status or category or a bad cursor; 302 to the login page when logged out, 403 for a
    non-admin.
    """
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


@bp.get("/import")
@role_required(Role.ADMIN)
def import_page() -> str:
    """GET /admin/subscribers/import: the CSV import form. Renders
    web/subscribers/admin_import.html; 200; 302 to the login page when logged out, 403 for a
    non-admin.
    """
    return render_template(
        "web/subscribers/admin_import.html",
        report=None,
        error=None,
        categories=all_categories(get_session()),
    )


@bp.post("/import")
@role_required(Role.ADMIN)
def upload() -> tuple[str, int] | str:
    """POST /admin/subscribers/import (multipart: `file`, `confirmed`, `categories`): import a
    CSV (subscribers.importer.import_csv; `confirmed=on` makes new addresses active).

    200 with the import report on the form page; 422 with the message when the file as a whole
    cannot be imported or a category is unknown; 302 back to the form (with a message) when no file
    was chosen; 400 without a valid CSRF token; 302 to the login page when logged out, 403 for a
    non-admin.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file to import.", "error")
        return redirect(url_for(".import_page"))  # type: ignore[return-value]
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
            "web/subscribers/admin_import.html",
            report=None,
            error=str(exc),
            categories=all_categories(session),
        ), 422
    return render_template(
        "web/subscribers/admin_import.html",
        report=report,
        error=None,
        categories=all_categories(session),
    )


@bp.get("/export.<fmt>")
@role_required(Role.ADMIN)
def export(fmt: str) -> Response:
    """GET /admin/subscribers/export.<fmt>: every subscriber as an attachment, `csv` or
    `json`; `?excel=1` (or on, yes): CSV with a UTF-8 byte order mark, for Excel.

    200, streamed; 404 for another format; 302 to the login page when logged out, 403 for a
    non-admin.
    """
    if fmt not in ("csv", "json"):
        abort(404)
    session = get_session()
    excel = fmt == "csv" and request.args.get("excel") in ("1", "on", "yes")
    chunks = (
        exporter.export_csv(session, excel=excel) if fmt == "csv" else exporter.export_json(session)
    )
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    response = Response(chunks, mimetype=mimetype)
    filename = "subscribers-excel.csv" if excel else f"subscribers.{fmt}"
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


@bp.get("/<int:subscriber_id>")
@role_required(Role.ADMIN)
def detail(subscriber_id: int) -> str:
    """GET /admin/subscribers/<subscriber_id>: one subscriber with their history (events and
    deliveries), any suppression, and the status, erase and export actions.

    Renders web/subscribers/admin_detail.html; 200; 404 no such subscriber; 302 to the login page
    when logged out, 403 for a non-admin.
    """
    session = get_session()
    subscriber = queries.get_subscriber(session, subscriber_id)
    if subscriber is None:
        abort(404)
    return render_template(
        "web/subscribers/admin_detail.html",
        subscriber=subscriber,
        history=history.subscriber_history(session, subscriber_id=subscriber_id),
        suppression=get_suppression(session, subscriber.email),
        destructive=DESTRUCTIVE,
    )


@bp.get("/<int:subscriber_id>/export")
@role_required(Role.ADMIN)
def personal_data(subscriber_id: int) -> Response:
    """GET /admin/subscribers/<subscriber_id>/export: the GDPR export (Art. 15) as the JSON
    attachment subscriber-ID.json, not cached; the same data as the API's export.

    200; 404 no such subscriber; 302 to the login page when logged out, 403 for a non-admin.
    """
    try:
        data = exporter.personal_data(get_session(), subscriber_id=subscriber_id)
    except SubscriberNotFound:
        abort(404)
    response = Response(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", mimetype="application/json"
    )
    response.headers["Content-Disposition"] = (
        f"attachment; filename=subscriber-{subscriber_id}.json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _ask_first(subscriber_id: int, action: str, **hidden: str) -> tuple[str, int] | None:
    """The confirmation page when a destructive POST lacks `confirmed=yes`, else None."""
    if request.form.get("confirmed") == "yes":
        return None
    subscriber = get_session().get(Subscriber, subscriber_id)
    if subscriber is None:
        abort(404)
    return render_template(
        "web/subscribers/admin_confirm.html",
        subscriber=subscriber,
        action=DESTRUCTIVE[action],
        target=url_for(
            ".erase" if action == "erase" else ".change_status", subscriber_id=subscriber_id
        ),
        hidden=hidden,
    ), 200


@bp.post("/<int:subscriber_id>/status")
@role_required(Role.ADMIN)
def change_status(subscriber_id: int) -> BaseResponse | tuple[str, int]:
    """POST /admin/subscribers/<subscriber_id>/status (`status`: active, unsubscribed or
    blocked): change the status where the lifecycle allows (manage.update_subscriber).

    Unsubscribe and block need `confirmed=yes`: without it, 200 with a page that asks. Then 302 to
    the detail page, with "Status changed" or the reason it was refused (an unknown status, a move
    the lifecycle refuses); 404 no such subscriber; 400 without a valid CSRF token; 302 to the login
    page when logged out, 403 for a non-admin.
    """
    session = get_session()
    wanted = request.form.get("status", "")
    if wanted in DESTRUCTIVE and (page := _ask_first(subscriber_id, wanted, status=wanted)):
        return page
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
def erase(subscriber_id: int) -> BaseResponse | tuple[str, int]:
    """POST /admin/subscribers/<subscriber_id>/erase: erase (GDPR) the subscriber's personal
    data, keeping a hashed suppression; needs `confirmed=yes` (without it, 200 with a
    page that asks).

    302 to the subscriber list; 404 no such subscriber; 400 without a valid CSRF token; 302 to the
    login page when logged out, 403 for a non-admin.
    """
    if page := _ask_first(subscriber_id, "erase"):
        return page
    try:
        erase_subscriber(get_session(), subscriber_id=subscriber_id)
    except SubscriberNotFound:
        abort(404)
    flash("Personal data erased; the address stays on the suppression list.", "info")
    return redirect(url_for(".index"))
