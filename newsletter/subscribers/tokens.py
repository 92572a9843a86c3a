"""Signed link tokens: unguessable, bound to one subscriber and one purpose, never expiring.

Format: itsdangerous `URLSafeSerializer` (HMAC-SHA1 over a compact JSON payload,
base64url), with one salt per purpose so a preferences token can never be replayed
as a confirm token. The payload holds the subscriber id and a short tag derived from
the address, so a token cannot act on a different person if an id is ever reused
(SQLite may hand out a deleted row's id again). Links in emails already sent must
keep working for years (RFC 8058 and the 48-hour rule punish dead unsubscribe
links), so tokens carry no expiry; key rotation is done with
NEWSLETTER_SECRET_KEY_FALLBACKS: tokens are signed with the current key and
verified with it or any fallback.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from newsletter.config import Settings

from .errors import InvalidToken


class Purpose(enum.StrEnum):
    """What a signed token is for; each purpose signs with its own salt, so one never passes
    for another.
    """

    CONFIRM = "confirm"
    PREFERENCES = "preferences"
    UNSUBSCRIBE = "unsubscribe"
    FORM = "form"  # the signature on our own no-login forms (see web/public/subscribe.py)


@dataclass(frozen=True, slots=True)
class TokenData:
    """What a verified token says: the subscriber, a tag of their address, and (by purpose)
    when it was issued or which issue it came from.
    """

    subscriber_id: int
    tag: str
    issued_at: datetime | None = None  # confirm tokens only
    issue_id: int | None = None  # unsubscribe links inside an issue

    def matches(self, email: str) -> bool:
        """True if the token was made for this address (case-insensitive)."""
        return email_tag(email) == self.tag


def email_tag(email: str) -> str:
    """A 10-hex-character tag of the address, bound into tokens (not the suppression hash)."""
    # Distinct from the suppression hash so the two can never be joined.
    return hashlib.sha256(f"token-tag:{email.lower()}".encode()).hexdigest()[:10]


def _settings(settings: Settings | None) -> Settings:
    """The settings passed in; without them (transitional, for callers not yet updated:
    newsletter/sends/deliver.py and older tests), the running app's."""
    if settings is not None:
        return settings
    from newsletter import current_settings

    return current_settings()


def _keys(settings: Settings | None) -> list[str]:
    """Old keys first, the current one last (itsdangerous's order)."""
    chosen = _settings(settings)
    return [*chosen.secret_key_fallbacks, chosen.secret_key]


def _serializer(purpose: Purpose, settings: Settings | None) -> URLSafeSerializer:
    return _cached_serializer(purpose, tuple(_keys(settings)))


@functools.lru_cache(maxsize=32)
def _cached_serializer(purpose: Purpose, keys: tuple[str, ...]) -> URLSafeSerializer:
    # Cached per (purpose, keys): a send makes two tokens per message, and building the
    # serializer each time showed in the send's profile. A changed key gets a new entry.
    # itsdangerous signs with the last key and accepts any of them.
    return URLSafeSerializer(list(keys), salt=f"newsletter.subscribers.{purpose.value}")


def make_token(
    purpose: Purpose,
    subscriber_id: int,
    email: str,
    *,
    issue_id: int | None = None,
    issued_at: datetime | None = None,
    settings: Settings | None = None,
) -> str:
    """A signed token for `purpose` naming this subscriber (and address), as URL-safe ASCII.

    `issued_at` (confirm tokens only; default now) is kept to the millisecond;
    `issue_id` credits an unsubscribe to the issue it came from. Signed with
    NEWSLETTER_SECRET_KEY from `settings`.
    """
    # The JSON payload, written out: ints and a hex tag need no escaping, and
    # json.dumps per token showed in the send's profile. Keys in this order:
    # s (subscriber id), e (email tag), t (issued at, ms; confirm only), i (issue id).
    fields = [f'"s":{int(subscriber_id)}', f'"e":"{email_tag(email)}"']
    if purpose is Purpose.CONFIRM:
        moment = issued_at or datetime.now(UTC)
        fields.append(f'"t":{int(moment.timestamp() * 1000)}')
    if issue_id is not None:
        fields.append(f'"i":{int(issue_id)}')
    body = ("{" + ",".join(fields) + "}").encode("ascii")
    return _sign(purpose, body, _keys(settings)[-1])


def _sign(purpose: Purpose, body: bytes, key: str) -> str:
    """What itsdangerous's `URLSafeSerializer(key, salt).dumps` makes of a JSON `body`
    it would not compress: base64url(body) "." base64url(HMAC-SHA1(derived key, that)).

    A send signs two tokens per message, and itsdangerous (json.dumps, a zlib attempt,
    deriving the key again, HMAC) was about 70 µs of a message's CPU in the send's
    profile; this is the measured reason for these lines. The payload is never
    compressed, which itsdangerous's `loads` accepts: `read_token` verifies every token
    with itsdangerous, and a test checks both ways.
    """
    encoded = base64.urlsafe_b64encode(body).rstrip(b"=")
    mac = hmac.digest(_derived_key(purpose, key), encoded, "sha1")
    return (encoded + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode("ascii")


@functools.lru_cache(maxsize=32)
def _derived_key(purpose: Purpose, key: str) -> bytes:
    # itsdangerous's default key derivation ("django-concat"): sha1(salt + "signer" + key).
    salt = f"newsletter.subscribers.{purpose.value}".encode()
    return hashlib.sha1(salt + b"signer" + key.encode()).digest()  # noqa: S324 - as itsdangerous


def read_token(purpose: Purpose, token: str, *, settings: Settings | None = None) -> TokenData:
    """What a token made by `make_token` for `purpose` says.

    Verified with NEWSLETTER_SECRET_KEY or any of its fallbacks. Raises InvalidToken
    for a token that is empty, longer than 500 characters, forged, for another
    purpose, or malformed.
    """
    if not token or len(token) > 500:
        raise InvalidToken("this link is not valid")
    try:
        payload = _serializer(purpose, settings).loads(token)
    except BadSignature:
        raise InvalidToken("this link is not valid") from None
    try:
        subscriber_id = int(payload["s"])
        tag = str(payload["e"])
        issued = payload.get("t")
        issue_id = payload.get("i")
    except (TypeError, KeyError, ValueError):
        raise InvalidToken("this link is not valid") from None
    return TokenData(
        subscriber_id=subscriber_id,
        tag=tag,
        issued_at=datetime.fromtimestamp(int(issued) / 1000, UTC) if issued is not None else None,
        issue_id=int(issue_id) if issue_id is not None else None,
    )


def confirm_url(
    subscriber_id: int,
    email: str,
    *,
    issued_at: datetime | None = None,
    settings: Settings | None = None,
) -> str:
    """`{NEWSLETTER_BASE_URL}/confirm/{token}`: the double opt-in link."""
    token = make_token(
        Purpose.CONFIRM, subscriber_id, email, issued_at=issued_at, settings=settings
    )
    return f"{_settings(settings).base_url}/confirm/{token}"


def preferences_url(
    subscriber_id: int,
    email: str,
    *,
    issue_id: int | None = None,
    settings: Settings | None = None,
) -> str:
    """`{NEWSLETTER_BASE_URL}/preferences/{token}`: the no-login preferences page;
    `issue_id` (an issue's footer) credits an unsubscribe made there to that issue."""
    token = make_token(
        Purpose.PREFERENCES, subscriber_id, email, issue_id=issue_id, settings=settings
    )
    return f"{_settings(settings).base_url}/preferences/{token}"


def unsubscribe_url(
    subscriber_id: int,
    email: str,
    *,
    issue_id: int | None = None,
    settings: Settings | None = None,
) -> str:
    """The RFC 8058 one-click URL (also the body link); `issue_id` credits the issue in stats."""
    token = make_token(
        Purpose.UNSUBSCRIBE, subscriber_id, email, issue_id=issue_id, settings=settings
    )
    return f"{_settings(settings).base_url}/unsubscribe/{token}"


# Our own no-login forms (confirm, preferences) carry a signature bound to the
# link token and to the time the form was shown. It needs no cookie, so the pages
# work in mail apps' in-app browsers that drop cookies.
FORM_MAX_AGE = 7 * 24 * 3600


def _form_serializer(settings: Settings | None) -> URLSafeTimedSerializer:
    keys = _keys(settings)
    return URLSafeTimedSerializer(keys, salt=f"newsletter.subscribers.{Purpose.FORM.value}")


def _link_digest(link_token: str) -> str:
    return hashlib.sha256(link_token.encode()).hexdigest()[:24]


def sign_form(link_token: str, *, settings: Settings | None = None) -> str:
    """The signature our no-login forms carry, bound to `link_token` and to now."""
    return str(_form_serializer(settings).dumps(_link_digest(link_token)))


def check_form(link_token: str, signature: str, *, settings: Settings | None = None) -> bool:
    """True if `signature` was made by `sign_form` for this link under FORM_MAX_AGE seconds ago."""
    if not signature or len(signature) > 200:
        return False
    try:
        value = _form_serializer(settings).loads(signature, max_age=FORM_MAX_AGE)
    except BadSignature:  # SignatureExpired is a BadSignature
        return False
    return hmac.compare_digest(str(value), _link_digest(link_token))
