"""Reading provider JSON defensively: every wrong shape is a MalformedPayload, never a crash.

Provider bodies come from the internet; each accessor checks the type it returns so
that the provider modules stay free of isinstance noise and no input raises anything
but a WebhookError.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from .errors import MalformedPayload

MAX_TEXT = 1000
MAX_ID = 255
MAX_ADDRESS = 320
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")


def load_json(body: bytes) -> Any:
    """The parsed body; MalformedPayload when it is not UTF-8 JSON."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedPayload("the body is not JSON") from exc


def obj(value: Any, what: str) -> dict[str, Any]:
    """`value` itself when it is a JSON object (dict); raises MalformedPayload naming `what`
    otherwise.
    """
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} must be a JSON object")
    return value


def text(data: dict[str, Any], key: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """A string field as one clean line (NULs and line breaks become spaces), cut at `limit`
    characters; "" when absent and not `required`.

    Numbers are accepted as their text (providers send ids and codes either way). Raises
    MalformedPayload when the value is not a string or number (a bool, list, object), and,
    when `required`, when it is missing or blank.
    """
    value = data.get(key)
    if value is None:
        if required:
            raise MalformedPayload(f"{key} is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedPayload(f"{key} must be a string")
    cleaned = _CONTROL.sub(" ", _valid_unicode(str(value))).strip()[:limit]
    if required and not cleaned:
        raise MalformedPayload(f"{key} is empty")
    return cleaned


def address(value: Any, what: str = "recipient") -> str:
    """A recipient address, lower-cased; MalformedPayload when it cannot be one."""
    if not isinstance(value, str):
        raise MalformedPayload(f"{what} must be a string")
    cleaned = _valid_unicode(value).strip().strip("<>").strip().lower()
    if (
        not cleaned
        or len(cleaned) > MAX_ADDRESS
        or "@" not in cleaned
        or _CONTROL.search(cleaned)
        or " " in cleaned
    ):
        raise MalformedPayload(f"{what} is not an email address")
    return cleaned


def _valid_unicode(value: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"); no database column can store them."""
    return value.encode("utf-8", "replace").decode("utf-8")


def message_id(value: str) -> str | None:
    """Our Message-ID as stored without angle brackets, or None."""
    cleaned = value.strip().strip("<>").strip()
    return cleaned[:MAX_ID] or None


def event_id(provider: str, *parts: str) -> str:
    """`provider:part:part`, hashed when it would not fit the column."""
    key = ":".join((provider, *parts))
    if len(key) <= MAX_ID:
        return key
    return f"{provider}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def status_code(*texts: str) -> str:
    """The first RFC 3463 enhanced status code in `texts` ("5.1.1"), else ""."""
    for candidate in texts:
        match = _STATUS.search(candidate or "")
        if match:
            return ".".join(match.groups())
    return ""


def timestamp(value: Any) -> datetime | None:
    """ISO 8601 text or Unix seconds as an aware UTC datetime; None when absent or unreadable."""
    try:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), tz=UTC)
        if isinstance(value, str) and value.strip():
            text_value = value.strip()
            if re.fullmatch(r"\d+(\.\d+)?", text_value):
                return datetime.fromtimestamp(float(text_value), tz=UTC)
            parsed = datetime.fromisoformat(text_value)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return None
