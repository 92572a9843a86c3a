"""The confirmation and welcome emails, sent by Celery tasks through these functions.

Transactional mail is not bulk: the confirmation goes to someone not yet on the
list and carries no List-Unsubscribe; the welcome is the first list mail and
carries RFC 8058 one-click headers like every issue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.mail.transport import EmailSender, TemporaryFailure
from newsletter.models import Event, EventKind, Subscriber, SubscriberStatus

from .service import RECONFIRMABLE
from .tokens import confirm_url, preferences_url, unsubscribe_url

log = logging.getLogger(__name__)


def send_confirmation(
    session: Session, *, subscriber_id: int, sender: EmailSender, settings: Settings
) -> bool:
    """Mail the confirm link; False (nothing sent) if the person no longer needs one.

    Raises TemporaryFailure / PermanentFailure from `sender` (nothing recorded then).
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status not in RECONFIRMABLE:
        return False
    # The link is issued now: it outranks any unsubscribe recorded before this moment.
    context = {
        "confirm_url": confirm_url(subscriber.id, subscriber.email, settings=settings),
        "name": _name(subscriber),
    }
    _send(subscriber, "confirm", context, sender=sender, settings=settings, with_list_headers=False)
    _sent(session, subscriber, "confirm")
    return True


@dataclass
class BatchOutcome:
    """What a batch of confirmations did, by subscriber id."""

    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # no longer needed one
    failed: dict[int, str] = field(default_factory=dict)  # id -> reason; not retried
    retry: list[int] = field(default_factory=list)  # temporary failures, to try again later


def send_confirmations(
    session: Session, *, subscriber_ids: Sequence[int], sender: EmailSender, settings: Settings
) -> BatchOutcome:
    """Mail each person their confirm link; one bad recipient never stops the others.

    A permanent failure (5xx, an address the server cannot take, a message that
    cannot be built) is logged with its reason and the batch goes on. A temporary
    failure of one recipient (a 4xx reply) defers just that one; a temporary
    failure with no reply (the server is unreachable) defers the rest of the batch,
    since every other message would fail the same way. Database errors propagate.
    """
    outcome = BatchOutcome()
    for position, subscriber_id in enumerate(subscriber_ids):
        try:
            if send_confirmation(
                session, subscriber_id=subscriber_id, sender=sender, settings=settings
            ):
                outcome.sent.append(subscriber_id)
            else:
                outcome.skipped.append(subscriber_id)
        except TemporaryFailure as exc:
            if exc.code is None:
                outcome.retry.extend(subscriber_ids[position:])
                log.warning("confirmations deferred, the mail server is unreachable: %s", exc)
                break
            outcome.retry.append(subscriber_id)
            log.warning("confirmation to subscriber %s deferred: %s", subscriber_id, exc)
        except SQLAlchemyError:
            raise
        except Exception as exc:  # a boundary: whatever one message did, the next still goes
            outcome.failed[subscriber_id] = str(exc) or type(exc).__name__
            log.warning("confirmation to subscriber %s not sent: %s", subscriber_id, exc)
    return outcome


def send_welcome(
    session: Session, *, subscriber_id: int, sender: EmailSender, settings: Settings
) -> bool:
    """Mail the welcome (with RFC 8058 one-click headers) to an active subscriber.

    False (nothing sent) if the subscriber is gone or no longer active. Raises
    TemporaryFailure / PermanentFailure from `sender`.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.status is not SubscriberStatus.ACTIVE:
        return False
    context = {
        "preferences_url": preferences_url(subscriber.id, subscriber.email, settings=settings),
        "unsubscribe_url": unsubscribe_url(subscriber.id, subscriber.email, settings=settings),
        "name": _name(subscriber),
    }
    _send(subscriber, "welcome", context, sender=sender, settings=settings, with_list_headers=True)
    _sent(session, subscriber, "welcome")
    return True


def _sent(session: Session, subscriber: Subscriber, template: str) -> None:
    """Note the email in the subscriber's history; committed at once, as it went out."""
    session.add(Event(kind=EventKind.EMAIL, subscriber_id=subscriber.id, data={"email": template}))
    session.commit()


def _name(subscriber: Subscriber) -> str:
    return subscriber.name or ""


def _send(
    subscriber: Subscriber,
    template: str,
    context: dict[str, str],
    *,
    sender: EmailSender,
    settings: Settings,
    with_list_headers: bool,
) -> None:
    from newsletter.mail import envelope
    from newsletter.mail.message import Recipient
    from newsletter.render import branding_from_settings, render_transactional

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
