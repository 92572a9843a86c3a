"""People who log in (authors, admins) and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TimestampMixin, str_enum


class Role(enum.StrEnum):
    """What a user may do: `author` (the author pages) or `admin` (everything an author may,
    plus the admin pages).
    """

    AUTHOR = "author"
    ADMIN = "admin"


class User(TimestampMixin, Base):
    """An author or admin who logs in; the password is an argon2 hash, the email lower-case."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lower"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.AUTHOR)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # Part of every login session's id: raising it ends every session of this user
    # on the server (logout, password change), however old a copy of the cookie is.
    session_version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        """Flask-Login: always True for a loaded user (anonymous visitors are another class)."""
        return True

    @property
    def is_active(self) -> bool:
        """Flask-Login: False for a deactivated account, which then cannot log in."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Flask-Login: always False for a real user."""
        return False

    def get_id(self) -> str:
        """What the session (and a remember cookie) stores: "<id>:<session_version>"."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        """True for the admin role (admin pages and user management)."""
        return self.role == Role.ADMIN


class ApiToken(TimestampMixin, Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
