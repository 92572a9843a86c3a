"""The issue editor: saving (button and autosave), ordering, modes, previews, test send, states."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from newsletter.compose import create_issue
from newsletter.mail.transport import MemorySender
from newsletter.models import Delivery, Issue, IssueStatus, Subscriber, SubscriberStatus
from newsletter.posts import get_or_create_categories, import_posts
from tests.conftest import csrf_token_from

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"


@pytest.fixture
def author(login):
    return login("author")


@pytest.fixture
def issue(db_session):
    ids = sorted(import_posts(db_session, SEED).post_ids)
    made = create_issue(db_session, subject="Seed issue", post_ids=ids)
    db_session.commit()
    return made


@pytest.fixture
def sender(app):
    app.extensions["mail_sender"] = MemorySender()
    return app.extensions["mail_sender"]


def _editor(client, issue, query=""):
    response = client.get(f"/author/issues/{issue.id}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _fields(issue, page, **changes):
    data = {
        "csrf_token": csrf_token_from(page),
        "subject": issue.subject,
        "preheader": "",
        "intro": "",
        "outro": "",
        "tracking": "y",
        "order": [str(i.post_id) for i in issue.items],
        **{f"mode-{i.post_id}": i.mode.value for i in issue.items},
    }
    data.update(changes)
    return data


def _order(db_session, issue_id):
    db_session.expire_all()
    issue = db_session.get(Issue, issue_id)
    result = [(i.post_id, i.mode.value) for i in issue.items]
    db_session.commit()  # end this session's savepoint before the app's next request
    return result


def test_editor_shows_form_previews_and_text(client, author, issue):
    page = _editor(client, issue)
    assert 'id="issue-form"' in page and "data-autosave-url" in page
    assert f'src="/author/issues/{issue.id}/preview.html"' in page
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in page
    assert 'id="preview-desktop"' in page and 'id="preview-mobile"' in page
    assert "Cranes on the Horizon" in page  # in the item list and the text part
    assert 'name="action" value="up:' in page  # no-JS reordering
    assert "compose.js" in page


def test_preview_endpoints_are_sandboxed(client, author, issue):
    html = client.get(f"/author/issues/{issue.id}/preview.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert html.headers["Content-Security-Policy"].startswith("sandbox")
    assert "Cranes on the Horizon" in html.get_data(as_text=True)
    text = client.get(f"/author/issues/{issue.id}/preview.txt")
    assert text.mimetype == "text/plain" and "Hi there," in text.get_data(as_text=True)
    assert client.get("/author/issues/9999/preview.html").status_code == 404


def test_preview_as_subscriber(client, author, issue, db_session):
    reader = Subscriber(email="llm@example.org", status=SubscriberStatus.ACTIVE, name="Lee")
    reader.categories = get_or_create_categories(db_session, ["AI: Large Language Models"])
    db_session.add(reader)
    db_session.commit()
    page = _editor(client, issue, "?as=LLM@example.org")
    assert f"preview.html?subscriber={reader.id}" in page
    assert "1 of 2 posts" in page
    text = client.get(f"/author/issues/{issue.id}/preview.txt?subscriber={reader.id}")
    body = text.get_data(as_text=True)
    assert "Hi Lee," in body and "new in AI from China" not in body
    unknown = _editor(client, issue, "?as=nobody@example.org")
    assert "No subscriber with the address nobody@example.org" in unknown


def test_save_button_saves_everything(client, author, issue, db_session):
    page = _editor(client, issue)
    first, second = (i.post_id for i in issue.items)
    response = client.post(
        f"/author/issues/{issue.id}",
        data=_fields(
            issue,
            page,
            subject="New subject",
            preheader="Pre",
            intro="Hello *you*",
            outro="Bye",
            tracking="",
            order=[str(second), str(first)],
            **{f"mode-{first}": "excerpt"},
            action="save",
        ),
    )
    assert response.status_code == 302
    db_session.expire_all()
    saved = db_session.get(Issue, issue.id)
    assert (saved.subject, saved.preheader, saved.intro, saved.outro, saved.tracking) == (
        "New subject",
        "Pre",
        "Hello *you*",
        "Bye",
        False,
    )
    assert _order(db_session, issue.id) == [(second, "full"), (first, "excerpt")]


def test_up_down_remove_buttons_work_without_js(client, author, issue, db_session):
    first, second = (i.post_id for i in issue.items)
    page = _editor(client, issue)
    response = client.post(
        f"/author/issues/{issue.id}", data=_fields(issue, page, action=f"down:{first}")
    )
    assert response.status_code == 302
    assert _order(db_session, issue.id) == [(second, "full"), (first, "full")]

    issue = db_session.get(Issue, issue.id)
    response = client.post(
        f"/author/issues/{issue.id}", data=_fields(issue, page, action=f"remove:{second}")
    )
    assert _order(db_session, issue.id) == [(first, "full")]

    issue = db_session.get(Issue, issue.id)
    response = client.post(
        f"/author/issues/{issue.id}", data=_fields(issue, page, action="add", add=[str(second)])
    )
    assert _order(db_session, issue.id) == [(first, "full"), (second, "full")]


def test_autosave_answers_json(client, author, issue, db_session):
    page = _editor(client, issue)
    token = csrf_token_from(page)
    data = _fields(issue, page, subject="Autosaved")
    del data["csrf_token"]
    response = client.post(
        f"/author/issues/{issue.id}/autosave", data=data, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["saved"] is True
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).subject == "Autosaved"
    db_session.commit()

    empty = client.post(
        f"/author/issues/{issue.id}/autosave",
        data={**data, "subject": ""},
        headers={"X-CSRFToken": token},
    )
    assert empty.status_code == 422 and empty.json["error"]["code"] == "validation_error"

    no_token = client.post(f"/author/issues/{issue.id}/autosave", data=data)
    assert no_token.status_code == 400


def test_only_drafts_are_editable(client, author, issue, db_session):
    page = _editor(client, issue)
    db_session.execute(update(Issue).where(Issue.id == issue.id).values(status="scheduled"))
    db_session.commit()
    token = csrf_token_from(page)
    saved = client.post(f"/author/issues/{issue.id}", data=_fields(issue, page, subject="Nope"))
    assert saved.status_code == 409
    assert "only drafts can be edited" in saved.get_data(as_text=True).lower()
    auto = client.post(
        f"/author/issues/{issue.id}/autosave",
        data=_fields(issue, page, subject="Nope"),
        headers={"X-CSRFToken": token},
    )
    assert auto.status_code == 409 and auto.json["error"]["code"] == "conflict"
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).subject == "Seed issue"
    db_session.commit()
    readonly = _editor(client, issue)
    assert "<fieldset disabled>" in readonly
    assert "Back to draft" in readonly


def test_test_send_from_the_editor(client, author, issue, sender, db_session):
    page = _editor(client, issue)
    response = client.post(
        f"/author/issues/{issue.id}/test",
        data={"csrf_token": csrf_token_from(page), "emails": "a@example.org, b@example.org"},
    )
    assert response.status_code == 302
    assert [m.recipients for m in sender.outbox] == [["a@example.org"], ["b@example.org"]]
    message = email.message_from_bytes(sender.outbox[0].message, policy=email.policy.default)
    assert message["Subject"] == "[Test] Seed issue"
    assert db_session.scalars(select(Delivery)).all() == []

    too_many = client.post(
        f"/author/issues/{issue.id}/test",
        data={
            "csrf_token": csrf_token_from(page),
            "emails": "\n".join(f"r{i}@example.org" for i in range(6)),
        },
    )
    assert too_many.status_code == 422
    assert "at most 5" in too_many.get_data(as_text=True)
    assert len(sender.outbox) == 2


def test_schedule_unschedule_cancel(client, author, issue, db_session):
    page = _editor(client, issue)
    token = csrf_token_from(page)
    past = client.post(
        f"/author/issues/{issue.id}/schedule",
        data={"csrf_token": token, "send_at": "2001-01-01T09:00", "tz_offset": "0"},
    )
    assert past.status_code == 422 and "future" in past.get_data(as_text=True)

    response = client.post(
        f"/author/issues/{issue.id}/schedule",
        data={"csrf_token": token, "send_at": "2099-06-01T09:00", "tz_offset": "-120"},
    )
    assert response.status_code == 302
    db_session.expire_all()
    scheduled = db_session.get(Issue, issue.id)
    assert scheduled.status == IssueStatus.SCHEDULED
    assert scheduled.send_at == datetime(2099, 6, 1, 7, 0, tzinfo=UTC)  # browser at UTC+2
    db_session.commit()

    client.post(f"/author/issues/{issue.id}/unschedule", data={"csrf_token": token})
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status == IssueStatus.DRAFT
    db_session.commit()

    client.post(f"/author/issues/{issue.id}/cancel", data={"csrf_token": token})
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status == IssueStatus.CANCELLED
    db_session.commit()
    again = client.post(f"/author/issues/{issue.id}/cancel", data={"csrf_token": token})
    assert again.status_code == 409


def test_missing_issue_is_404(client, author):
    assert client.get("/author/issues/424242").status_code == 404
    assert client.get("/author/issues/99999999999999999999").status_code == 404
