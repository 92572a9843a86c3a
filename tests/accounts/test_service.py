"""Users and API tokens: argon2 hashes, tokens stored only as digests."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from newsletter.accounts import (
    AccountError,
    authenticate,
    create_api_token,
    create_user,
    revoke_api_token,
    user_for_token,
)
from newsletter.models import ApiToken, User


def test_password_is_hashed_with_argon2(db_session):
    user = create_user(db_session, email="A@Example.org", password="long enough pw", role="author")
    assert user.email == "a@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert "long enough pw" not in user.password_hash


def test_authenticate(db_session):
    create_user(db_session, email="a@example.org", password="long enough pw", role="admin")
    assert authenticate(db_session, email="A@example.org", password="long enough pw") is not None
    assert authenticate(db_session, email="a@example.org", password="wrong password") is None
    assert authenticate(db_session, email="nobody@example.org", password="long enough pw") is None


@pytest.mark.parametrize(
    ("email", "password", "role", "message"),
    [
        ("not-an-email", "long enough pw", "author", "invalid email"),
        ("a@example.org", "short", "author", "at least 10"),
        ("a@example.org", "long enough pw", "owner", "role must be"),
    ],
)
def test_bad_user_input_changes_nothing(db_session, email, password, role, message):
    with pytest.raises(AccountError, match=message):
        create_user(db_session, email=email, password=password, role=role)
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


def test_duplicate_user_is_refused_case_insensitively(db_session):
    create_user(db_session, email="a@example.org", password="long enough pw", role="author")
    with pytest.raises(AccountError, match="already exists"):
        create_user(db_session, email="A@EXAMPLE.ORG", password="long enough pw", role="author")
    assert db_session.scalar(select(func.count()).select_from(User)) == 1


def test_token_lifecycle(db_session):
    token = create_api_token(db_session, name="ci")
    stored = db_session.scalar(select(ApiToken))
    assert token.startswith("nl_") and len(token) > 40
    assert stored.token_hash != token and token not in stored.token_hash
    assert user_for_token(db_session, token).name == "ci"
    assert user_for_token(db_session, token + "x") is None
    assert user_for_token(db_session, "garbage") is None
    revoke_api_token(db_session, name="ci")
    assert user_for_token(db_session, token) is None
    with pytest.raises(AccountError, match="no active token"):
        revoke_api_token(db_session, name="ci")


def test_duplicate_token_name_refused(db_session):
    create_api_token(db_session, name="ci")
    with pytest.raises(AccountError, match="already exists"):
        create_api_token(db_session, name="ci")
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == 1
