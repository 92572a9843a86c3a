"""Authors, admins and API tokens: the people and scripts allowed in."""

from .service import (
    AccountError,
    authenticate,
    change_password,
    check_new_password,
    create_api_token,
    create_user,
    end_sessions,
    revoke_api_token,
    session_user,
    set_password,
    user_for_token,
)

__all__ = [
    "AccountError",
    "authenticate",
    "change_password",
    "check_new_password",
    "create_api_token",
    "create_user",
    "end_sessions",
    "revoke_api_token",
    "session_user",
    "set_password",
    "user_for_token",
]
