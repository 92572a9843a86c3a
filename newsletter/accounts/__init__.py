"""Authors, admins and API tokens: the people and scripts allowed in."""

from .service import (
    AccountError,
    authenticate,
    create_api_token,
    create_user,
    revoke_api_token,
    user_for_token,
)

__all__ = [
    "AccountError",
    "authenticate",
    "create_api_token",
    "create_user",
    "revoke_api_token",
    "user_for_token",
]
