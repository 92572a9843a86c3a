"""Account services: passwords hashed with argon2, API tokens stored as SHA-256."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsletter.models import ApiToken, Role, User, utcnow
from newsletter.models.base import MAX_ID

TOKEN_PREFIX = "nl_"  # noqa: S105 - a public prefix that makes leaked tokens greppable
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1000  # the login form's limit; argon2 hashes any length, slowly
_SESSION_ID = re.compile(r"([0-9]{1,10}):([0-9]{1,12})")  # ASCII digits; str.isdigit takes "١"
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against a real hash when the user does not exist keeps timing equal.
    Made on first use, not at import: every CLI command and worker imports this module,
    and one argon2 hash is about 90 ms of each start."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message says why."""


@dataclass(frozen=True, slots=True)
class TokenPrincipal:
    """Who a valid API token acts for."""

    token_id: int
    name: str
    user_id: int | None


def normalize_login_email(email: str) -> str:
    """The login address, normalised and lower-cased; AccountError if it is not an address."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"invalid email address: {exc}") from None


def create_user(session: Session, *, email: str, password: str, role: Role | str) -> User:
    """A new author or admin with an argon2-hashed password; commits.

    Raises AccountError for a bad address, an unknown role, a password outside 10-1000
    characters (check_new_password) or an address already taken.
    """
    email = normalize_login_email(email)
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(f"role must be author or admin (got {role!r})") from None
    check_new_password(password)
    user = User(email=email, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError(f"a user with email {email} already exists") from None
    return user


def check_new_password(password: str) -> None:
    """Raise AccountError unless `password` is 10-1000 characters of encodable text
    (NIST SP 800-63B 5.1.1.2: a length floor, no composition rules)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    try:
        password.encode("utf-8")  # argon2 hashes UTF-8; a lone surrogate (bad stdin bytes) has none
    except UnicodeEncodeError:
        raise AccountError("password must be valid UTF-8 text") from None


def session_user(session: Session, session_id: str) -> User | None:
    """The user a login session's id ("<user id>:<session version>") still stands for.

    None when the id is malformed, the user is gone or inactive, or the version is not the
    user's current one: logout and password changes raise it, so copies of an ended
    session's cookie (or remember cookie) open nothing (OWASP Session Management:
    invalidate on the server, not only in the browser).
    """
    match = _SESSION_ID.fullmatch(session_id)
    if match is None or not 0 < int(match[1]) <= MAX_ID:
        return None
    user = session.get(User, int(match[1]))
    if user is None or not user.active or user.session_version != int(match[2]):
        return None
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """End every login session of the user, everywhere (logout); commits."""
    # In SQL, by id: two logouts at once both count, and a User object from another
    # session (Flask-Login's cached one) need not be attached to this one.
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    session.commit()


def change_password(
    session: Session, user_id: int, *, current_password: str, new_password: str
) -> User:
    """A logged-in user's own change: needs the current password; ends every session of the
    user, and returns the user with the new session version (the caller logs the session
    doing the change in again). AccountError, and nothing changed, for a wrong current
    password or a new one of the wrong length."""
    user = session.get(User, user_id)
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), current_password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        raise AccountError("the current password is wrong") from None
    if user is None or not user.active:
        raise AccountError("this account no longer exists")
    check_new_password(new_password)
    _set_password(session, user, new_password)
    return user


def set_password(session: Session, *, email: str, new_password: str) -> User:
    """The operator's reset (CLI): no current password; ends every session of the user.

    AccountError, and nothing changed, for an unknown email or a password of the wrong length.
    """
    check_new_password(new_password)
    email = normalize_login_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise AccountError(f"no user with email {email}")
    _set_password(session, user, new_password)
    return user


def _set_password(session: Session, user: User, new_password: str) -> None:
    user.password_hash = _hasher.hash(new_password)
    session.flush()
    end_sessions(session, user.id)
    session.refresh(user)


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; rehashes outdated hashes."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    session.commit()
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, *, name: str, user_id: int | None = None) -> str:
    """Create a token (`nl_` + 43 URL-safe characters) and return it; only its SHA-256 is
    stored, so this is the one chance to see it. Commits.

    Raises AccountError when `name` (stripped) is empty or over 100 characters, or a token
    of that name exists already (revoked ones included).
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("token name must be 1-100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, token_hash=_token_digest(token), user_id=user_id))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError(f"a token named {name!r} already exists") from None
    return token


def revoke_api_token(session: Session, *, name: str) -> None:
    """Revoke the named, still active token; commits. AccountError if there is none."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(ApiToken)
        .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    revoked = result.rowcount
    if revoked != 1:
        session.rollback()
        raise AccountError(f"no active token named {name!r}")
    session.commit()


def user_for_token(session: Session, token: str) -> TokenPrincipal | None:
    """The principal of a valid, unrevoked token; None for anything else."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    digest = _token_digest(token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        return None
    # The lookup is by digest; compare again in constant time for good measure.
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    return TokenPrincipal(token_id=row.id, name=row.name, user_id=row.user_id)
