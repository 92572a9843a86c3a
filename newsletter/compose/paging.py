"""Opaque keyset cursors: the sort key of the last row, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from .errors import ComposeError

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None


def encode_cursor(*values: int | str | datetime) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[object, ...]:
    """The values of a cursor made by encode_cursor, checked against `kinds`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong shape")
        out: list[object] = []
        for value, kind in zip(values, kinds, strict=True):
            if kind is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive datetime")
                out.append(parsed.astimezone(UTC))
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError("not an int")
                if not 0 <= value < 2**63:
                    raise ValueError("out of range")
                out.append(value)
            else:
                out.append(kind(value))
        return tuple(out)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise ComposeError(
            "the cursor is malformed; use the `next` value of a previous page"
        ) from None


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, limit))
