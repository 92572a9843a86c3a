"""Sessions end on the server: logout and password changes kill every copy of a cookie."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy import select

from newsletter.accounts import AccountError, change_password, session_user, set_password
from newsletter.models import User
from tests.conftest import csrf_token_from, make_test_app
from tests.live import run_cli, stack_environment

PASSWORD = "correct horse battery"


@pytest.fixture
def app(connection, tmp_path):
    # No app context held open around the requests (the shared fixture holds one): `g`
    # would then carry Flask-Login's loaded user and Flask-WTF's CSRF token from one
    # request, and one client, to the next, and hide exactly what these tests look at.
    return make_test_app(connection, tmp_path)


def _log_in(client, email: str, password: str = PASSWORD) -> None:
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _copy_cookies(source, target) -> None:
    """What someone who copied the browser's cookies has: the same cookie values."""
    for name in ("session", "remember_token"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def _opens(client, path: str) -> bool:
    response = client.get(path)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/login")
        return False
    assert response.status_code == 200, response.status_code
    return True


def _logout(client) -> None:
    page = client.get("/author/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_token_from(page)}).status_code == 302


@pytest.mark.parametrize(
    ("role", "paths"),
    [("admin", ["/admin/", "/author/"]), ("author", ["/author/", "/author/posts"])],
)
def test_a_cookie_copied_before_logout_is_dead_after_it(app, client, make_user, role, paths):
    user, _ = make_user(email=f"{role}@example.org", role=role)
    _log_in(client, user.email)
    thief = app.test_client()
    _copy_cookies(client, thief)
    assert all(_opens(thief, path) for path in paths)  # the copy works while the session lives

    _logout(client)

    for path in paths:
        assert not _opens(thief, path)
        assert not _opens(client, path)


def test_logout_ends_the_users_other_sessions_too(app, client, make_user):
    # One version per user: logging out ends the session everywhere (the safe reading).
    user, _ = make_user()
    laptop = app.test_client()
    _log_in(client, user.email)
    _log_in(laptop, user.email)
    _logout(client)
    assert not _opens(laptop, "/author/")
    _log_in(laptop, user.email)  # and logging in again works
    assert _opens(laptop, "/author/")


def test_a_remember_cookie_dies_with_the_session(app, client, make_user, db_session):
    from flask_login import login_user

    user, _ = make_user()
    # The login form does not offer "remember me"; should it ever, the cookie carries the
    # same versioned id and dies the same way. Issue one as Flask-Login would.
    with app.test_request_context():
        login_user(user, remember=True)
        from flask import session

        remember_id = session["_user_id"]
    from flask_login.utils import encode_cookie

    with app.app_context():
        remember = encode_cookie(remember_id)
    keeper = app.test_client()
    keeper.set_cookie("remember_token", remember)
    assert _opens(keeper, "/author/")

    _log_in(client, user.email)
    _logout(client)
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert not _opens(fresh, "/author/")


def _change_password_form(client, current: str, new: str, again: str | None = None):
    token = csrf_token_from(client.get("/account/password").get_data(as_text=True))
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if again is None else again,
            "csrf_token": token,
        },
    )


def test_password_change_ends_every_other_session_and_keeps_this_one(app, client, make_user):
    user, _ = make_user(role="admin", email="admin@example.org")
    other = app.test_client()
    _log_in(client, user.email)
    _log_in(other, user.email)
    stolen = app.test_client()
    _copy_cookies(client, stolen)  # a copy of the changing session's old cookie

    response = _change_password_form(client, PASSWORD, "a brand new passphrase")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"

    assert _opens(client, "/admin/")  # session A lives on
    assert not _opens(other, "/admin/")  # session B is dead
    assert not _opens(stolen, "/admin/")  # and so is A's cookie from before the change

    _log_in(other, user.email, "a brand new passphrase")
    assert _opens(other, "/admin/")
    client_bad = app.test_client()
    token = csrf_token_from(client_bad.get("/login").get_data(as_text=True))
    old = client_bad.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert old.status_code == 401


@pytest.mark.parametrize(
    ("current", "new", "again", "message"),
    [
        ("wrong password!", "a brand new passphrase", None, "current password is wrong"),
        (PASSWORD, "short", None, "at least 10"),
        (PASSWORD, "x" * 1001, None, "Field cannot be longer"),
        (PASSWORD, "a brand new passphrase", "a different passphrase", "two new passwords differ"),
        (PASSWORD, "", None, "This field is required"),
    ],
)
def test_bad_password_changes_change_nothing(
    app, client, make_user, db_session, current, new, again, message
):
    user, _ = make_user()
    other = app.test_client()
    _log_in(client, user.email)
    _log_in(other, user.email)
    before = db_session.scalar(select(User.password_hash))

    response = _change_password_form(client, current, new, again)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalar(select(User.password_hash)) == before
    assert _opens(client, "/author/") and _opens(other, "/author/")


def test_password_page_needs_login_and_csrf(app, client, make_user):
    assert not _opens(client, "/account/password")
    user, _ = make_user()
    _log_in(client, user.email)
    page = client.get("/author/").get_data(as_text=True)
    assert 'href="/account/password"' in page
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert _opens(client, "/author/")


def test_admin_pages_link_to_the_password_page(client, login):
    login("admin")
    assert 'href="/account/password"' in client.get("/admin/").get_data(as_text=True)


@pytest.mark.parametrize(
    "session_id",
    [
        "1",
        "1:",
        ":1",
        "1:x",
        "x:1",
        "1:1:1",
        "-1:1",
        "1:01x",
        "",
        "9" * 50 + ":1",
        "١:1",
        "99999999999:1",
        "2147483648:1",
        "1:1\n",
    ],
)
def test_malformed_session_ids_load_nobody(db_session, make_user, session_id):
    make_user()
    assert session_user(db_session, session_id) is None


def test_session_ids_of_inactive_users_load_nobody(db_session, make_user):
    user, _ = make_user()
    assert session_user(db_session, user.get_id()) is user
    user.active = False
    db_session.commit()
    assert session_user(db_session, user.get_id()) is None


def test_service_password_rules(db_session, make_user):
    user, _ = make_user()
    version = user.session_version
    with pytest.raises(AccountError, match="current password is wrong"):
        change_password(db_session, user.id, current_password="nope", new_password="long enough pw")
    with pytest.raises(AccountError, match="no user with email"):
        set_password(db_session, email="ghost@example.org", new_password="long enough pw")
    with pytest.raises(AccountError, match="at least 10"):
        set_password(db_session, email=user.email, new_password="short")
    with pytest.raises(AccountError, match="valid UTF-8"):
        set_password(db_session, email=user.email, new_password="lone \udcff surrogate")
    with pytest.raises(AccountError, match="current password is wrong"):
        change_password(
            db_session, user.id, current_password="\ud800", new_password="long enough pw"
        )
    assert user.session_version == version
    set_password(db_session, email=user.email.upper(), new_password="long enough pw")
    assert user.session_version == version + 1


# --- the command line: a reset by the operator ends every session -----------------------


@pytest.fixture
def run(tmp_path):
    env = stack_environment(tmp_path, NEWSLETTER_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    _run = functools.partial(run_cli, env)
    assert _run("db", "upgrade").returncode == 0
    result = _run("users", "create", "writer@example.org", "--role", "admin", input=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    _run.env = env  # type: ignore[attr-defined]
    return _run


def test_cli_password_change_ends_every_session(run, tmp_path):
    web = make_test_app(
        None, tmp_path, DATABASE_URL=run.env["NEWSLETTER_DATABASE_URL"], DB_BIND=None
    )
    first, second = web.test_client(), web.test_client()
    _log_in(first, "writer@example.org")
    _log_in(second, "writer@example.org")
    assert _opens(first, "/admin/") and _opens(second, "/admin/")

    result = run("users", "password", "Writer@Example.org", input="a brand new passphrase\n")

    assert result.returncode == 0, result.stderr
    assert "writer@example.org" in result.stdout
    assert not _opens(first, "/admin/") and not _opens(second, "/admin/")
    _log_in(first, "writer@example.org", "a brand new passphrase")
    assert _opens(first, "/admin/")


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        ("ghost@example.org", "a brand new passphrase\n", "error: no user with email"),
        ("writer@example.org", "short\n", "error: password must be at least 10"),
        ("writer@example.org", "", "error: no password on stdin"),
        ("not-an-email", "a brand new passphrase\n", "error: invalid email address"),
        ("writer@example.org", "x" * 1001 + "\n", "error: password must be at most 1000"),
    ],
)
def test_cli_password_errors_are_one_line_and_change_nothing(run, tmp_path, email, stdin, message):
    web = make_test_app(
        None, tmp_path, DATABASE_URL=run.env["NEWSLETTER_DATABASE_URL"], DB_BIND=None
    )
    browser = web.test_client()
    _log_in(browser, "writer@example.org")

    result = run("users", "password", email, input=stdin)

    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(message), result.stderr
    assert _opens(browser, "/admin/")


def test_password_form_guesses_are_rate_limited(connection, tmp_path, make_user):
    # The form tests the current password, so a stolen live session must not guess it freely.
    app = make_test_app(connection, tmp_path, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    user, _ = make_user()
    _log_in(client, user.email)
    statuses = [
        _change_password_form(client, f"guess number {n}", "a brand new passphrase").status_code
        for n in range(3)
    ]
    assert statuses == [422, 422, 429]
