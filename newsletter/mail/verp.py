"""VERP envelope senders that name one delivery and cannot be forged.

`bounces+d<ID>-<MAC>@RETURN_PATH_DOMAIN`: a bounce that comes back to this
address names the delivery it is about, so no parsing of the (often mangled) DSN
body is needed to find the recipient. The MAC is HMAC-SHA256 over the delivery
id with the app's secret, truncated to 16 base32 characters (80 bits): without
the secret nobody can make a valid address for a delivery that is not theirs, so a
forged bounce cannot suppress anyone. Base32 lower case survives relays that
change the case of local parts.
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Sequence

PREFIX = "bounces"
_MAC_CHARS = 16
_TOKEN = re.compile(r"d([1-9][0-9]{0,18})-([a-z2-7]{16})")


def _mac(delivery_id: int, key: str) -> str:
    # 10 bytes are exactly 16 base32 characters (the first 16 of the whole digest's).
    digest = hmac.digest(key.encode(), f"verp:{delivery_id}".encode(), "sha256")
    return base64.b32encode(digest[: _MAC_CHARS * 5 // 8]).decode("ascii").lower()


def make_token(delivery_id: int, key: str) -> str:
    """`d<ID>-<MAC>` for a delivery id (a positive int)."""
    if delivery_id < 1:
        raise ValueError("a delivery id is positive")
    return f"d{delivery_id}-{_mac(delivery_id, key)}"


def return_path(delivery_id: int, *, domain: str, key: str) -> str:
    """The envelope sender (MAIL FROM) of one delivery: bounces+TOKEN@domain."""
    return f"{PREFIX}+{make_token(delivery_id, key)}@{domain}"


def read_token(token: str, keys: Sequence[str]) -> int | None:
    """The delivery id a token names, or None when it is malformed or its MAC is wrong.

    `keys`: the current secret and any fallbacks (key rotation keeps old bounces valid).
    """
    match = _TOKEN.fullmatch(token.strip().lower())
    if match is None:
        return None
    delivery_id = int(match.group(1))
    for key in keys:
        if hmac.compare_digest(_mac(delivery_id, key), match.group(2)):
            return delivery_id
    return None


def read_address(address: str, keys: Sequence[str]) -> int | None:
    """The delivery id named by `bounces+TOKEN@domain` (any domain), or None."""
    local = address.strip().strip("<>").rpartition("@")[0]
    prefix, plus, token = local.partition("+")
    if not plus or prefix.lower() != PREFIX:
        return None
    return read_token(token, keys)
