"""A NUL character or a lone surrogate in any text a user sends is refused at the edge.

The fault: such text reached the database (PostgreSQL: "text fields cannot contain
NUL (0x00) bytes"; a lone surrogate cannot even be encoded as UTF-8) and answered
500. Now every entry point answers a 4xx: the API and JSON clients get
`{"error": {"code", "message"}}`, browsers a 400 page; nothing changes.
Every test runs on SQLite and PostgreSQL (the `client` fixture).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from newsletter.models import Category, Event, Post, Subscriber
from newsletter.storable import unstorable
from tests.conftest import csrf_token_from

BAD = {"nul": "\x00", "surrogate": "\ud800", "low surrogate": "\udfff"}
BAD_PARAMS = pytest.mark.parametrize("bad", list(BAD.values()), ids=list(BAD))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def counts(db_session) -> tuple[int, ...]:
    db_session.expire_all()
    return tuple(
        db_session.scalar(select(func.count()).select_from(model))
        for model in (Subscriber, Event, Category, Post)
    )


def json_body(value: object) -> bytes:
    """JSON text with every non-ASCII character \\u-escaped, the way a client sends a lone surrogate."""
    import json

    return json.dumps(value, ensure_ascii=True).encode()


def assert_api_error(response, status: int = 422) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.json["error"]
    assert error["code"] == "invalid_text"
    assert "U+" in error["message"]


@BAD_PARAMS
def test_api_json_body(client, db_session, api_token, bad):
    before = counts(db_session)
    for path, body in [
        ("/api/v1/subscribers", {"email": "ada@example.org", "categories": [f"AI{bad}"]}),
        ("/api/v1/subscribers", {"email": "ada@example.org", "name": f"Ada{bad}"}),
        ("/api/v1/issues", {"subject": f"Hello{bad}", "categories": ["x"]}),
        ("/api/v1/posts", {"content": f"# Title\n\nbody{bad}", "format": "markdown"}),
        ("/api/v1/subscribers", {f"key{bad}": "x", "email": "ada@example.org"}),  # in a key
    ]:
        response = client.post(
            path, data=json_body(body), content_type="application/json", headers=auth(api_token)
        )
        assert_api_error(response)
        assert "JSON body" in response.json["error"]["message"]
    assert counts(db_session) == before


@BAD_PARAMS
def test_api_query_string(client, db_session, api_token, bad):
    quoted = bad.encode("utf-8", "surrogatepass")
    for path, name in [
        ("/api/v1/posts", b"category"),
        ("/api/v1/posts", b"q"),
        ("/api/v1/subscribers", b"q"),
        ("/api/v1/subscribers", b"category"),
    ]:
        query = name + b"=x" + b"".join(b"%%%02X" % byte for byte in quoted)
        response = client.get(f"{path}?{query.decode()}", headers=auth(api_token))
        if bad == "\x00":
            assert_api_error(response)
        else:
            # Surrogates are not valid UTF-8, so no query string can carry one: the
            # bytes stay percent-encoded text, an unknown category at worst.
            assert response.status_code in (200, 422), response.get_data(as_text=True)
            assert response.json.get("error", {}).get("code") != "invalid_text"


def test_every_api_operation_documents_the_422(client):
    doc = client.get("/api/v1/openapi.json").json
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert "422" in operation["responses"], (method, path)


def test_api_path(client, db_session, api_token):
    for url in ["/api/v1/posts/1%00", "/api/v1/nowhere%00", "/api/v1/subscribers/%00/export"]:
        response = client.get(url, headers=auth(api_token))
        assert_api_error(response)
        assert "the URL path" in response.json["error"]["message"]


def test_subscribe_json_and_form(client, db_session):
    before = counts(db_session)
    as_json = client.post(
        "/subscribe",
        data=json_body({"email": "ada@example.org", "name": "A\x00"}),
        content_type="application/json",
    )
    assert_api_error(as_json)
    surrogate = client.post(
        "/subscribe",
        data=json_body({"email": "ada\ud800@example.org"}),
        content_type="application/json",
    )
    assert_api_error(surrogate)
    form = client.post("/subscribe", data={"email": "ada@example.org", "name": "Ada\x00"})
    assert form.status_code == 400 and form.mimetype == "text/html"
    page = form.get_data(as_text=True)
    assert "NUL" in page and "name" in page
    assert counts(db_session) == before


def test_query_string_and_path_on_html_pages(client, db_session):
    for url in ["/subscribe?email=a%00b", "/archive?q=%00", "/archive/x%00y", "/confirm/ab%00cd"]:
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.mimetype == "text/html"
        assert "U+0000" in response.get_data(as_text=True)


def test_admin_forms_and_search(client, db_session, login):
    login(role="admin")
    before = counts(db_session)
    search = client.get("/admin/subscribers/?q=ada%00")
    assert search.status_code == 400 and "U+0000" in search.get_data(as_text=True)
    page = client.get("/compose/posts/import").get_data(as_text=True)
    response = client.post(
        "/compose/posts/import",
        data={
            "csrf_token": csrf_token_from(page),
            "content": "# T\n\nx\x00y",
            "format": "markdown",
        },
    )
    assert response.status_code == 400 and "U+0000" in response.get_data(as_text=True)
    assert counts(db_session) == before


def test_csv_upload_through_the_api_reports_the_line(client, db_session, api_token, app):
    from tests.subscribers.conftest import snapshot  # noqa: F401  (same tables)

    response = client.post(
        "/api/v1/subscribers/import?confirmed=true",
        data=b"email,name\nada@example.org,Ada\nbob@example.org,B\x00b\ncy@exa\x00mple.org,\n",
        content_type="text/csv",
        headers=auth(api_token),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["created"] == 1
    assert [e.split(":")[0] for e in response.json["errors"]] == ["line 3", "line 4"]
    assert all("U+0000" in e for e in response.json["errors"])
    emails = set(db_session.scalars(select(Subscriber.email)))
    assert emails == {"ada@example.org"}


# Plain st.text() almost never draws NUL or a surrogate (that is how the fault slipped
# through random runs but once), so they are mixed in on purpose.
TRICKY = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80", "\u2028", "\ufeff", "\x7f"])
ANY_TEXT = st.lists(
    st.one_of(TRICKY, st.characters(codec=None, exclude_categories=())), max_size=12
).map("".join)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=ANY_TEXT)
def test_any_text_in_any_field_is_stored_or_refused_never_a_500(
    client, db_session, api_token, text
):
    """Property (derandomized by the profile in tests/conftest.py): 201/202 or a clean 4xx."""
    for path, body, headers in [
        ("/api/v1/subscribers", {"email": "p@example.org", "name": text}, auth(api_token)),
        ("/api/v1/subscribers", {"email": "p@example.org", "categories": [text]}, auth(api_token)),
        ("/subscribe", {"email": "q@example.org", "name": text}, {}),
        ("/subscribe", {"email": f"{text}@example.org"}, {}),
    ]:
        response = client.post(
            path, data=json_body(body), content_type="application/json", headers=headers
        )
        assert response.status_code < 500, (path, repr(text), response.get_data(as_text=True))
        assert response.is_json
        if response.status_code >= 400:
            assert set(response.json["error"]) >= {"code", "message"}
        if unstorable(text) is not None:
            assert response.json["error"]["code"] == "invalid_text"
