"""Previews and the public web version: the real render, personal links made neutral."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import escape
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import Issue, Subscriber
from newsletter.render import RenderedEmail, branding_from_settings, render_issue
from newsletter.render.checks import check_email_html
from newsletter.render.placeholders import PATTERN

from .content import build_issue_content
from .errors import SubscriberNotFound
from .issues import get_issue


@dataclass(frozen=True, slots=True)
class Preview:
    """A rendered issue as someone would see it: subject, HTML, text, how many posts, whose
    view (None: anyone's), and the HTML problems found when asked to check.
    """

    subject: str
    html: str
    text: str
    post_count: int
    subscriber: Subscriber | None = None
    problems: list[str] = field(default_factory=list)


def neutral_values(settings: Settings, *, name: str = "", email: str = "") -> dict[str, str]:
    """Per-recipient values for anyone who is not a real recipient of a real send.

    Nobody's token goes into a preview, a test message or the archive: the links
    lead to the public signup page, where a reader can manage a subscription.
    """
    public = f"{settings.base_url}/subscribe"
    return {
        "name": name,
        "email": email,
        "unsubscribe_url": public,
        "preferences_url": public,
        "open_pixel": "",
        "track": "",
    }


def fill_placeholders(text: str, values: dict[str, str], *, html: bool) -> str:
    """Replace every marker; an empty value falls back to the marker's default."""

    def replace(match: object) -> str:
        key, fallback = match.group(1), match.group(2) or ""  # type: ignore[attr-defined]
        value = values.get(key, "")
        if not value:
            return str(fallback)  # already escaped for its part by the renderer
        return str(escape(value)) if html else value

    return PATTERN.sub(replace, text)


def fill_rendered(rendered: RenderedEmail, values: dict[str, str]) -> tuple[str, str]:
    """(HTML, text) of `rendered` with every placeholder replaced by `values` (escaped for
    HTML in the HTML part; an empty or missing value takes the marker's fallback).
    """
    return (
        fill_placeholders(rendered.html, values, html=True),
        fill_placeholders(rendered.text, values, html=False),
    )


def render_issue_email(
    session: Session, issue: Issue, *, settings: Settings, subscriber: Subscriber | None = None
) -> tuple[RenderedEmail, int]:
    """The rendered variant (with placeholders) and how many posts it holds."""
    content = build_issue_content(session, issue, subscriber=subscriber, base_url=settings.base_url)
    return render_issue(content, branding_from_settings(settings)), len(content.posts)


def render_preview(
    session: Session,
    *,
    issue_id: int,
    settings: Settings,
    subscriber_id: int | None = None,
    check: bool = False,
) -> Preview:
    """What an issue looks like, for everyone or as one subscriber would get it.

    With `check`, `problems` lists what check_email_html finds in the HTML. Raises
    IssueNotFound, and SubscriberNotFound when `subscriber_id` is given but unknown.
    """
    issue = get_issue(session, issue_id, with_posts=True)
    subscriber = None
    if subscriber_id is not None:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise SubscriberNotFound(f"no subscriber with id {subscriber_id}")
    rendered, count = render_issue_email(session, issue, settings=settings, subscriber=subscriber)
    values = neutral_values(
        settings,
        name=subscriber.name if subscriber else "",
        email=subscriber.email if subscriber else "",
    )
    html, text = fill_rendered(rendered, values)
    return Preview(
        subject=rendered.subject,
        html=html,
        text=text,
        post_count=count,
        subscriber=subscriber,
        problems=check_email_html(html) if check else [],
    )
