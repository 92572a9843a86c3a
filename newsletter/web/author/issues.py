"""The author's issues under /author/issues: the list, a new draft, the editor, save and autosave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from newsletter import current_settings
from newsletter.compose import (
    ComposeError,
    InvalidTransition,
    ItemSpec,
    add_posts,
    create_issue,
    get_issue,
    last_sent_at,
    list_issues,
    list_posts,
    move_item,
    remove_item,
    render_preview,
    update_issue,
)
from newsletter.compose.issues import MAX_ITEMS, undated_post_count
from newsletter.db import get_session
from newsletter.models import IssueStatus, ItemMode, Post, Role, Subscriber
from newsletter.models.base import MAX_ID

from ..roles import role_required
from .base import bp, category_list, conflict_page, int_list, issue_or_404
from .forms import ActionForm, IssueForm, NewIssueForm, ScheduleForm, TestSendForm


@bp.get("/issues")
@role_required(Role.AUTHOR)
def issues() -> str | tuple[str, int]:
    """GET /author/issues: the issues, newest first, a page at a time (`?cursor=`).

    Renders web/compose/issues.html; 200; 422 (the error page) for a bad cursor; 302 to the login
    page when logged out (authors and admins only).
    """
    try:
        page = list_issues(get_session(), cursor=request.args.get("cursor") or None)
    except ComposeError as exc:
        return render_template(
            "web/error.html", status=422, title="Bad page", message=str(exc)
        ), 422
    return render_template("web/compose/issues.html", page=page)


@bp.route("/issues/new", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def new_issue() -> BaseResponse | str | tuple[str, int]:
    """GET, POST /author/issues/new: a new draft, from the posts chosen (`post`) or from
    everything since a date (`since`, optionally limited to `category` values).

    GET renders web/compose/new_issue.html (`since` prefilled with the last send's date, `?post=`
    preselects posts); 200. POST creates the draft and answers 302 to its editor, or 422 with the
    form and the message for an invalid form or a selection the service refuses (ComposeError); 400
    without a valid CSRF token; 302 to the login page when logged out (authors and admins only).
    """
    session = get_session()
    form = NewIssueForm()
    chosen = int_list(request.values.getlist("post"))
    chosen_categories = [c for c in request.values.getlist("category") if c.strip()]
    error = None
    if form.validate_on_submit():
        try:
            if form.source.data == "since":
                issue = create_issue(
                    session,
                    subject=form.subject.data or "",
                    since=form.since.data,
                    categories=chosen_categories or None,
                )
            else:
                issue = create_issue(session, subject=form.subject.data or "", post_ids=chosen)
        except ComposeError as exc:
            error = str(exc)
        else:
            flash("Draft created. Every change is saved as you type.", "info")
            return redirect(url_for("compose.editor", issue_id=issue.id))
    elif request.method == "POST":
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    elif chosen:
        form.source.data = "posts"
    last = last_sent_at(session)
    if request.method == "GET" and form.since.data is None and last is not None:
        form.since.data = last.date()
    recent = list_posts(session, limit=100).items
    chosen_posts = list(session.scalars(select(Post).where(Post.id.in_(chosen))))
    known = {p.id for p in recent}
    recent = [p for p in chosen_posts if p.id not in known] + recent
    return render_template(
        "web/compose/new_issue.html",
        form=form,
        posts=recent,
        chosen=set(chosen),
        categories=category_list(),
        chosen_categories=set(chosen_categories),
        last_sent=last,
        undated=undated_post_count(session),
        error=error,
    ), (422 if error else 200)


def render_editor(issue: Any, *, form: IssueForm | None = None, error: str | None = None,
                   test_form: TestSendForm | None = None, status: int = 200) -> tuple[str, int]:  # fmt: skip
    """The editor page for `issue` as (html, `status`): web/compose/editor.html with the
    issue's form (from the issue unless `form` is given), the rendered preview and its
    problems (for everyone, or as `?as=EMAIL`), up to 50 recent posts not in it, and the
    test-send, schedule and action forms; `error` is shown above the form.

    Raises IssueNotFound when the issue is gone.
    """
    session = get_session()
    subscriber = _preview_subscriber()
    preview_args: dict[str, Any] = {"issue_id": issue.id}
    if subscriber is not None:
        preview_args["subscriber"] = subscriber.id
    preview = render_preview(
        session,
        issue_id=issue.id,
        settings=current_settings(),
        subscriber_id=subscriber.id if subscriber else None,
        check=True,
    )
    issue = get_issue(session, issue.id, with_posts=True)
    if form is None:
        form = IssueForm(obj=issue, formdata=None)
    in_issue = {item.post_id for item in issue.items}
    addable = [p for p in list_posts(session, limit=50).items if p.id not in in_issue]
    schedule_form = ScheduleForm(formdata=None)
    schedule_form.send_at.data = (datetime.now() + timedelta(days=1)).replace(
        minute=0, second=0, microsecond=0
    )
    return render_template(
        "web/compose/editor.html",
        issue=issue,
        form=form,
        editable=issue.status == IssueStatus.DRAFT,
        preview=preview,
        preview_args=preview_args,
        subscriber=subscriber,
        addable=addable,
        test_form=test_form or TestSendForm(formdata=None),
        schedule_form=schedule_form,
        action_form=ActionForm(formdata=None),
        error=error,
        max_items=MAX_ITEMS,
        modes=[m.value for m in ItemMode],
    ), status


@bp.get("/issues/<int:issue_id>")
@role_required(Role.AUTHOR)
def editor(issue_id: int) -> tuple[str, int]:
    """GET /author/issues/<issue_id>: the editor (render_editor); `?as=EMAIL` previews as
    that subscriber (a message, and the preview for everyone, if there is none).

    200; 404 no such issue; 302 to the login page when logged out (authors and admins only).
    """
    return render_editor(issue_or_404(issue_id))


def _items_from_form(issue: Any) -> list[ItemSpec] | None:
    """Order (hidden `order` inputs, possibly rearranged by drag) and per-post modes."""
    order = int_list(request.form.getlist("order"))
    if not order:
        return None
    specs = []
    for post_id in order:
        mode = request.form.get(f"mode-{post_id}", ItemMode.FULL.value)
        try:
            specs.append(ItemSpec(post_id, ItemMode(mode)))
        except ValueError:
            raise ComposeError(f"mode must be full or excerpt, not {mode!r}") from None
    current = {item.post_id for item in issue.items}
    if set(order) != current:
        # The page is out of date (another tab changed the posts): keep the stored set.
        return None
    return specs


def _save_from_form(issue: Any, form: IssueForm) -> None:
    update_issue(
        get_session(),
        issue_id=issue.id,
        subject=form.subject.data or "",
        preheader=form.preheader.data or "",
        intro=form.intro.data or "",
        outro=form.outro.data or "",
        tracking=bool(form.tracking.data),
        items=_items_from_form(issue),
    )


@bp.post("/issues/<int:issue_id>")
@role_required(Role.AUTHOR)
def save(issue_id: int) -> BaseResponse | tuple[str, int]:
    """POST /author/issues/<issue_id>: save everything, then do what the pressed button
    (`action`) asks: save, up:ID, down:ID, remove:ID or add (the `add` post ids).

    302 to the editor (at #items after a move, removal or addition; `?as=` kept); 409
    (conflict_page) when the issue is no longer a draft; 422 with the editor and the message for an
    invalid form or input the service refuses (ComposeError); 404 no such issue; 400 without a valid
    CSRF token; 302 to the login page when logged out (authors and admins only).
    """
    issue = issue_or_404(issue_id)
    form = IssueForm()
    if not form.validate_on_submit():
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        return render_editor(issue, form=form, error=message, status=422)
    action = request.form.get("action", "save")
    verb, _, arg = action.partition(":")
    session = get_session()
    try:
        _save_from_form(issue, form)
        post_id = int(arg) if arg.isdigit() and int(arg) <= MAX_ID else 0
        if verb in ("up", "down"):
            move_item(session, issue_id=issue_id, post_id=post_id, offset=-1 if verb == "up" else 1)
        elif verb == "remove":
            remove_item(session, issue_id=issue_id, post_id=post_id)
        elif verb == "add":
            add_posts(session, issue_id=issue_id, post_ids=int_list(request.form.getlist("add")))
    except InvalidTransition as exc:
        return conflict_page(exc)
    except ComposeError as exc:
        return render_editor(issue, form=form, error=str(exc), status=422)
    if verb == "save":
        flash("Saved.", "info")
    anchor = "#items" if verb != "save" else ""
    values: dict[str, Any] = {"issue_id": issue_id}
    if request.args.get("as"):
        values["as"] = request.args["as"]  # keep previewing as the same subscriber
    return redirect(url_for("compose.editor", **values) + anchor)


@bp.post("/issues/<int:issue_id>/autosave")
@role_required(Role.AUTHOR)
def autosave(issue_id: int) -> Response | tuple[Response, int]:
    """POST /author/issues/<issue_id>/autosave: the editor's fetch() autosave, the same
    fields as the form.

    200 `{"saved": true, "saved_at": ISO 8601}`; JSON errors 422 `validation_error` (an invalid form
    or input the service refuses) and 409 `conflict` (no longer a draft); 404 no such issue; 400
    without a valid CSRF token; 302 to the login page when logged out (authors and admins only).
    """
    issue = issue_or_404(issue_id)
    form = IssueForm()
    if not form.validate_on_submit():
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        return _json_error(422, "validation_error", message)
    try:
        _save_from_form(issue, form)
    except InvalidTransition as exc:
        return _json_error(409, "conflict", f"{exc}. Reload the page.")
    except ComposeError as exc:
        return _json_error(422, "validation_error", str(exc))
    return jsonify({"saved": True, "saved_at": datetime.now(UTC).isoformat()})


def _json_error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message}}), status


def _preview_subscriber() -> Subscriber | None:
    """`?as=EMAIL` on the editor: preview as that subscriber."""
    wanted = (request.args.get("as") or "").strip().lower()
    if not wanted:
        return None
    subscriber = get_session().scalars(select(Subscriber).where(Subscriber.email == wanted)).first()
    if subscriber is None:
        flash(f"No subscriber with the address {wanted}; showing the issue for everyone.", "error")
    return subscriber
