"""Exports (CSV/JSON, formula injection), the JSON API, GDPR export and erase."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from newsletter.models import (
    Event,
    EventKind,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
)
from newsletter.subscribers import is_suppressed, subscribe
from newsletter.subscribers.exporter import defuse_formula, export_csv, export_json

from .conftest import snapshot


def add(db_session, email, status=SubscriberStatus.ACTIVE, name="", categories=()):
    sub = Subscriber(email=email, name=name, status=status, attributes={})
    sub.categories = list(categories)
    db_session.add(sub)
    db_session.commit()
    return sub


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("Ada", "Ada")],
)
def test_neutralize(cell, expected):
    assert defuse_formula(cell) == expected


def test_csv_export_neutralizes_formulas_and_round_trips(app, db_session, categories, tasks):
    add(
        db_session,
        "ada@example.org",
        name='=HYPERLINK("http://evil")',
        categories=[categories["AI"]],
    )
    add(
        db_session,
        "-x@example.org",
        name="@cmd",
        categories=[categories["AI"], categories["China"]],
    )
    rows = list(csv.DictReader(io.StringIO("".join(export_csv(db_session)))))
    assert [r["email"] for r in rows] == ["ada@example.org", "'-x@example.org"]
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil")'
    assert rows[1]["name"] == "'@cmd" and rows[1]["categories"] == "AI|China"
    data = json.loads("".join(export_json(db_session)))
    assert data[1] == {
        "id": data[1]["id"],
        "email": "-x@example.org",
        "name": "@cmd",
        "status": "active",
        "categories": ["AI", "China"],
        "created_at": data[1]["created_at"],
        "confirmed_at": None,
    }


def test_api_requires_a_token(client, db_session):
    assert client.get("/api/v1/subscribers").status_code == 401
    assert client.post("/api/v1/subscribers", json={"email": "a@example.org"}).status_code == 401


def test_api_create_list_and_keyset_paging(client, db_session, api_token, categories, tasks):
    created = client.post(
        "/api/v1/subscribers",
        json={"email": "Ada@example.org", "name": "Ada", "categories": ["AI"]},
        headers=auth(api_token),
    )
    assert created.status_code == 201
    body = created.json
    assert set(body) == {
        "id",
        "email",
        "name",
        "status",
        "categories",
        "created_at",
        "confirmed_at",
    }
    assert (body["email"], body["status"], body["categories"]) == (
        "ada@example.org",
        "pending",
        ["AI"],
    )
    assert tasks == [("subscribers.send_confirmation", (body["id"],))]
    for i in range(4):
        add(db_session, f"u{i}@example.org")
    page = client.get("/api/v1/subscribers?limit=2", headers=auth(api_token)).json
    assert [s["email"] for s in page["items"]] == ["ada@example.org", "u0@example.org"]
    page2 = client.get(
        f"/api/v1/subscribers?limit=2&cursor={page['next']}", headers=auth(api_token)
    ).json
    page3 = client.get(
        f"/api/v1/subscribers?limit=2&cursor={page2['next']}", headers=auth(api_token)
    ).json
    assert [s["email"] for s in page2["items"] + page3["items"]] == [
        f"u{i}@example.org" for i in (1, 2, 3)
    ]
    assert page3["next"] is None
    filtered = client.get(
        "/api/v1/subscribers?status=pending&category=AI", headers=auth(api_token)
    ).json
    assert [s["email"] for s in filtered["items"]] == ["ada@example.org"]
    assert (
        client.get("/api/v1/subscribers?q=U2", headers=auth(api_token)).json["items"][0]["email"]
        == "u2@example.org"
    )


@pytest.mark.parametrize(
    ("method", "url", "payload", "status", "code"),
    [
        ("post", "/api/v1/subscribers", {"email": "nope"}, 422, "invalid_email"),
        (
            "post",
            "/api/v1/subscribers",
            {"email": "a@example.org", "categories": ["Cooking"]},
            422,
            "validation_error",
        ),
        (
            "post",
            "/api/v1/subscribers",
            {"email": "a@example.org", "status": "blocked"},
            422,
            "validation_error",
        ),
        (
            "post",
            "/api/v1/subscribers",
            {"email": "a@example.org", "extra": 1},
            422,
            "validation_error",
        ),
        ("post", "/api/v1/subscribers", {"email": "taken@example.org"}, 409, "conflict"),
        ("get", "/api/v1/subscribers?cursor=garbage", None, 422, "validation_error"),
        ("get", "/api/v1/subscribers?status=sleeping", None, 422, "validation_error"),
        ("get", "/api/v1/subscribers?limit=100000", None, 422, "validation_error"),
        ("get", "/api/v1/subscribers/999999", None, 404, "not_found"),
        ("patch", "/api/v1/subscribers/999999", {"name": "x"}, 404, "not_found"),
        ("delete", "/api/v1/subscribers/999999", None, 404, "not_found"),
        ("get", "/api/v1/subscribers/999999/export", None, 404, "not_found"),
    ],
)
def test_api_bad_input_changes_nothing(
    client, db_session, api_token, categories, tasks, method, url, payload, status, code
):
    add(db_session, "taken@example.org")
    before = snapshot(db_session)
    kwargs = {"headers": auth(api_token)}
    if payload is not None:
        kwargs["json"] = payload
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert snapshot(db_session) == before
    assert tasks == []


def test_api_patch_rules(client, db_session, api_token, categories, tasks):
    sub = add(db_session, "ada@example.org", status=SubscriberStatus.PENDING)
    url = f"/api/v1/subscribers/{sub.id}"
    ok = client.patch(
        url,
        json={"name": "Ada", "categories": ["China"], "status": "active"},
        headers=auth(api_token),
    )
    assert (
        ok.status_code == 200
        and ok.json["status"] == "active"
        and ok.json["categories"] == ["China"]
    )
    gone = client.patch(url, json={"status": "unsubscribed"}, headers=auth(api_token))
    assert gone.json["status"] == "unsubscribed"
    before = snapshot(db_session)
    back = client.patch(url, json={"status": "active", "name": "Changed"}, headers=auth(api_token))
    assert back.status_code == 409  # only the person confirming again
    assert snapshot(db_session) == before
    blocked = client.patch(url, json={"status": "blocked"}, headers=auth(api_token))
    assert blocked.json["status"] == "blocked"
    assert db_session.scalar(select(Suppression.reason)) is SuppressionReason.BLOCKED


def test_api_import_csv_body_and_multipart(client, db_session, api_token, categories, tasks):
    body = "email;name;categories\nada@example.org;Ada;AI\nbad;X;\n"
    response = client.post(
        "/api/v1/subscribers/import?confirmed=true",
        data=body.encode(),
        content_type="text/csv",
        headers=auth(api_token),
    )
    assert response.status_code == 200
    assert response.json["created"] == 1 and len(response.json["errors"]) == 1
    assert response.json["errors"][0].startswith("line 3: ")
    multipart = client.post(
        "/api/v1/subscribers/import",
        data={"file": (io.BytesIO(b"email\nbob@example.org\n"), "list.csv")},
        content_type="multipart/form-data",
        headers=auth(api_token),
    )
    assert multipart.status_code == 200 and multipart.json["created"] == 1
    bob = db_session.scalar(select(Subscriber).where(Subscriber.email == "bob@example.org"))
    assert bob.status is SubscriberStatus.PENDING


def test_api_import_bad_files_change_nothing(client, db_session, api_token, tasks):
    before = snapshot(db_session)
    cases = [
        ({"data": b"name\nAda\n", "content_type": "text/csv"}, 422, "invalid_csv"),
        ({"data": b"email\n\xff\n", "content_type": "text/csv"}, 422, "invalid_csv"),
        ({"data": b"{}", "content_type": "application/json"}, 415, "unsupported_media_type"),
        ({"data": {}, "content_type": "multipart/form-data"}, 400, "missing_file"),
    ]
    for kwargs, status, code in cases:
        response = client.post("/api/v1/subscribers/import", headers=auth(api_token), **kwargs)
        assert (response.status_code, response.json["error"]["code"]) == (status, code)
    unknown = client.post(
        "/api/v1/subscribers/import?categories=Cooking",
        data=b"email\na@example.org\n",
        content_type="text/csv",
        headers=auth(api_token),
    )
    assert unknown.status_code == 422
    assert snapshot(db_session) == before


def test_gdpr_export_and_erase(client, db_session, api_token, tasks):
    result = subscribe(db_session, email="ada@example.org", name="Ada", ip="192.0.2.1")
    exported = client.get(
        f"/api/v1/subscribers/{result.subscriber_id}/export", headers=auth(api_token)
    )
    assert exported.status_code == 200
    data = exported.json
    assert data["subscriber"]["email"] == "ada@example.org"
    assert data["subscriber"]["signup_ip"] == "192.0.2.1"
    assert [e["kind"] for e in data["events"]] == ["subscribe"]
    assert data["suppression"] is None

    erased = client.delete(f"/api/v1/subscribers/{result.subscriber_id}", headers=auth(api_token))
    assert erased.status_code == 204
    db_session.expire_all()
    assert db_session.get(Subscriber, result.subscriber_id) is None
    assert (
        db_session.scalar(
            select(func.count()).select_from(Event).where(Event.kind == EventKind.SUBSCRIBE)
        )
        == 0
    )
    assert is_suppressed(db_session, "ADA@example.org")
    suppression = db_session.scalar(select(Suppression))
    assert suppression.reason is SuppressionReason.ERASED and "ada" not in suppression.note
    # The address is not re-created by import, nor by the API; only by signing up and confirming.
    response = client.post(
        "/api/v1/subscribers",
        json={"email": "ada@example.org", "status": "active"},
        headers=auth(api_token),
    )
    assert response.status_code == 409
