"""The subscriber pages (no login, no cookie): what they share (subscribe.py), and the helpers
their tests use. Each page's own tests: test_signup.py, test_confirm.py, test_preferences.py,
test_unsubscribe.py."""

from __future__ import annotations

import dataclasses
import re

import pytest

from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers.tokens import Purpose, make_token
from tests.subscribers.conftest import snapshot


def signature(html: str) -> str:
    match = re.search(r'name="form_signature" value="([^"]+)"', html)
    assert match, "page has no form signature"
    return match.group(1)


def active_subscriber(db_session, email="ada@example.org", **fields):
    sub = Subscriber(email=email, status=SubscriberStatus.ACTIVE, attributes={}, **fields)
    db_session.add(sub)
    db_session.commit()
    return sub


def path(url: str) -> str:
    return url.removeprefix("http://localhost")


def configure(app, **changes):
    """Settings are frozen; a test swaps in a changed copy."""
    app.extensions["settings"] = dataclasses.replace(app.extensions["settings"], **changes)


@pytest.mark.parametrize("prefix", ["confirm", "preferences", "unsubscribe"])
def test_bad_tokens_are_404_and_change_nothing(client, db_session, tasks, prefix):
    sub = active_subscriber(db_session)
    good = make_token(Purpose.PREFERENCES, sub.id, sub.email)
    before = snapshot(db_session)
    bad_tokens = ["nope", good[:-2] + "xx", "a" * 600]
    if prefix != "preferences":
        bad_tokens.append(good)  # a token for another purpose
    for token in bad_tokens:
        assert client.get(f"/{prefix}/{token}").status_code == 404
        response = client.post(f"/{prefix}/{token}", data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 404
    assert snapshot(db_session) == before
