"""/subscribe (signup.py): the form, the snippet, JSON signups, errors, honeypot, rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.models import Subscriber, SubscriberStatus
from tests.subscribers.conftest import snapshot

from .test_subscribe import configure


def test_form_lists_categories_and_is_accessible(client, categories):
    html = client.get("/subscribe").get_data(as_text=True)
    assert '<label for="signup-email">' in html and 'id="signup-email"' in html
    assert "<legend>Topics" in html
    for name in categories:
        assert f'value="{name}"' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html  # honeypot
    snippet = client.get("/subscribe?embed=1").get_data(as_text=True)
    assert "<html" not in snippet and 'action="http://localhost/subscribe"' in snippet


def test_form_signup_without_cookies_or_csrf(client, db_session, categories, tasks):
    response = client.post(
        "/subscribe",
        data={"email": "Ada@Example.org", "name": "Ada", "categories": ["AI", "China"]},
    )
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    assert sub.status is SubscriberStatus.PENDING
    assert {c.name for c in sub.categories} == {"AI", "China"}
    assert sub.source == "form" and sub.signup_ip == "127.0.0.1"
    assert tasks == [("subscribers.send_confirmation", (sub.id,))]


def test_json_signup_and_no_enumeration(client, db_session, tasks):
    first = client.post("/subscribe", json={"email": "ada@example.org"})
    assert first.status_code == 202 and first.json["status"] == "pending"
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    sub.status = SubscriberStatus.ACTIVE
    db_session.commit()
    again = client.post("/subscribe", json={"email": "ada@example.org"})
    fresh = client.post("/subscribe", json={"email": "bob@example.org"})
    assert again.status_code == fresh.status_code == 202
    assert again.json == fresh.json == first.json
    html_active = client.post("/subscribe", data={"email": "ada@example.org"}).get_data(
        as_text=True
    )
    html_new = client.post("/subscribe", data={"email": "cy@example.org"}).get_data(as_text=True)
    assert html_active == html_new


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"email": "nope"}, "invalid_email"),
        ({"email": ""}, "invalid_email"),
        ({"email": "ada@example.org", "categories": ["Cooking"]}, "invalid_input"),
        ({"email": "ada@example.org", "categories": "AI"}, None),  # a single string is fine
        ({"email": "ada@example.org", "categories": [1, 2]}, "invalid_input"),
        ({"email": ["ada@example.org"]}, "invalid_input"),
        ({"email": "ada@example.org", "name": "x" * 201}, "invalid_input"),
    ],
)
def test_json_signup_errors_change_nothing(client, db_session, categories, tasks, payload, code):
    before = snapshot(db_session)
    response = client.post("/subscribe", json=payload)
    if code is None:
        assert response.status_code == 202
        return
    assert response.status_code == 422
    assert response.json["error"]["code"] == code
    assert snapshot(db_session) == before
    assert tasks == []


def test_malformed_json_is_refused(client, db_session, tasks):
    before = snapshot(db_session)
    response = client.post("/subscribe", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"
    assert snapshot(db_session) == before


def test_form_error_shows_message_and_keeps_input(client, db_session, tasks):
    before = snapshot(db_session)
    response = client.post("/subscribe", data={"email": "ada@", "name": "Ada"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert 'value="ada@"' in html and 'value="Ada"' in html
    assert snapshot(db_session) == before


def test_honeypot_answers_like_success_and_stores_nothing(client, db_session, tasks):
    before = snapshot(db_session)
    response = client.post(
        "/subscribe", data={"email": "bot@example.org", "website": "http://spam"}
    )
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert snapshot(db_session) == before
    assert tasks == []


def test_rate_limit_per_ip(app, client, db_session, tasks):
    configure(app, subscribe_rate_limit="3 per minute")
    codes = [
        client.post("/subscribe", json={"email": f"p{i}@example.org"}).status_code for i in range(4)
    ]
    assert codes == [202, 202, 202, 429]
    assert db_session.scalar(select(Subscriber).where(Subscriber.email == "p3@example.org")) is None


def test_rate_limit_per_address_across_ips(app, client, db_session, tasks):
    configure(app, subscribe_address_rate_limit="2 per hour")
    codes = [
        client.post(
            "/subscribe",
            json={"email": "Ada@example.org"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"},
        ).status_code
        for i in range(3)
    ]
    assert codes == [202, 202, 429]
    other = client.post("/subscribe", json={"email": "bob@example.org"})
    assert other.status_code == 202
