"""Link tokens: bound to purpose and subscriber, no expiry, rotation with fallback keys."""

from __future__ import annotations

import pytest

from newsletter.subscribers import InvalidToken
from newsletter.subscribers.tokens import (
    Purpose,
    check_form,
    make_token,
    read_token,
    sign_form,
    unsubscribe_url,
)
from tests.conftest import make_test_app


def test_round_trip_and_binding(app):
    token = make_token(Purpose.UNSUBSCRIBE, 42, "Ada@Example.org", issue_id=7)
    data = read_token(Purpose.UNSUBSCRIBE, token)
    assert (data.subscriber_id, data.issue_id) == (42, 7)
    assert data.matches("ada@example.org") and not data.matches("eve@example.org")
    assert token == make_token(Purpose.UNSUBSCRIBE, 42, "ada@example.org", issue_id=7)  # stable
    assert len(token) < 100 and "/" not in token
    with pytest.raises(InvalidToken):
        read_token(Purpose.PREFERENCES, token)  # another purpose
    with pytest.raises(InvalidToken):
        read_token(Purpose.UNSUBSCRIBE, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert unsubscribe_url(42, "ada@example.org").startswith("http://localhost/unsubscribe/")


def test_rotation_keeps_old_links_working(tmp_path):
    old_app = make_test_app(None, tmp_path / "old", SECRET_KEY="old-key-old-key-old-key-old-key-1")
    with old_app.app_context():
        token = make_token(Purpose.UNSUBSCRIBE, 1, "ada@example.org")
    rotated = make_test_app(
        None,
        tmp_path / "new",
        SECRET_KEY="new-key-new-key-new-key-new-key-2",
        SECRET_KEY_FALLBACKS="old-key-old-key-old-key-old-key-1",
    )
    with rotated.app_context():
        assert read_token(Purpose.UNSUBSCRIBE, token).subscriber_id == 1
        assert (
            make_token(Purpose.UNSUBSCRIBE, 1, "ada@example.org") != token
        )  # signed with the new key
    dropped = make_test_app(None, tmp_path / "gone", SECRET_KEY="new-key-new-key-new-key-new-key-2")
    with dropped.app_context(), pytest.raises(InvalidToken):
        read_token(Purpose.UNSUBSCRIBE, token)


def test_form_signature_is_bound_to_the_link(app):
    signature = sign_form("token-a")
    assert check_form("token-a", signature)
    assert not check_form("token-b", signature)
    assert not check_form("token-a", "")
    assert not check_form("token-a", signature + "x")


@pytest.mark.parametrize("purpose", [Purpose.UNSUBSCRIBE, Purpose.PREFERENCES, Purpose.CONFIRM])
@pytest.mark.parametrize(
    ("subscriber_id", "email", "issue_id"),
    [(1, "a@b.c", None), (987654321, "Zoë@Example.org", 12345), (2**40, "x@y.z", 1)],
)
def test_fast_signing_is_what_itsdangerous_makes(app, purpose, subscriber_id, email, issue_id):
    # make_token signs by hand for speed; itsdangerous must read it, and make the same
    # token from the same payload (its zlib attempt never wins on payloads this short).
    from datetime import UTC, datetime

    from newsletter.subscribers.tokens import _serializer, email_tag

    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    token = make_token(purpose, subscriber_id, email, issue_id=issue_id, issued_at=moment)
    payload: dict[str, object] = {"s": subscriber_id, "e": email_tag(email)}
    if purpose is Purpose.CONFIRM:
        payload["t"] = int(moment.timestamp() * 1000)
    if issue_id is not None:
        payload["i"] = issue_id
    assert _serializer(purpose, None).loads(token) == payload  # None: the app's settings
    assert token == _serializer(purpose, None).dumps(payload)
    data = read_token(purpose, token)
    assert (data.subscriber_id, data.issue_id) == (subscriber_id, issue_id)
    assert data.issued_at == (moment if purpose is Purpose.CONFIRM else None)
