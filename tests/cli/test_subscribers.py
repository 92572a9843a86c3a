"""Admin pages and the `newsletter subscribers` commands."""

from __future__ import annotations

import io
import json

from click.testing import CliRunner
from sqlalchemy import select

from newsletter.cli.subscribers import subscribers as cli
from newsletter.models import Subscriber, SubscriberStatus
from tests.conftest import csrf_token_from
from tests.subscribers.conftest import snapshot


def add(db_session, email, status=SubscriberStatus.ACTIVE, **fields):
    sub = Subscriber(email=email, status=status, attributes={}, **fields)
    db_session.add(sub)
    db_session.commit()
    return sub


def test_admin_pages_need_an_admin(client, login):
    assert client.get("/admin/subscribers/").status_code == 302  # to the login page
    login("author")
    assert client.get("/admin/subscribers/").status_code == 403


def test_admin_list_filters_and_keyset_paging(client, login, db_session, categories, monkeypatch):
    from newsletter.web.admin import subscribers as admin_subscribers

    monkeypatch.setattr(admin_subscribers, "PAGE_SIZE", 2)
    login("admin")
    for i in range(5):
        add(db_session, f"u{i}@example.org", name=f"User {i}")
    add(db_session, "info@mailinator.com", status=SubscriberStatus.PENDING, is_disposable=True)
    html = client.get("/admin/subscribers/").get_data(as_text=True)
    assert "info@mailinator.com" in html and "u4@example.org" in html and "u3@" not in html
    assert "disposable" in html
    next_link = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    html2 = client.get(next_link).get_data(as_text=True)
    assert "u3@example.org" in html2 and "u2@example.org" in html2 and "u4@" not in html2
    pending = client.get("/admin/subscribers/?status=pending").get_data(as_text=True)
    assert "info@mailinator.com" in pending and "u1@" not in pending
    search = client.get("/admin/subscribers/?q=user+2").get_data(as_text=True)
    assert "u2@example.org" in search and "u1@" not in search
    bad = client.get("/admin/subscribers/?status=sleeping")
    assert bad.status_code == 422


def test_admin_detail_history_and_actions(client, login, db_session, tasks):
    login("admin")
    from newsletter.subscribers import subscribe

    sub_id = subscribe(db_session, email="ada@example.org", name="Ada").subscriber_id
    html = client.get(f"/admin/subscribers/{sub_id}").get_data(as_text=True)
    assert "ada@example.org" in html and "subscribe" in html and "Mark as confirmed" in html
    token = csrf_token_from(html)
    # Without the CSRF token nothing changes.
    before = snapshot(db_session)
    assert (
        client.post(f"/admin/subscribers/{sub_id}/status", data={"status": "blocked"}).status_code
        == 400
    )
    assert snapshot(db_session) == before
    client.post(
        f"/admin/subscribers/{sub_id}/status",
        data={"status": "blocked", "csrf_token": token, "confirmed": "yes"},
    )
    db_session.expire_all()
    assert db_session.get(Subscriber, sub_id).status is SubscriberStatus.BLOCKED
    client.post(
        f"/admin/subscribers/{sub_id}/erase", data={"csrf_token": token, "confirmed": "yes"}
    )
    db_session.expire_all()
    assert db_session.get(Subscriber, sub_id) is None


def test_admin_upload_and_export(client, login, db_session, tasks):
    login("admin")
    token = csrf_token_from(client.get("/admin/subscribers/").get_data(as_text=True))
    response = client.post(
        "/admin/subscribers/import",
        data={
            "csrf_token": token,
            "confirmed": "on",
            "file": (io.BytesIO(b"email,name\nada@example.org,=cmd\nnope,X\n"), "list.csv"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 created" in html and "line 3: " in html
    exported = client.get("/admin/subscribers/export.csv").get_data(as_text=True)
    assert "ada@example.org,'=cmd,active" in exported
    before = snapshot(db_session)
    bad = client.post(
        "/admin/subscribers/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"name\nx\n"), "list.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "no &#39;email&#39; column" in bad.get_data(as_text=True)
    assert snapshot(db_session) == before


def test_cli_import_and_export(app, db_session, categories, tasks, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("email,name,categories\nAda@example.org,Ada,AI\nbad,X,\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["import", str(path), "--confirmed", "--categories", "China"])
    assert result.exit_code == 0, result.output
    assert "line 3: " in result.output and "1 created" in result.output
    ada = db_session.scalar(select(Subscriber).where(Subscriber.email == "ada@example.org"))
    assert ada.status is SubscriberStatus.ACTIVE
    assert [c.name for c in ada.categories] == ["AI", "China"]
    exported = runner.invoke(cli, ["export", "--format", "json"])
    assert exported.exit_code == 0
    assert json.loads(exported.output)[0]["categories"] == ["AI", "China"]
    csv_out = runner.invoke(cli, ["export"])
    assert (
        csv_out.output.splitlines()[0] == "id,email,name,status,categories,created_at,confirmed_at"
    )


def test_cli_import_errors_change_nothing(app, db_session, categories, tasks, tmp_path):
    runner = CliRunner()
    before = snapshot(db_session)
    missing = runner.invoke(cli, ["import", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0 and "cannot read" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name\nx\n")
    result = runner.invoke(cli, ["import", str(bad)])
    assert result.exit_code == 1 and "line 1: no 'email' column" in result.output
    good = tmp_path / "good.csv"
    good.write_text("email\nada@example.org\n")
    unknown = runner.invoke(cli, ["import", str(good), "--categories", "Cooking"])
    assert unknown.exit_code == 1 and "unknown category" in unknown.output
    assert snapshot(db_session) == before
