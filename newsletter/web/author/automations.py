"""The author's pages for watched feeds (/author/feeds) and automations (/author/automations).

Plain forms with CSRF tokens; every button is its own small form, so nothing needs
JavaScript. The services decide everything; a refused input is shown above the form
with a 422, and nothing is saved.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange

from newsletter import current_settings
from newsletter.automations import feeds as feed_service
from newsletter.automations import rules
from newsletter.automations.errors import AutomationError, NotFound
from newsletter.automations.rules import RunReport
from newsletter.automations.schedule import MIN_INTERVAL_MINUTES
from newsletter.categories import all_categories
from newsletter.db import get_session
from newsletter.models import Role
from newsletter.models.base import MAX_ID

from ..roles import role_required

bp = Blueprint("automations_web", __name__, url_prefix="/author")

EVERY_CHOICES = [
    SelectChoice("15", "every 15 minutes"),
    SelectChoice("30", "every 30 minutes"),
    SelectChoice("60", "every hour"),
    SelectChoice("360", "every 6 hours"),
    SelectChoice("1440", "every day"),
]


class FeedForm(FlaskForm):
    url = URLField("Feed URL", validators=[DataRequired(), Length(max=2000)])
    every = SelectField("Check it", choices=EVERY_CHOICES, default="60")


class AutomationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    schedule = StringField(
        "Schedule (cron: minute hour day month weekday)",
        validators=[DataRequired(), Length(max=100)],
        default="0 8 * * 1",
    )
    timezone = StringField("Timezone (IANA name)", validators=[DataRequired(), Length(max=64)])
    categories = SelectMultipleField("Categories (none: every post)", choices=[])
    min_posts = IntegerField(
        "Skip the run with fewer new posts than",
        validators=[NumberRange(min=1, max=100)],
        default=1,
    )
    action = RadioField(
        "Then",
        choices=[
            SelectChoice("draft", "Leave a draft and email the authors"),
            SelectChoice("schedule", "Send it at once"),
        ],
        default="draft",
    )
    subject = StringField(
        "Subject ({date}, {count} and {first_title} are filled in)",
        validators=[DataRequired(), Length(max=300)],
        default="{count} new posts: {first_title}",
    )
    enabled = BooleanField("Enabled", default=True)


class ButtonForm(FlaskForm):
    """Only a CSRF token: for one-button forms (remove, poll, run, dry run)."""


def _form_errors(form: FlaskForm) -> str:
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())


def _check_id(item_id: int) -> None:
    if not 0 < item_id <= MAX_ID:
        abort(404)


# --- feeds -------------------------------------------------------------------------------


@bp.route("/feeds", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def feeds() -> BaseResponse | tuple[str, int]:
    """GET, POST /author/feeds: the watched feeds, and the form to watch another (`url`,
    `every` minutes); a new feed is fetched and imported at once (feeds.add_feed).

    Renders web/automations/feeds.html; 200. A POST answers 302 back with what was imported, or 422
    with the message for an invalid form, a feed already watched, or one that is bad, private,
    unreachable or not a feed (AutomationError); 400 without a valid CSRF token; 302 to the login
    page when logged out (authors and admins only).
    """
    session = get_session()
    form = FeedForm()
    error = None
    if form.validate_on_submit():
        try:
            feed, result = feed_service.add_feed(
                session,
                url=form.url.data or "",
                every_minutes=int(form.every.data),
                allow_private=current_settings().import_allow_private_urls,
            )
        except AutomationError as exc:
            error = str(exc)
        else:
            flash(
                f"Watching feed {feed.id}: imported {result.total} posts "
                f"({result.created} new, {result.updated} updated).",
                "info",
            )
            return redirect(url_for("automations_web.feeds"))
    elif request.method == "POST":
        error = _form_errors(form)
    return render_template(
        "web/automations/feeds.html",
        form=form,
        button=ButtonForm(),
        feeds=feed_service.list_feeds(session),
        error=error,
    ), (422 if error else 200)


@bp.post("/feeds/<int:feed_id>/remove")
@role_required(Role.AUTHOR)
def remove_feed(feed_id: int) -> BaseResponse:
    """POST /author/feeds/<feed_id>/remove: stop watching a feed; its posts stay.

    302 to the feeds page; 404 no such feed; 400 without a valid CSRF token; 302 to the login page
    when logged out (authors and admins only).
    """
    _check_id(feed_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        feed_service.remove_feed(get_session(), feed_id=feed_id)
    except NotFound:
        abort(404)
    flash(f"Feed {feed_id} is no longer watched; its posts stay.", "info")
    return redirect(url_for("automations_web.feeds"))


@bp.post("/feeds/<int:feed_id>/poll")
@role_required(Role.AUTHOR)
def poll_feed(feed_id: int) -> BaseResponse:
    """POST /author/feeds/<feed_id>/poll: poll a feed now and import what it holds.

    302 to the feeds page with what happened (a failure is a message, never an error status); 404 no
    such feed; 400 without a valid CSRF token; 302 to the login page when logged out (authors and
    admins only).
    """
    _check_id(feed_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        result = feed_service.poll_feed(
            get_session(),
            feed_id=feed_id,
            allow_private_setting=current_settings().import_allow_private_urls,
        )
    except NotFound:
        abort(404)
    flash(result.describe().capitalize() + ".", "error" if result.status == "failed" else "info")
    return redirect(url_for("automations_web.feeds"))


# --- automations -------------------------------------------------------------------------


def _automation_form() -> AutomationForm:
    form = AutomationForm()
    form.categories.choices = [SelectChoice(c.name, c.name) for c in all_categories(get_session())]
    if not form.timezone.data:
        form.timezone.data = "UTC"
    return form


def _automations_page(
    form: AutomationForm, *, error: str | None = None, report: RunReport | None = None
) -> tuple[str, int]:
    session = get_session()
    return render_template(
        "web/automations/automations.html",
        form=form,
        button=ButtonForm(),
        automations=rules.list_automations(session),
        error=error,
        report=report,
        min_interval=MIN_INTERVAL_MINUTES,
    ), (422 if error else 200)


@bp.route("/automations", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def automations() -> BaseResponse | tuple[str, int]:
    """GET, POST /author/automations: the automations, and the form to create one (name,
    cron schedule, timezone, categories, min_posts, action, subject, enabled).

    Renders web/automations/automations.html; 200. A POST answers 302 back, or 422 with
    the message for an invalid form or a value the service refuses (AutomationError);
    400 without a valid CSRF token; 302 to the login page when logged out (authors and admins only).
    """
    form = _automation_form()
    error = None
    if form.validate_on_submit():
        try:
            automation = rules.create_automation(
                get_session(),
                name=form.name.data or "",
                schedule=form.schedule.data or "",
                timezone=form.timezone.data or "",
                categories=form.categories.data or [],
                min_posts=int(form.min_posts.data or 1),
                action=form.action.data or "draft",
                subject=form.subject.data or "",
                enabled=bool(form.enabled.data),
            )
        except AutomationError as exc:
            error = str(exc)
        else:
            flash(f"Automation {automation.name!r} saved.", "info")
            return redirect(url_for("automations_web.automations"))
    elif request.method == "POST":
        error = _form_errors(form)
    return _automations_page(form, error=error)


@bp.post("/automations/<int:automation_id>/<any(run, dry_run, enable, disable, remove):action>")
@role_required(Role.AUTHOR)
def automation_action(automation_id: int, action: str) -> BaseResponse | tuple[str, int]:
    """POST /author/automations/<automation_id>/run|dry_run|enable|disable|remove.

    dry_run answers 200 with the automations page and what a run would do (writing nothing); the
    others 302 to the automations page with a message (also when the service refuses, e.g. a run
    already going). 404 no such automation; 400 without a valid CSRF token; 302 to the login page
    when logged out (authors and admins only).
    """
    _check_id(automation_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    session = get_session()
    try:
        if action == "dry_run":
            report = rules.dry_run(session, automation_id=automation_id)
            return _automations_page(_automation_form(), report=report)
        if action == "run":
            report = rules.run_now(session, automation_id=automation_id)
            flash(report.message, "error" if report.outcome.value == "failed" else "info")
        elif action == "remove":
            rules.delete_automation(session, automation_id=automation_id)
            flash(f"Automation {automation_id} removed; its issues stay.", "info")
        else:
            rules.update_automation(
                session, automation_id=automation_id, enabled=action == "enable"
            )
            flash(f"Automation {automation_id} {action}d.", "info")
    except NotFound:
        abort(404)
    except AutomationError as exc:
        flash(str(exc), "error")
    return redirect(url_for("automations_web.automations"))
