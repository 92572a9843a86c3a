"""The lifecycle table: every (status, action) pair is allowed to one status or refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.models import Subscriber, SubscriberStatus, SuppressionReason
from newsletter.subscribers import lifecycle, suppress
from newsletter.subscribers.errors import Conflict
from newsletter.subscribers.lifecycle import Action, TransitionRefused
from newsletter.subscribers.manage import update_subscriber
from newsletter.subscribers.service import unsubscribe, update_preferences

P, A, U, B, C, X = (
    SubscriberStatus.PENDING,
    SubscriberStatus.ACTIVE,
    SubscriberStatus.UNSUBSCRIBED,
    SubscriberStatus.BOUNCED,
    SubscriberStatus.COMPLAINED,
    SubscriberStatus.BLOCKED,
)
ERASED = None  # the row is deleted
REFUSED = "refused"

# Written out by hand, column by column, so a change to the rules shows up here.
#                                  pending  active   unsub    bounced  complained blocked
EXPECTED: dict[Action, tuple[object, ...]] = {
    Action.SIGNUP:              (P,       REFUSED, U,       B,       C,       REFUSED),
    Action.CONFIRM:             (A,       REFUSED, A,       A,       A,       REFUSED),
    Action.ADMIN_CONFIRM:       (A,       REFUSED, REFUSED, REFUSED, REFUSED, REFUSED),
    Action.IMPORT_CONFIRMED:    (A,       REFUSED, REFUSED, REFUSED, REFUSED, REFUSED),
    Action.IMPORT_UNSUBSCRIBED: (U,       U,       REFUSED, REFUSED, REFUSED, REFUSED),
    Action.IMPORT_BOUNCED:      (B,       B,       REFUSED, REFUSED, REFUSED, REFUSED),
    Action.IMPORT_COMPLAINED:   (C,       C,       REFUSED, REFUSED, REFUSED, REFUSED),
    Action.IMPORT_BLOCKED:      (X,       X,       REFUSED, REFUSED, REFUSED, REFUSED),
    Action.EDIT_PREFERENCES:    (P,       A,       REFUSED, REFUSED, REFUSED, REFUSED),
    Action.UNSUBSCRIBE:         (U,       U,       REFUSED, REFUSED, REFUSED, REFUSED),
    Action.BOUNCE:              (B,       B,       B,       REFUSED, REFUSED, REFUSED),
    Action.COMPLAIN:            (C,       C,       C,       C,       REFUSED, REFUSED),
    Action.BLOCK:               (X,       X,       X,       X,       X,       REFUSED),
    Action.ERASE:               (ERASED,  ERASED,  ERASED,  ERASED,  ERASED,  ERASED),
}  # fmt: skip
STATUSES = (P, A, U, B, C, X)
PAIRS = [(status, action) for action in Action for status in STATUSES]


def test_the_expected_table_covers_every_action():
    assert set(EXPECTED) == set(Action)
    assert set(lifecycle.RULES) == set(Action)
    assert tuple(SubscriberStatus) == STATUSES


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}-{a}" for s, a in PAIRS])
def test_each_pair_is_allowed_to_one_status_or_refused_with_a_reason(status, action):
    expected = EXPECTED[action][STATUSES.index(status)]
    if expected == REFUSED:
        assert not lifecycle.allows(status, action)
        with pytest.raises(TransitionRefused) as refused:
            lifecycle.target(status, action)
        message = str(refused.value)
        assert message.startswith(f"a {status.value} subscriber ")
        assert len(message) > len(f"a {status.value} subscriber ") + 10  # says why
        assert "\n" not in message
        assert isinstance(refused.value, Conflict)  # the API answers 409
        assert (refused.value.status, refused.value.action) == (status, action)
        assert lifecycle.moves_to(status, action) is None
        assert status not in lifecycle.sources(action)
    else:
        assert lifecycle.allows(status, action)
        assert lifecycle.target(status, action) == expected
        assert status in lifecycle.sources(action)
        changed = expected if expected is not None and expected is not status else None
        assert lifecycle.moves_to(status, action) == changed


def test_no_action_ever_weakens_a_block():
    movable = [a for a in Action if a is not Action.ERASE and lifecycle.allows(X, a)]
    assert movable == []


def _subscriber(db_session, status: SubscriberStatus, email: str = "x@example.org") -> Subscriber:
    sub = Subscriber(email=email, status=status, attributes={})
    db_session.add(sub)
    db_session.commit()
    return sub


def _status(db_session, sub_id: int) -> SubscriberStatus:
    db_session.expire_all()
    return db_session.scalar(select(Subscriber.status).where(Subscriber.id == sub_id))


SUPPRESSIONS = {
    SuppressionReason.UNSUBSCRIBED: Action.UNSUBSCRIBE,
    SuppressionReason.BOUNCED: Action.BOUNCE,
    SuppressionReason.COMPLAINED: Action.COMPLAIN,
    SuppressionReason.BLOCKED: Action.BLOCK,
}


@pytest.mark.parametrize("reason", list(SUPPRESSIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_suppress_follows_the_table(app, db_session, status, reason):
    """Bounces, complaints and admin blocks all reach the status through `suppress`."""
    sub = _subscriber(db_session, status)
    changed = suppress(db_session, email=sub.email, reason=reason)
    expected = EXPECTED[SUPPRESSIONS[reason]][STATUSES.index(status)]
    if expected == REFUSED or expected is status:
        assert _status(db_session, sub.id) is status
        assert changed is False
    else:
        assert _status(db_session, sub.id) is expected
        assert changed is True


@pytest.mark.parametrize("status", STATUSES)
def test_unsubscribe_follows_the_table(app, db_session, status):
    sub = _subscriber(db_session, status)
    first = unsubscribe(db_session, subscriber_id=sub.id, via="test")
    expected = EXPECTED[Action.UNSUBSCRIBE][STATUSES.index(status)]
    assert first is (expected != REFUSED)
    assert _status(db_session, sub.id) is (U if expected != REFUSED else status)


@pytest.mark.parametrize("status", STATUSES)
def test_preferences_follow_the_table(app, db_session, status):
    sub = _subscriber(db_session, status)
    if EXPECTED[Action.EDIT_PREFERENCES][STATUSES.index(status)] == REFUSED:
        with pytest.raises(TransitionRefused):
            update_preferences(db_session, subscriber_id=sub.id, name="New", categories=[])
        db_session.rollback()
        db_session.expire_all()
        assert db_session.get(Subscriber, sub.id).name == ""
    else:
        update_preferences(db_session, subscriber_id=sub.id, name="New", categories=[])
        db_session.expire_all()
        assert db_session.get(Subscriber, sub.id).name == "New"


@pytest.mark.parametrize("status", STATUSES)
def test_admin_confirm_follows_the_table(app, db_session, tasks, status):
    sub = _subscriber(db_session, status)
    if status is A:
        update_subscriber(db_session, subscriber_id=sub.id, status=A)  # no change, no error
    elif EXPECTED[Action.ADMIN_CONFIRM][STATUSES.index(status)] == REFUSED:
        with pytest.raises(TransitionRefused, match="only come back by confirming again"):
            update_subscriber(db_session, subscriber_id=sub.id, status=A)
        db_session.rollback()
    else:
        update_subscriber(db_session, subscriber_id=sub.id, status=A)
    expected = EXPECTED[Action.ADMIN_CONFIRM][STATUSES.index(status)]
    assert _status(db_session, sub.id) is (status if expected == REFUSED else A)


def test_frequency_choices_only_offer_what_the_author_set():
    from newsletter.models import Frequency
    from newsletter.subscribers.service import frequency_choices

    assert frequency_choices([]) == []
    assert frequency_choices(["Monthly", "yearly"]) == [Frequency.EVERY_ISSUE, Frequency.MONTHLY]
    assert frequency_choices(["weekly", "monthly"]) == list(Frequency)
