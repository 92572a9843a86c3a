"""Login, logout, CSRF, rate limits, cookies and redirects."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsletter.models import User
from tests.conftest import csrf_token_from, make_test_app


def _form(client):
    return csrf_token_from(client.get("/login").get_data(as_text=True))


def test_author_area_needs_login(client):
    response = client.get("/author/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_login_and_logout(client, make_user, db_session):
    user, password = make_user(role="author")
    response = client.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": _form(client)}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/author/"
    assert client.get("/author/").status_code == 200
    assert db_session.scalar(select(User.last_login_at)) is not None

    page = client.get("/author/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token_from(page)}).status_code == 302
    assert client.get("/author/").status_code == 302


def test_wrong_password_is_401_and_logs_nobody_in(client, make_user):
    user, _ = make_user()
    response = client.post(
        "/login",
        data={"email": user.email, "password": "not the password", "csrf_token": _form(client)},
    )
    assert response.status_code == 401
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/author/").status_code == 302


def test_login_without_csrf_token_is_refused(client, make_user):
    user, password = make_user()
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 400
    assert client.get("/author/").status_code == 302


def test_authors_cannot_open_the_admin_area(client, login):
    login("author")
    assert client.get("/admin/").status_code == 403


def test_admins_can_open_both_areas(client, login):
    login("admin")
    assert client.get("/admin/").status_code == 200
    assert client.get("/author/").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_next_parameter_is_never_an_open_redirect(client, make_user, target):
    user, password = make_user()
    response = client.post(
        f"/login?next={target}",
        data={"email": user.email, "password": password, "csrf_token": _form(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/author/"


def test_next_parameter_keeps_local_paths(client, make_user):
    user, password = make_user()
    response = client.post(
        "/login?next=/author/?x=1",
        data={"email": user.email, "password": password, "csrf_token": _form(client)},
    )
    assert response.headers["Location"] == "/author/?x=1"


def test_login_is_rate_limited(connection, tmp_path, make_user):
    app = make_test_app(connection, tmp_path, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        user, _ = make_user()
    token = _form(client)
    codes = [
        client.post(
            "/login", data={"email": user.email, "password": "wrong!!", "csrf_token": token}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_session_cookie_flags(connection, tmp_path, make_user):
    app = make_test_app(connection, tmp_path, BASE_URL="https://news.example.org")
    client = app.test_client()
    with app.app_context():
        user, password = make_user()
    page = client.get("/login", base_url="https://news.example.org").get_data(as_text=True)
    token = csrf_token_from(page)
    response = client.post(
        "/login",
        data={"email": user.email, "password": password, "csrf_token": token},
        base_url="https://news.example.org",
        headers={"Referer": "https://news.example.org/login"},  # Flask-WTF checks it on HTTPS
    )
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
