"""/preferences/<token> (preferences.py): name, topics, frequency, unsubscribe from everything."""

from __future__ import annotations

from newsletter.models import SubscriberStatus
from newsletter.subscribers.tokens import preferences_url
from tests.subscribers.conftest import snapshot

from .test_subscribe import active_subscriber, configure, path, signature


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
