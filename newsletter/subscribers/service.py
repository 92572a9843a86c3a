"""Signup with double opt-in, confirmation, preferences and unsubscribe.

Every function takes the session first and keyword-only inputs and commits its own
work; emails go out from Celery tasks published after that commit.

States (models.SubscriberStatus): a signup creates `pending`; every later change
of status is one the table in `lifecycle.py` allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.models import (
    Event,
    EventKind,
    Frequency,
    Subscriber,
    SubscriberStatus,
    SuppressionReason,
    utcnow,
)
from newsletter.queue import enqueue_after_commit

from . import lifecycle
from .categories import resolve_categories
from .errors import InvalidInput, SubscriberNotFound
from .lifecycle import Action
from .suppression import add_suppression, get_suppression, lift_suppression
from .tokens import Purpose, TokenData, read_token
from .validation import validate_address

# Signing up again while pending re-sends the confirmation, at most this often.
RESEND_INTERVAL = timedelta(minutes=10)

MAX_NAME = 200

# Statuses a person may leave by confirming again.
RECONFIRMABLE = tuple(lifecycle.sources(Action.CONFIRM))


@dataclass(frozen=True, slots=True)
class SignupResult:
    """What happened; the public pages show the same answer whatever it is."""

    outcome: str  # created | resent | throttled | already_active | refused | honeypot
    subscriber_id: int | None = None


def clean_name(name: str | None) -> str:
    """A display name on one line (it ends up in headers); InvalidInput beyond MAX_NAME characters."""
    text = " ".join((name or "").split())  # no line breaks: names end up in headers
    if len(text) > MAX_NAME:
        raise InvalidInput(f"the name is longer than {MAX_NAME} characters")
    return text


def subscribe(
    session: Session,
    *,
    email: str,
    name: str | None = None,
    categories: Sequence[str] = (),
    ip: str | None = None,
    source: str = "form",
    check_dns: bool = False,
    now: datetime | None = None,
) -> SignupResult:
    """A signup from the form, the snippet or JSON; commits.

    `categories`: full names (none = everything); `ip` (at most 45 characters kept) and
    `source` (50) are recorded; `check_dns` asks for the domain's MX. An existing
    address is moved only as the lifecycle's SIGNUP allows (no status change: a fresh
    confirmation link, at most every RESEND_INTERVAL). Returns the outcome the public
    pages hide behind one answer. Raises InvalidEmail (address) and InvalidInput (name,
    unknown category).
    """
    address = validate_address(email, check_dns=check_dns)
    display_name = clean_name(name)
    chosen = resolve_categories(session, categories)
    now = now or utcnow()

    subscriber = session.scalar(
        select(Subscriber).where(Subscriber.email == address.email).with_for_update()
    )
    if subscriber is None:
        suppression = get_suppression(session, address.email)
        if suppression is not None and suppression.reason is SuppressionReason.BLOCKED:
            return SignupResult("refused")
        subscriber = Subscriber(
            email=address.email,
            name=display_name,
            status=SubscriberStatus.PENDING,
            is_disposable=address.is_disposable,
            is_role_address=address.is_role,
            source=source[:50],
            signup_ip=(ip or None) and ip[:45],
            confirmation_sent_at=now,
            attributes={},
        )
        subscriber.categories = chosen
        session.add(subscriber)
        try:
            session.flush()
        except IntegrityError:
            # Two signups for one address raced; the other one created the row.
            session.rollback()
            return SignupResult("throttled")
        _record(session, subscriber.id, EventKind.SUBSCRIBE, source=source, at=now)
        enqueue_after_commit(session, "subscribers.send_confirmation", subscriber.id)
        session.commit()
        return SignupResult("created", subscriber.id)

    if not lifecycle.allows(subscriber.status, Action.SIGNUP):
        session.rollback()
        if subscriber.status is SubscriberStatus.ACTIVE:
            return SignupResult("already_active", subscriber.id)
        return SignupResult("refused", subscriber.id)
    if _confirmation_still_fresh(session, subscriber, now):
        session.rollback()
        return SignupResult("throttled", subscriber.id)

    # Keep what the person chose now, applied only when they confirm: a stranger
    # typing someone's address must not change that person's settings.
    subscriber.attributes = {
        **subscriber.attributes,
        "signup": {"name": display_name, "categories": [c.name for c in chosen]},
    }
    subscriber.confirmation_sent_at = now
    _record(session, subscriber.id, EventKind.SUBSCRIBE, source=source, at=now, again=True)
    enqueue_after_commit(session, "subscribers.send_confirmation", subscriber.id)
    session.commit()
    return SignupResult("resent", subscriber.id)


def _confirmation_still_fresh(session: Session, subscriber: Subscriber, now: datetime) -> bool:
    """True if a confirmation for the address's current state went out under RESEND_INTERVAL ago.

    Only a repeat of the same pending signup is throttled: a confirmation sent
    before the address was last confirmed, unsubscribed or suppressed belongs to
    an older state, so a new signup after any of those gets a fresh email.
    """
    sent = subscriber.confirmation_sent_at
    if sent is None or now - sent >= RESEND_INTERVAL:
        return False
    suppression = get_suppression(session, subscriber.email)
    changes = (
        subscriber.confirmed_at,
        subscriber.unsubscribed_at,
        suppression.created_at if suppression is not None else None,
    )
    return all(changed is None or changed < sent for changed in changes)


def load_for_token(session: Session, data: TokenData, *, lock: bool = False) -> Subscriber:
    """The subscriber a token names, if the token was made for this very address.

    `lock` takes a row lock (SELECT ... FOR UPDATE). Raises SubscriberNotFound.
    """
    query = select(Subscriber).where(Subscriber.id == data.subscriber_id)
    if lock:
        query = query.with_for_update()
    subscriber = session.scalar(query)
    if subscriber is None or not data.matches(subscriber.email):
        raise SubscriberNotFound("this link is no longer valid")
    return subscriber


def confirm(
    session: Session,
    *,
    token: TokenData,
    now: datetime | None = None,
    welcome_latest: bool = False,
) -> str:
    """Double opt-in; commits. Returns confirmed | already_active | stale | refused.

    Raises SubscriberNotFound for a token whose subscriber is gone.

    With `welcome_latest` (the WELCOME_LATEST_ISSUE setting), a confirmation also
    publishes `digests.welcome_latest`, which delivers the latest sent issue once.

    A confirm link older than the address's latest unsubscribe (or bounce, or
    complaint) does not bring it back: the person must sign up again, which sends a
    fresh link. That keeps "only the person confirming again" true even for old mail.
    """
    now = now or utcnow()
    subscriber = load_for_token(session, token, lock=True)
    if subscriber.status is SubscriberStatus.ACTIVE:
        session.rollback()
        return "already_active"
    if not lifecycle.allows(subscriber.status, Action.CONFIRM):
        session.rollback()
        return "refused"
    suppression = get_suppression(session, subscriber.email)
    if suppression is not None and suppression.reason is SuppressionReason.BLOCKED:
        session.rollback()
        return "refused"
    issued = token.issued_at
    latest_stop = max(
        (t for t in (subscriber.unsubscribed_at, suppression and suppression.created_at) if t),
        default=None,
    )
    if issued is None or (latest_stop is not None and issued < latest_stop):
        session.rollback()
        return "stale"

    signup = dict(subscriber.attributes).pop("signup", None)
    if signup:
        if signup.get("name"):
            subscriber.name = signup["name"]
        subscriber.categories = resolve_categories_lenient(session, signup.get("categories", []))
        subscriber.attributes = {k: v for k, v in subscriber.attributes.items() if k != "signup"}
    subscriber.status = SubscriberStatus.ACTIVE  # lifecycle: CONFIRM leads to active
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.bounce_count = 0
    lift_suppression(session, email=subscriber.email)
    _record(session, subscriber.id, EventKind.CONFIRM, at=now)
    enqueue_after_commit(session, "subscribers.send_welcome", subscriber.id)
    if welcome_latest:
        enqueue_after_commit(session, "digests.welcome_latest", subscriber.id)
    session.commit()
    return "confirmed"


def resolve_categories_lenient(session: Session, names: Sequence[str]) -> list[Any]:
    """Like resolve_categories, but a category deleted since the signup is just dropped."""
    from .categories import all_categories

    by_name = {c.name: c for c in all_categories(session)}
    return [by_name[n] for n in names if n in by_name]


def frequency_choices(offered: Iterable[str]) -> list[Frequency]:
    """The frequencies a subscriber may choose, `every` first; empty when no digest is offered.

    `offered`: the author's NEWSLETTER_DIGEST_FREQUENCIES (`weekly`, `monthly`; case
    does not matter, unknown words are ignored).
    """
    wanted = {part.lower() for part in offered}
    choices = [f for f in Frequency if f is not Frequency.EVERY_ISSUE and f.value in wanted]
    return [Frequency.EVERY_ISSUE, *choices] if choices else []


def update_preferences(
    session: Session,
    *,
    subscriber_id: int,
    name: str | None,
    categories: Sequence[str],
    frequency: Frequency | str | None = None,
    offered_frequencies: Iterable[str] | None = None,
) -> Subscriber:
    """Name, categories (none = everything) and, where digests are offered, frequency.

    With `offered_frequencies` (the person's own page) a frequency counts only when
    digests are offered and must be one of `frequency_choices(offered_frequencies)`;
    without it (admin paths) any `Frequency` is taken. Commits.
    Raises SubscriberNotFound, TransitionRefused (only pending and active subscribers
    edit their preferences) and InvalidInput (name, category or frequency).
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise SubscriberNotFound("no such subscriber")
    lifecycle.target(subscriber.status, Action.EDIT_PREFERENCES)
    chosen_frequency = _checked_frequency(frequency, offered_frequencies)
    display_name = clean_name(name)
    chosen = resolve_categories(session, categories)
    before = (subscriber.name, sorted(c.name for c in subscriber.categories), subscriber.frequency)
    subscriber.name = display_name
    subscriber.categories = chosen
    if chosen_frequency is not None:
        subscriber.frequency = chosen_frequency
    after = (subscriber.name, sorted(c.name for c in chosen), subscriber.frequency)
    if after != before:
        # What they chose, for the history on the admin page (the name only as "changed").
        _record(
            session,
            subscriber.id,
            EventKind.PREFERENCES,
            at=utcnow(),
            categories=after[1],
            frequency=after[2].value,
            name_changed=after[0] != before[0],
        )
    session.commit()
    return subscriber


def _checked_frequency(
    frequency: Frequency | str | None, offered: Iterable[str] | None
) -> Frequency | None:
    if offered is None:
        return Frequency(frequency) if frequency else None
    choices = frequency_choices(offered)
    if not choices or not frequency:
        return None  # no digests offered: the page shows no choice, a posted one is ignored
    try:
        wanted = Frequency(frequency)
    except ValueError:
        raise InvalidInput("Choose one of the frequencies offered.") from None
    if wanted not in choices:
        raise InvalidInput("Choose one of the frequencies offered.")
    return wanted


def unsubscribe(
    session: Session,
    *,
    subscriber_id: int,
    via: str,
    issue_id: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Stop all mail to this subscriber now (lifecycle: UNSUBSCRIBE); commits. Idempotent:
    True only the first time, and an unknown id is False, never an error.

    `via` (one-click, page, preferences, admin) and `issue_id` go into the event for stats.

    The send pipeline re-checks `is_mailable` just before each message, so this
    takes effect for a send already running within seconds.
    """
    now = now or utcnow()
    subscriber = session.scalar(
        select(Subscriber).where(Subscriber.id == subscriber_id).with_for_update()
    )
    if subscriber is None:
        return False
    add_suppression(session, email=subscriber.email, reason=SuppressionReason.UNSUBSCRIBED)
    new_status = lifecycle.moves_to(subscriber.status, Action.UNSUBSCRIBE)
    if new_status is None:
        session.commit()  # already off the list; only make sure the suppression exists
        return False
    subscriber.status = new_status
    subscriber.unsubscribed_at = now
    _record(session, subscriber.id, EventKind.UNSUBSCRIBE, at=now, via=via, issue_id=issue_id)
    session.commit()
    return True


def unsubscribe_by_token(
    session: Session, *, token: str, via: str, settings: Settings | None = None
) -> bool:
    """The one-click unsubscribe (RFC 8058): stop all mail to whoever the link names.

    `token`: the last part of an unsubscribe URL, verified here with NEWSLETTER_SECRET_KEY
    or a fallback (raises InvalidToken for a forged or mangled one: the only error).
    Idempotent and silent otherwise: a link for an erased subscriber (or an id reused
    by another address) changes nothing and raises nothing. True only the first time.
    """
    data = read_token(Purpose.UNSUBSCRIBE, token, settings=settings)
    try:
        subscriber = load_for_token(session, data)
    except SubscriberNotFound:
        session.rollback()
        return False
    return unsubscribe(session, subscriber_id=subscriber.id, via=via, issue_id=data.issue_id)


def is_mailable(session: Session, subscriber_id: int) -> bool:
    """The send-time check: the subscriber exists, is active and is not suppressed."""
    row = session.execute(
        select(Subscriber.status, Subscriber.email).where(Subscriber.id == subscriber_id)
    ).first()
    if row is None or row.status is not SubscriberStatus.ACTIVE:
        return False
    return get_suppression(session, row.email) is None


def _record(
    session: Session,
    subscriber_id: int,
    kind: EventKind,
    *,
    at: datetime,
    issue_id: int | None = None,
    **data: Any,
) -> None:
    session.add(
        Event(kind=kind, subscriber_id=subscriber_id, issue_id=issue_id, occurred_at=at, data=data)
    )
