"""The public pages: /subscribe, /confirm, /preferences, /unsubscribe (no login, no cookie)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import select

from newsletter.models import Subscriber, SubscriberStatus
from newsletter.subscribers import is_suppressed
from newsletter.subscribers.tokens import Purpose, make_token, preferences_url, unsubscribe_url
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


def configure(app, **changes):
    """Settings are frozen; a test swaps in a changed copy."""
    app.extensions["settings"] = dataclasses.replace(app.extensions["settings"], **changes)


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


def test_confirm_get_never_confirms_and_post_does(client, db_session, tasks):
    client.post("/subscribe", json={"email": "ada@example.org"})
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    token = make_token(Purpose.CONFIRM, sub.id, sub.email)
    for _ in range(3):  # a mail scanner prefetching the link
        page = client.get(f"/confirm/{token}")
        assert page.status_code == 200
    db_session.expire_all()
    assert sub.status is SubscriberStatus.PENDING
    html = page.get_data(as_text=True)
    response = client.post(f"/confirm/{token}", data={"form_signature": signature(html)})
    assert response.status_code == 200
    assert "You are subscribed" in response.get_data(as_text=True)
    db_session.expire_all()
    assert sub.status is SubscriberStatus.ACTIVE


def test_confirm_post_needs_the_form_signature(client, db_session, tasks):
    client.post("/subscribe", json={"email": "ada@example.org"})
    sub = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    token = make_token(Purpose.CONFIRM, sub.id, sub.email)
    other = make_token(Purpose.CONFIRM, 999, "eve@example.org")
    other_sig = signature(client.get(f"/confirm/{other}").get_data(as_text=True))
    before = snapshot(db_session)
    assert client.post(f"/confirm/{token}").status_code == 400
    assert client.post(f"/confirm/{token}", data={"form_signature": other_sig}).status_code == 400
    sig = signature(client.get(f"/confirm/{token}").get_data(as_text=True))
    cross = client.post(
        f"/confirm/{token}",
        data={"form_signature": sig},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert snapshot(db_session) == before


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


def test_one_click_unsubscribe_rfc8058(app, client, db_session):
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email))
    client = app.test_client(use_cookies=False)
    # What Gmail sends: urlencoded, no cookie, no Origin, no CSRF token.
    response = client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    db_session.expire_all()
    assert sub.status is SubscriberStatus.UNSUBSCRIBED
    assert is_suppressed(db_session, sub.email)
    # Idempotent; multipart/form-data works too (RFC 8058 SHOULD).
    again = client.post(
        url, data={"List-Unsubscribe": "One-Click"}, content_type="multipart/form-data"
    )
    assert again.status_code == 200


def test_unsubscribe_get_never_unsubscribes(client, db_session):
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email))
    for _ in range(3):
        html = client.get(url).get_data(as_text=True)
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    db_session.expire_all()
    assert sub.status is SubscriberStatus.ACTIVE


def test_unsubscribe_for_erased_subscriber_is_200(client, db_session):
    url = path(unsubscribe_url(4242, "gone@example.org"))
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200


def test_unsubscribe_link_credits_the_issue(client, db_session):
    from newsletter.models import Event, EventKind, Issue

    issue = Issue(subject="Hello", slug="hello")
    db_session.add(issue)
    sub = active_subscriber(db_session)
    url = path(unsubscribe_url(sub.id, sub.email, issue_id=issue.id))
    client.post(url, data={"List-Unsubscribe": "One-Click"})
    event = db_session.scalar(select(Event).where(Event.kind == EventKind.UNSUBSCRIBE))
    assert event.issue_id == issue.id and event.data == {"via": "one-click"}


def test_preferences_show_state_and_save(client, db_session, categories):
    sub = active_subscriber(db_session, name="Ada")
    url = path(preferences_url(sub.id, sub.email))
    html = client.get(url).get_data(as_text=True)
    assert "ada@example.org" in html and 'value="Ada"' in html and "subscribed" in html
    response = client.post(
        url,
        data={
            "form_signature": signature(html),
            "action": "save",
            "name": "Ada L.",
            "categories": ["China", "AI: Large Language Models"],
        },
    )
    assert response.status_code == 303
    db_session.expire_all()
    assert sub.name == "Ada L."
    assert [c.name for c in sub.categories] == ["AI: Large Language Models", "China"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your preferences are saved." in html
    assert 'value="China" checked' in html
    # None chosen = everything.
    client.post(url, data={"form_signature": signature(html), "action": "save", "name": "Ada"})
    db_session.expire_all()
    assert sub.categories == []


def test_preferences_frequency_only_when_digests_are_offered(app, client, db_session):
    sub = active_subscriber(db_session)
    url = path(preferences_url(sub.id, sub.email))
    html = client.get(url).get_data(as_text=True)
    assert 'name="frequency"' not in html
    configure(app, digest_frequencies=("weekly",))
    html = client.get(url).get_data(as_text=True)
    assert 'value="weekly"' in html and 'value="monthly"' not in html
    bad = client.post(url, data={"form_signature": signature(html), "frequency": "monthly"})
    assert bad.status_code == 422
    ok = client.post(url, data={"form_signature": signature(html), "frequency": "weekly"})
    assert ok.status_code == 303
    db_session.expire_all()
    assert sub.frequency.value == "weekly"


def test_preferences_bad_input_changes_nothing(client, db_session, categories):
    sub = active_subscriber(db_session, name="Ada")
    url = path(preferences_url(sub.id, sub.email))
    sig = signature(client.get(url).get_data(as_text=True))
    before = snapshot(db_session)
    unknown = client.post(url, data={"form_signature": sig, "categories": ["Cooking"], "name": "X"})
    assert unknown.status_code == 422 and "unknown category" in unknown.get_data(as_text=True)
    assert client.post(url, data={"categories": ["China"], "name": "X"}).status_code == 400
    assert client.post(url, data={"form_signature": "forged", "name": "X"}).status_code == 400
    cross = client.post(
        url, data={"form_signature": sig, "name": "X"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    assert client.post(url, data={"form_signature": sig, "name": "x" * 300}).status_code == 422
    assert snapshot(db_session) == before
    db_session.expire_all()
    assert sub.name == "Ada" and sub.categories == []


def test_preferences_unsubscribe_from_everything(client, db_session):
    sub = active_subscriber(db_session)
    url = path(preferences_url(sub.id, sub.email))
    sig = signature(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"form_signature": sig, "action": "unsubscribe"})
    assert response.status_code == 303
    db_session.expire_all()
    assert sub.status is SubscriberStatus.UNSUBSCRIBED
    html = client.get(url).get_data(as_text=True)
    assert "unsubscribed" in html and "sign up" in html
