"""The confirmation and welcome emails, sent by Celery tasks through these functions.

Transactional mail is not bulk: the confirmation goes to someone not yet on the
list and carries no List-Unsubscribe; the welcome is the first list mail and
carries RFC 8058 one-click headers like every issue.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from newsletter.mail.transport import EmailSender
from newsletter.models import Subscriber, SubscriberStatus

from .service import RECONFIRMABLE
from .tokens import confirm_url, preferences_url, unsubscribe_url


def send_confirmation(session: Session, *, subscriber_id: int, sender: EmailSender) -> bool:
    """Mail the confirm link; False (nothing sent) if the person no longer needs one."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status not in RECONFIRMABLE:
        return False
    # The link is issued now: it outranks any unsubscribe recorded before this moment.
    context = {
        "confirm_url": confirm_url(subscriber.id, subscriber.email),
        "name": _name(subscriber),
    }
    _send(subscriber, "confirm", context, sender=sender, with_list_headers=False)
    return True


def send_welcome(session: Session, *, subscriber_id: int, sender: EmailSender) -> bool:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status is not SubscriberStatus.ACTIVE:
        return False
    context = {
        "preferences_url": preferences_url(subscriber.id, subscriber.email),
        "unsubscribe_url": unsubscribe_url(subscriber.id, subscriber.email),
        "name": _name(subscriber),
    }
    _send(subscriber, "welcome", context, sender=sender, with_list_headers=True)
    return True


def _name(subscriber: Subscriber) -> str:
    return subscriber.name or ""


def _send(
    subscriber: Subscriber,
    template: str,
    context: dict[str, str],
    *,
    sender: EmailSender,
    with_list_headers: bool,
) -> None:
    from newsletter.compose.content import branding_from_settings
    from newsletter.mail import envelope
    from newsletter.mail.message import Recipient
    from newsletter.render import render_transactional

    settings = current_app.extensions["settings"]
    rendered = render_transactional(template, context, branding_from_settings(settings))
    message = envelope.transactional_template(
        rendered, settings, kind=template, list_mail=with_list_headers
    ).personalise(
        Recipient(
            email=subscriber.email,
            name=subscriber.name,
            message_id=envelope.new_message_id(settings, template, subscriber.id),
            unsubscribe_url=context.get("unsubscribe_url", "") if with_list_headers else "",
            preferences_url=context.get("preferences_url", ""),
        )
    )
    sender.send(
        envelope_from=envelope.envelope_sender(settings),
        recipients=[subscriber.email],
        message=envelope.seal(settings, message),
    )
