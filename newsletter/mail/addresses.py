"""Addresses as they go on the wire: domains as A-labels, local parts as given.

An address we store may hold an internationalized domain (`zoe@bücher.example`,
RFC 5890 U-labels) or an internationalized local part (`jürgen@example.org`,
RFC 6531). SMTP commands and RFC 5322 headers carry the domain as its A-label
(`xn--bcher-kva.example`), which every server accepts; only a non-ASCII local
part needs the server's SMTPUTF8 extension, and a UTF-8 header (RFC 6532).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import idna


class AddressError(ValueError):
    """The address cannot be written on the wire (a message for people, one line)."""


@dataclass(frozen=True, slots=True)
class WireAddress:
    address: str  # local@a-label.domain
    needs_smtputf8: bool  # True when the local part is not ASCII


def wire_address(address: str) -> WireAddress:
    """`address` with its domain as an A-label; raises AddressError if it has no valid form.

    Uses IDNA 2008 with UTS #46 mapping (the `idna` package), the same rules
    email-validator applies when it accepts an address, so what we accepted we can send.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise AddressError(f"not an email address: {address!r}")
    return WireAddress(f"{local}@{a_label_domain(domain)}", not local.isascii())


@lru_cache(maxsize=4096)
def a_label_domain(domain: str) -> str:
    """`bücher.example` -> `xn--bcher-kva.example`; an ASCII domain is returned unchanged."""
    if domain.isascii():
        return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise AddressError(f"the domain {domain!r} has no valid ASCII form ({exc})") from None
