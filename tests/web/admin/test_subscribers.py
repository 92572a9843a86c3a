"""The admin's subscriber pages: navigation, GDPR export, destructive actions, history, CSV."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from newsletter import current_settings
from newsletter.cli.subscribers import subscribers as cli
from newsletter.mail.transport import MemorySender
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Event,
    EventKind,
    Issue,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
)
from newsletter.subscribers import confirm, subscribe, update_preferences
from newsletter.subscribers.emails import send_confirmation, send_welcome
from newsletter.subscribers.importer import import_csv
from newsletter.subscribers.tokens import Purpose, make_token
from tests.conftest import csrf_token_from
from tests.subscribers.conftest import snapshot

ADMIN_PAGES = ["/admin/", "/admin/issues/", "/admin/subscribers/", "/admin/subscribers/import"]
AUTHOR_PAGES = ["/author/", "/author/posts", "/author/issues", "/author/issues/new"]


def add(db_session, email="ada@example.org", status=SubscriberStatus.ACTIVE, **fields):
    sub = Subscriber(email=email, status=status, attributes={}, **fields)
    db_session.add(sub)
    db_session.commit()
    return sub


def nav_links(html: str) -> list[str]:
    nav = html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', nav)


def test_admin_navigation_reaches_every_admin_page_and_back(client, login, db_session):
    login("admin")
    sub = add(db_session)
    links = nav_links(client.get("/admin/").get_data(as_text=True))
    for page in ADMIN_PAGES + AUTHOR_PAGES:
        assert page in links, page
    for page in links:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        # Every page carries the same navigation, with the current page marked.
        assert nav_links(html) == links, page
        if page in ADMIN_PAGES + AUTHOR_PAGES:
            assert f'<a href="{page}" aria-current="page">' in html, page
    # The list links to each subscriber, and the detail page keeps the nav.
    listing = client.get("/admin/subscribers/").get_data(as_text=True)
    assert f'href="/admin/subscribers/{sub.id}"' in listing
    detail = client.get(f"/admin/subscribers/{sub.id}").get_data(as_text=True)
    assert nav_links(detail) == links
    assert '<a href="/admin/subscribers/" aria-current="page">' in detail


def test_author_navigation_has_no_admin_pages(client, login):
    login("author")
    links = nav_links(client.get("/author/").get_data(as_text=True))
    assert all(page in links for page in AUTHOR_PAGES)
    assert not any(link.startswith("/admin") for link in links)


def test_gdpr_export_works_with_the_login_session(client, login, db_session, tasks):
    sub_id = subscribe(db_session, email="ada@example.org", name="Ada").subscriber_id
    assert client.get(f"/admin/subscribers/{sub_id}/export").status_code == 302  # to login
    login("admin")
    detail = client.get(f"/admin/subscribers/{sub_id}").get_data(as_text=True)
    assert f'href="/admin/subscribers/{sub_id}/export"' in detail
    assert "api/v1" not in detail  # no link that needs an API token
    response = client.get(f"/admin/subscribers/{sub_id}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=subscriber-{sub_id}.json"
    )
    data = json.loads(response.get_data(as_text=True))
    assert data["subscriber"]["email"] == "ada@example.org"
    assert data["subscriber"]["name"] == "Ada"
    assert [e["kind"] for e in data["events"]] == ["subscribe"]
    # The same document as the API's export.
    from newsletter.subscribers.exporter import personal_data

    assert data == json.loads(json.dumps(personal_data(db_session, subscriber_id=sub_id)))
    assert client.get("/admin/subscribers/999999/export").status_code == 404


def test_gdpr_export_is_for_admins_only(client, login, db_session):
    sub = add(db_session)
    login("author")
    assert client.get(f"/admin/subscribers/{sub.id}/export").status_code == 403


@pytest.mark.parametrize(
    ("path", "fields", "gone"),
    [
        ("status", {"status": "blocked"}, False),
        ("status", {"status": "unsubscribed"}, False),
        ("erase", {}, True),
    ],
)
def test_destructive_actions_ask_before_acting(client, login, db_session, path, fields, gone):
    login("admin")
    sub = add(db_session)
    sub_id = sub.id
    detail = client.get(f"/admin/subscribers/{sub_id}").get_data(as_text=True)
    token = csrf_token_from(detail)
    url = f"/admin/subscribers/{sub_id}/{path}"
    before = snapshot(db_session)
    # Without confirmed=yes (no script, or a forged value): a page that asks, nothing changed.
    for confirmed in (None, "", "no", "on"):
        data = {"csrf_token": token, **fields}
        if confirmed is not None:
            data["confirmed"] = confirmed
        response = client.post(url, data=data)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert 'type="checkbox" name="confirmed" value="yes" required' in page
        assert 'class="danger"' in page and "ada@example.org" in page
        assert f'action="{url}"' in page
        assert snapshot(db_session) == before
    # Confirmed: it acts.
    response = client.post(url, data={"csrf_token": token, "confirmed": "yes", **fields})
    assert response.status_code == 302
    db_session.expire_all()
    changed = db_session.get(Subscriber, sub_id)
    if gone:
        assert changed is None
    else:
        assert changed.status.value == fields["status"]


def test_destructive_buttons_look_destructive_and_ask_in_the_browser(client, login, db_session):
    login("admin")
    sub = add(db_session, status=SubscriberStatus.PENDING)
    html = client.get(f"/admin/subscribers/{sub.id}").get_data(as_text=True)
    for label in ("Unsubscribe from everything", "Block", "Erase personal data (GDPR)"):
        assert f'<button type="submit" class="danger">{label}</button>' in html
    assert html.count("data-confirm=") == 3
    assert 'src="/static/admin.js"' in html
    # Confirming a pending address is not destructive: a plain button that acts at once.
    assert '<button type="submit" name="status" value="active">Mark as confirmed</button>' in html
    token = csrf_token_from(html)
    client.post(
        f"/admin/subscribers/{sub.id}/status", data={"csrf_token": token, "status": "active"}
    )
    db_session.expire_all()
    assert db_session.get(Subscriber, sub.id).status is SubscriberStatus.ACTIVE
    script = client.get("/static/admin.js").get_data(as_text=True)
    assert "window.confirm" in script and '"yes"' in script


def test_history_shows_imports_preferences_and_every_email(
    app, client, login, db_session, categories, tasks
):
    sender = MemorySender()
    sub_id = subscribe(db_session, email="ada@example.org", name="Ada").subscriber_id
    assert send_confirmation(
        db_session, subscriber_id=sub_id, sender=sender, settings=current_settings()
    )
    sub = db_session.get(Subscriber, sub_id)
    assert confirm(db_session, token=_confirm_token(sub)) == "confirmed"
    assert send_welcome(
        db_session, subscriber_id=sub_id, sender=sender, settings=current_settings()
    )
    update_preferences(db_session, subscriber_id=sub_id, name="Ada", categories=["China"])
    # Saving without a change records nothing.
    update_preferences(db_session, subscriber_id=sub_id, name="Ada", categories=["China"])
    import_csv(db_session, io.BytesIO(b"email,name,categories\nada@example.org,,AI\n"))
    issue = Issue(
        subject="February dispatch",
        status=IssueStatus.SENT,
        sent_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    db_session.add(issue)
    db_session.flush()
    db_session.add(
        Delivery(
            issue_id=issue.id,
            subscriber_id=sub_id,
            status=DeliveryStatus.SENT,
            message_id="<m1@example.org>",
            sent_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
    )
    db_session.commit()

    kinds = db_session.scalars(
        select(Event.kind).where(Event.subscriber_id == sub_id).order_by(Event.id)
    ).all()
    assert kinds == [
        EventKind.SUBSCRIBE,
        EventKind.EMAIL,
        EventKind.CONFIRM,
        EventKind.EMAIL,
        EventKind.PREFERENCES,
        EventKind.IMPORT,
    ]
    login("admin")
    html = client.get(f"/admin/subscribers/{sub_id}").get_data(as_text=True)
    history = html.split("<h2>History</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td><time[^>]*>[^<]*</time></td><td>([^<]*)</td>", history)
    assert rows[0] == "Issue email sent"  # newest first
    assert "February dispatch" in history
    for what in (
        "Imported",
        "Preferences changed",
        "Welcome email sent",
        "Confirmed",
        "Confirmation email sent",
        "Signed up",
    ):
        assert what in rows, what
    assert "topics: China" in history
    assert "updated by a CSV import" in history


def test_imports_record_one_event_per_created_or_changed_address(app, db_session, categories):
    add(db_session, "same@example.org")
    add(db_session, "changed@example.org", status=SubscriberStatus.PENDING)
    csv_bytes = (
        b"email,name,categories\n"
        b"new@example.org,New,AI|China\n"
        b"same@example.org,,\n"  # unchanged: no event
        b"changed@example.org,,\n"
        b"broken,,\n"  # failed: no subscriber, no event
    )
    report = import_csv(db_session, io.BytesIO(csv_bytes), confirmed=True, source="admin-import")
    assert (report.created, report.updated, report.unchanged, report.failed) == (1, 1, 1, 1)
    rows = db_session.execute(
        select(Subscriber.email, Event.data)
        .join(Event, Event.subscriber_id == Subscriber.id)
        .where(Event.kind == EventKind.IMPORT)
        .order_by(Subscriber.email)
    ).all()
    assert rows == [
        (
            "changed@example.org",
            {"source": "admin-import", "result": "updated", "status": "active"},
        ),
        ("new@example.org", {"source": "admin-import", "result": "created", "status": "active"}),
    ]


def test_subscribers_added_through_the_api_have_a_history(
    client, login, db_session, api_token, tasks
):
    response = client.post(
        "/api/v1/subscribers",
        json={"email": "api@example.org", "status": "active"},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    login("admin")
    html = client.get(f"/admin/subscribers/{response.get_json()['id']}").get_data(as_text=True)
    assert "by an admin via api, active" in html


def test_admin_status_changes_are_in_the_history(client, login, db_session):
    login("admin")
    sub = add(db_session, status=SubscriberStatus.PENDING)
    token = csrf_token_from(client.get(f"/admin/subscribers/{sub.id}").get_data(as_text=True))
    url = f"/admin/subscribers/{sub.id}/status"
    client.post(url, data={"csrf_token": token, "status": "active"})
    client.post(url, data={"csrf_token": token, "status": "blocked", "confirmed": "yes"})
    html = client.get(f"/admin/subscribers/{sub.id}").get_data(as_text=True)
    assert "pending → active by an admin" in html
    assert "active → blocked by an admin" in html


def test_import_page_explains_the_file_and_the_category_separator(client, login, categories):
    login("admin")
    listing = client.get("/admin/subscribers/").get_data(as_text=True)
    assert 'href="/admin/subscribers/import"' in listing
    page = client.get("/admin/subscribers/import")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "separated by <code>|</code>" in html and "AI|China" in html
    assert 'enctype="multipart/form-data"' in html and 'action="/admin/subscribers/import"' in html
    assert "AI: Large Language Models" in html  # the known categories, by full name


def test_readme_says_how_categories_are_separated():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert "separated by `|`" in readme
    assert "--excel" in readme and "NEWSLETTER_SITE_DESCRIPTION" in readme


def test_excel_export_starts_with_a_bom_and_imports_back(client, login, db_session, tasks):
    add(db_session, "zoe@example.org", name="Zoë Ünal")
    login("admin")
    listing = client.get("/admin/subscribers/").get_data(as_text=True)
    assert 'href="/admin/subscribers/export.csv?excel=1"' in listing
    plain = client.get("/admin/subscribers/export.csv")
    excel = client.get("/admin/subscribers/export.csv?excel=1")
    assert excel.status_code == 200 and excel.mimetype == "text/csv"
    assert excel.headers["Content-Disposition"] == "attachment; filename=subscribers-excel.csv"
    assert excel.data.startswith(b"\xef\xbb\xbfid,email,name,")
    assert excel.data == b"\xef\xbb\xbf" + plain.data
    assert not plain.data.startswith(b"\xef\xbb\xbf")
    assert "Zoë Ünal".encode() in excel.data
    # JSON never gets a BOM, whatever the query says.
    assert client.get("/admin/subscribers/export.json?excel=1").data.startswith(b"[")
    db_session.query(Subscriber).delete()
    db_session.commit()
    report = import_csv(db_session, io.BytesIO(excel.data), confirmed=True)
    assert report.created == 1 and report.failed == 0
    assert db_session.scalar(select(Subscriber.name)) == "Zoë Ünal"


def test_cli_excel_export(app, db_session):
    add(db_session, "zoe@example.org", name="Zoë")
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--excel"])
    assert result.exit_code == 0
    assert result.output.startswith("\ufeffid,email,name,")
    assert not runner.invoke(cli, ["export"]).output.startswith("\ufeff")
    wrong = runner.invoke(cli, ["export", "--format", "json", "--excel"])
    assert wrong.exit_code != 0 and "--excel" in wrong.output


def _confirm_token(sub: Subscriber):
    from newsletter.subscribers.tokens import read_token

    return read_token(Purpose.CONFIRM, make_token(Purpose.CONFIRM, sub.id, sub.email))
