"""Getting an issue out: test send, schedule, unschedule, cancel, send/pause/resume, progress."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from newsletter import current_settings, get_sender
from newsletter.compose import (
    ComposeError,
    InvalidTransition,
    cancel_issue,
    schedule_issue,
    send_test,
    unschedule_issue,
)
from newsletter.compose.testsend import split_addresses
from newsletter.db import get_session
from newsletter.models import Role

from ..roles import role_required
from .base import bp, conflict_page, issue_or_404
from .forms import ActionForm, ScheduleForm, TestSendForm
from .issues import render_editor


@bp.route("/issues/<int:issue_id>/test", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def test_send(issue_id: int) -> BaseResponse | tuple[str, int]:
    """POST /author/issues/<issue_id>/test (`emails`: one per line or comma-separated): send
    the whole issue, subject prefixed "[Test] ", to up to MAX_TEST_RECIPIENTS addresses.

    302 to the editor with "Test sent to ..."; 422 with the editor and the message for an empty or
    invalid list, a bad address or a refused SMTP hand-off (ComposeError); a GET answers 302 to the
    editor's test form. 404 no such issue; 400 without a valid CSRF token; 302 to the login page
    when logged out (authors and admins only).
    """
    issue = issue_or_404(issue_id)
    if request.method == "GET":
        return redirect(url_for("compose.editor", issue_id=issue_id) + "#test")
    form = TestSendForm()
    if not form.validate_on_submit():
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        return render_editor(issue, error=message, test_form=form, status=422)
    try:
        sent = send_test(
            get_session(),
            issue_id=issue_id,
            emails=split_addresses(form.emails.data or ""),
            sender=get_sender(),
            settings=current_settings(),
        )
    except ComposeError as exc:
        return render_editor(issue, error=str(exc), test_form=form, status=422)
    flash(f"Test sent to {', '.join(sent)}.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


def _send_at_from(form: ScheduleForm) -> datetime:
    """The datetime-local value in the browser's timezone, else the server's."""
    local: datetime | None = form.send_at.data
    assert local is not None
    offset = (form.tz_offset.data or "").strip()
    if offset.lstrip("-").isdigit() and abs(int(offset)) <= 14 * 60:
        # JavaScript's getTimezoneOffset(): minutes to add to local time to get UTC.
        return local.replace(tzinfo=timezone(timedelta(minutes=-int(offset))))
    return local.astimezone()


@bp.post("/issues/<int:issue_id>/schedule")
@role_required(Role.AUTHOR)
def schedule(issue_id: int) -> BaseResponse | tuple[str, int]:
    """POST /author/issues/<issue_id>/schedule (`send_at` local time, `tz_offset` from the
    browser, else the server's timezone): draft -> scheduled.

    302 to the editor; 409 (conflict_page) when it is not a draft; 422 with the editor for a
    missing or past time or an issue with no posts; 404 no such issue; 400 without a valid CSRF
    token; 302 to the login page when logged out (authors and admins only).
    """
    issue = issue_or_404(issue_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return render_editor(issue, error="Give a date and time to send at.", status=422)
    try:
        scheduled = schedule_issue(get_session(), issue_id=issue_id, send_at=_send_at_from(form))
    except InvalidTransition as exc:
        return conflict_page(exc)
    except ComposeError as exc:
        return render_editor(issue, error=str(exc), status=422)
    assert scheduled.send_at is not None
    flash(f"Scheduled for {scheduled.send_at:%Y-%m-%d %H:%M} UTC.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/unschedule")
@role_required(Role.AUTHOR)
def unschedule(issue_id: int) -> BaseResponse | tuple[str, int]:
    """POST /author/issues/<issue_id>/unschedule: scheduled -> draft, editable again.

    302 to the editor; 409 (conflict_page) when it is not scheduled; 400 without a valid
    CSRF token; 404 no such issue; 302 to the login page when logged out (authors and admins only).
    """
    issue_or_404(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        unschedule_issue(get_session(), issue_id=issue_id)
    except InvalidTransition as exc:
        return conflict_page(exc)
    flash("Back to draft: the issue will not be sent until you schedule it again.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/cancel")
@role_required(Role.AUTHOR)
def cancel(issue_id: int) -> BaseResponse | tuple[str, int]:
    """POST /author/issues/<issue_id>/cancel: cancel an issue that has not finished; what
    was sent stays sent.

    302 to the editor; 409 (conflict_page) when it has already finished; 400 without a valid CSRF
    token; 404 no such issue; 302 to the login page when logged out (authors and admins only).
    """
    issue_or_404(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cancel_issue(get_session(), issue_id=issue_id)
    except InvalidTransition as exc:
        return conflict_page(exc)
    flash("Issue cancelled.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


_SEND_ACTIONS = {
    "send": ("send_now", "Sending: progress shows below."),
    "pause": ("pause", "Paused. Resume to carry on where it stopped."),
    "resume": ("resume", "Sending again."),
}


@bp.post("/issues/<int:issue_id>/<any(send, pause, resume):action>")
@role_required(Role.AUTHOR)
def send_action(issue_id: int, action: str) -> BaseResponse | tuple[str, int]:
    """POST /author/issues/<issue_id>/send|pause|resume: start sending now, pause, or resume
    (sends.control).

    302 to the editor; 409 (the error page) when the issue's status does not allow it;
    422 with the editor when it has no posts (ComposeError); 400 without a valid CSRF
    token; 404 no such issue; 302 to the login page when logged out (authors and admins only).
    """
    from newsletter.sends import control

    issue = issue_or_404(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name, message = _SEND_ACTIONS[action]
    try:
        getattr(control, name)(get_session(), issue_id=issue_id)
    except InvalidTransition as exc:
        return render_template(
            "web/error.html", status=409, title="Not possible now", message=str(exc)
        ), 409
    except ComposeError as exc:
        return render_editor(issue, error=str(exc), status=422)
    flash(message, "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


@bp.get("/issues/<int:issue_id>/stats.json")
@role_required(Role.AUTHOR)
def send_stats(issue_id: int) -> Any:
    """GET /author/issues/<issue_id>/stats.json: the progress the editor polls while an
    issue is sending (sends.stats.issue_stats; the same shape as the API).

    200 JSON; 404 no such issue; 302 to the login page when logged out (authors and admins only).
    """
    from newsletter.sends.stats import issue_stats

    issue_or_404(issue_id)
    return issue_stats(get_session(), issue_id)
