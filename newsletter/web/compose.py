"""The author's composer under /author/: posts, import, issues, editor, preview, test send.

Every page works without JavaScript: the editor is one form whose buttons (save,
up, down, remove, add) each save everything first. compose.js only adds drag to
reorder, autosave and live preview refresh on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from newsletter import current_settings, get_sender
from newsletter.compose import (
    ComposeError,
    InvalidTransition,
    IssueNotFound,
    ItemSpec,
    SubscriberNotFound,
    add_posts,
    cancel_issue,
    create_issue,
    get_issue,
    last_sent_at,
    list_issues,
    list_posts,
    move_item,
    remove_item,
    render_preview,
    schedule_issue,
    send_test,
    unschedule_issue,
    update_issue,
)
from newsletter.compose.issues import MAX_ITEMS, undated_post_count
from newsletter.compose.posts import most_specific, set_post_date
from newsletter.compose.testsend import MAX_TEST_RECIPIENTS, split_addresses
from newsletter.config import Settings
from newsletter.db import get_session
from newsletter.models import Category, IssueStatus, ItemMode, Post, Role, Subscriber
from newsletter.models.base import MAX_ID
from newsletter.posts import PostImportError, import_posts
from newsletter.posts.sources import FORMATS

from .roles import role_required

bp = Blueprint("compose", __name__, url_prefix="/author")
# `post.categories | most_specific`: "AI: Large Language Models · China", not "AI · AI: ...".
bp.add_app_template_filter(most_specific, "most_specific")
UPLOAD_LIMIT = 20_000_000


# --- forms -------------------------------------------------------------------------------


class ImportForm(FlaskForm):
    file = FileField("File (RSS/Atom feed, WordPress export, Markdown or plain text)")
    url = URLField("…or a URL", validators=[Optional(), Length(max=2000)])
    content = TextAreaField("…or paste the text", validators=[Optional()])
    base_url = URLField(
        "Published at (for relative links; optional)", validators=[Optional(), Length(max=2000)]
    )
    format = SelectField(
        "Format",
        choices=[SelectChoice("", "Detect automatically"), *[SelectChoice(f, f) for f in FORMATS]],
        default="",
    )


class NewIssueForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    source = RadioField(
        "Posts",
        choices=[
            SelectChoice("posts", "The posts I choose"),
            SelectChoice("since", "Everything since a date"),
        ],
        default="posts",
    )
    since = DateField("Since", validators=[Optional()])


class IssueForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    preheader = StringField("Preheader (inbox preview text)", validators=[Length(max=300)])
    intro = TextAreaField("Intro (Markdown)", validators=[Length(max=100_000)])
    outro = TextAreaField("Outro (Markdown)", validators=[Length(max=100_000)])
    tracking = BooleanField("Track opens and clicks")


class TestSendForm(FlaskForm):
    emails = TextAreaField(
        f"Send a test to (up to {MAX_TEST_RECIPIENTS} addresses, one per line or comma-separated)",
        validators=[DataRequired(), Length(max=2000)],
    )


class ScheduleForm(FlaskForm):
    send_at = DateTimeLocalField("Send at", format="%Y-%m-%dT%H:%M", validators=[DataRequired()])
    # Filled by compose.js with the browser's offset; without it, the server's timezone applies.
    tz_offset = HiddenField()


class PostDateForm(FlaskForm):
    # Empty clears the date ("no date": never picked by "everything since a date").
    # In the server's timezone, as `--since` and "Everything since a date" are.
    published_at = DateTimeLocalField("Published", format="%Y-%m-%dT%H:%M", validators=[Optional()])


class ActionForm(FlaskForm):
    """Only a CSRF token: for one-button forms (cancel, back to draft)."""


# --- helpers -----------------------------------------------------------------------------


def _settings() -> Settings:
    return current_settings()


def _issue_or_404(issue_id: int, *, with_posts: bool = False) -> Any:
    if not 0 < issue_id <= MAX_ID:
        abort(404)
    try:
        return get_issue(get_session(), issue_id, with_posts=with_posts)
    except IssueNotFound:
        abort(404)


def _int_list(values: Sequence[str]) -> list[int]:
    out = []
    for value in values:
        if value.strip().isdigit() and 0 < int(value) <= MAX_ID:
            out.append(int(value))
    return out


def _categories() -> list[Category]:
    return list(get_session().scalars(select(Category).order_by(Category.name)))


def _preview_subscriber() -> Subscriber | None:
    """`?as=EMAIL` on the editor: preview as that subscriber."""
    wanted = (request.args.get("as") or "").strip().lower()
    if not wanted:
        return None
    subscriber = get_session().scalars(select(Subscriber).where(Subscriber.email == wanted)).first()
    if subscriber is None:
        flash(f"No subscriber with the address {wanted}; showing the issue for everyone.", "error")
    return subscriber


def _conflict(exc: InvalidTransition) -> tuple[str, int]:
    message = f"{exc}. Only drafts can be edited."
    return render_template("web/error.html", status=409, title="Not a draft", message=message), 409


# --- posts -------------------------------------------------------------------------------


@bp.get("/posts")
@role_required(Role.AUTHOR)
def posts() -> str | tuple[str, int]:
    q = request.args.get("q", "").strip()[:200]
    category = request.args.get("category", "").strip()[:200]
    cursor = request.args.get("cursor") or None
    error = None
    try:
        page = list_posts(get_session(), q=q or None, category=category or None, cursor=cursor)
    except ComposeError as exc:
        error, page = str(exc), None
    return render_template(
        "web/compose/posts.html",
        page=page,
        q=q,
        category=category,
        categories=_categories(),
        error=error,
    ), (422 if error else 200)


@bp.route("/posts/<int:post_id>", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def post_date(post_id: int) -> BaseResponse | tuple[str, int]:
    """A post's publication date: imports leave it empty when the source gave none."""
    session = get_session()
    post = session.get(Post, post_id) if 0 < post_id <= MAX_ID else None
    if post is None:
        abort(404)
    form = PostDateForm()
    error = None
    if form.validate_on_submit():
        when = form.published_at.data  # naive: set_post_date reads it in the server's timezone
        try:
            set_post_date(session, post_id=post_id, published_at=when)
        except ComposeError as exc:
            error = str(exc)
        else:
            flash("Date saved." if when else "Date cleared: the post has no date.", "info")
            return redirect(url_for("compose.posts"))
    elif request.method == "POST":
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    else:
        # Shown in the server's timezone, naive, as the datetime-local input wants it.
        shown = post.published_at.astimezone().replace(tzinfo=None) if post.published_at else None
        form.published_at.data = shown
    return render_template("web/compose/post.html", post=post, form=form, error=error), (
        422 if error else 200
    )


@bp.route("/posts/import", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def import_view() -> BaseResponse | str | tuple[str, int]:
    form = ImportForm()
    error: str | None = None
    position: str | None = None
    summary: str | None = None
    warnings: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        sources: list[str | bytes] = []
        if upload and upload.filename:
            data = upload.read(UPLOAD_LIMIT + 1)
            sources.append(data)
        if form.url.data:
            sources.append(form.url.data.strip())
        pasted = bool(form.content.data and form.content.data.strip())
        if pasted:
            sources.append((form.content.data or "").encode("utf-8", "replace"))
        if len(sources) != 1:
            error = "Choose one source: a file, a URL or pasted text."
        else:
            source = sources[0]
            if isinstance(source, str) and not source.startswith(("http://", "https://")):
                error = "The URL must start with http:// or https://."
            else:
                try:
                    result = import_posts(
                        get_session(),
                        source,
                        fmt=form.format.data or None,
                        allow_private_urls=_settings().import_allow_private_urls,
                        # Pasted text is Unicode already, whatever its XML declaration says.
                        content_type="text/plain; charset=utf-8" if pasted else None,
                        base_url=(form.base_url.data or "").strip() or None,
                    )
                except PostImportError as exc:
                    error, position = exc.message, exc.position
                else:
                    noun = "post" if result.total == 1 else "posts"
                    summary = (
                        f"Imported {result.total} {noun} ({result.created} new, "
                        f"{result.updated} updated)."
                    )
                    if not result.warnings:
                        flash(summary, "info")
                        return redirect(url_for("compose.posts"))
                    warnings = result.warnings  # shown here: too many for a flash cookie
    elif request.method == "POST":
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()) or None
    status = 422 if error else 200
    return render_template(
        "web/compose/import.html",
        form=form,
        error=error,
        position=position,
        summary=summary,
        warnings=warnings,
    ), status


# --- issues ------------------------------------------------------------------------------


@bp.get("/issues")
@role_required(Role.AUTHOR)
def issues() -> str | tuple[str, int]:
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
    session = get_session()
    form = NewIssueForm()
    chosen = _int_list(request.values.getlist("post"))
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
        categories=_categories(),
        chosen_categories=set(chosen_categories),
        last_sent=last,
        undated=undated_post_count(session),
        error=error,
    ), (422 if error else 200)


def _render_editor(issue: Any, *, form: IssueForm | None = None, error: str | None = None,
                   test_form: TestSendForm | None = None, status: int = 200) -> tuple[str, int]:  # fmt: skip
    session = get_session()
    subscriber = _preview_subscriber()
    preview_args: dict[str, Any] = {"issue_id": issue.id}
    if subscriber is not None:
        preview_args["subscriber"] = subscriber.id
    preview = render_preview(
        session,
        issue_id=issue.id,
        settings=_settings(),
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
    return _render_editor(_issue_or_404(issue_id))


def _items_from_form(issue: Any) -> list[ItemSpec] | None:
    """Order (hidden `order` inputs, possibly rearranged by drag) and per-post modes."""
    order = _int_list(request.form.getlist("order"))
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
    """Save everything, then do what the pressed button asks (move, remove, add)."""
    issue = _issue_or_404(issue_id)
    form = IssueForm()
    if not form.validate_on_submit():
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        return _render_editor(issue, form=form, error=message, status=422)
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
            add_posts(session, issue_id=issue_id, post_ids=_int_list(request.form.getlist("add")))
    except InvalidTransition as exc:
        return _conflict(exc)
    except ComposeError as exc:
        return _render_editor(issue, form=form, error=str(exc), status=422)
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
    """The editor's fetch() autosave: same fields as the form, JSON answer."""
    issue = _issue_or_404(issue_id)
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


def _preview_response(issue_id: int, *, text: bool) -> Response:
    _issue_or_404(issue_id)
    subscriber_id = request.args.get("subscriber", "")
    sub = int(subscriber_id) if subscriber_id.isdigit() and int(subscriber_id) <= MAX_ID else None
    try:
        preview = render_preview(
            get_session(), issue_id=issue_id, settings=_settings(), subscriber_id=sub
        )
    except SubscriberNotFound:
        abort(404)
    if text:
        response = Response(preview.text, mimetype="text/plain")
    else:
        response = Response(preview.html, mimetype="text/html")
    # The email is foreign content: no scripts, no same-origin access, framed only by us.
    response.headers["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/issues/<int:issue_id>/preview.html")
@role_required(Role.AUTHOR)
def preview_html(issue_id: int) -> Response:
    return _preview_response(issue_id, text=False)


@bp.get("/issues/<int:issue_id>/preview.txt")
@role_required(Role.AUTHOR)
def preview_text(issue_id: int) -> Response:
    return _preview_response(issue_id, text=True)


@bp.route("/issues/<int:issue_id>/test", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def test_send(issue_id: int) -> BaseResponse | tuple[str, int]:
    issue = _issue_or_404(issue_id)
    if request.method == "GET":
        return redirect(url_for("compose.editor", issue_id=issue_id) + "#test")
    form = TestSendForm()
    if not form.validate_on_submit():
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
        return _render_editor(issue, error=message, test_form=form, status=422)
    try:
        sent = send_test(
            get_session(),
            issue_id=issue_id,
            emails=split_addresses(form.emails.data or ""),
            sender=get_sender(),
            settings=_settings(),
        )
    except ComposeError as exc:
        return _render_editor(issue, error=str(exc), test_form=form, status=422)
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
    issue = _issue_or_404(issue_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _render_editor(issue, error="Give a date and time to send at.", status=422)
    try:
        scheduled = schedule_issue(get_session(), issue_id=issue_id, send_at=_send_at_from(form))
    except InvalidTransition as exc:
        return _conflict(exc)
    except ComposeError as exc:
        return _render_editor(issue, error=str(exc), status=422)
    assert scheduled.send_at is not None
    flash(f"Scheduled for {scheduled.send_at:%Y-%m-%d %H:%M} UTC.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/unschedule")
@role_required(Role.AUTHOR)
def unschedule(issue_id: int) -> BaseResponse | tuple[str, int]:
    _issue_or_404(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        unschedule_issue(get_session(), issue_id=issue_id)
    except InvalidTransition as exc:
        return _conflict(exc)
    flash("Back to draft: the issue will not be sent until you schedule it again.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


@bp.post("/issues/<int:issue_id>/cancel")
@role_required(Role.AUTHOR)
def cancel(issue_id: int) -> BaseResponse | tuple[str, int]:
    _issue_or_404(issue_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cancel_issue(get_session(), issue_id=issue_id)
    except InvalidTransition as exc:
        return _conflict(exc)
    flash("Issue cancelled.", "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


# --- sending -----------------------------------------------------------------------------

_SEND_ACTIONS = {
    "send": ("send_now", "Sending: progress shows below."),
    "pause": ("pause", "Paused. Resume to carry on where it stopped."),
    "resume": ("resume", "Sending again."),
}


@bp.post("/issues/<int:issue_id>/<any(send, pause, resume):action>")
@role_required(Role.AUTHOR)
def send_action(issue_id: int, action: str) -> BaseResponse | tuple[str, int]:
    from newsletter.sends import control

    issue = _issue_or_404(issue_id)
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
        return _render_editor(issue, error=str(exc), status=422)
    flash(message, "info")
    return redirect(url_for("compose.editor", issue_id=issue_id))


@bp.get("/issues/<int:issue_id>/stats.json")
@role_required(Role.AUTHOR)
def send_stats(issue_id: int) -> Any:
    """The progress the editor polls while an issue is sending (same shape as the API)."""
    from newsletter.sends.stats import issue_stats

    _issue_or_404(issue_id)
    return issue_stats(get_session(), issue_id)
