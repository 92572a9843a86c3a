"""Address checks: syntax and domain with email-validator, plus flags for disposable/role addresses.

Disposable and role addresses are allowed (a shared `info@` inbox can be a real
reader) but flagged so the admin can filter them. Importing 100,000 rows must stay
well under 10 s, and email-validator spends ~150 µs per address, mostly validating
the domain, so plain ASCII addresses take a fast path that reuses the verdict on
each domain; anything unusual goes through email-validator in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from .errors import InvalidEmail

MAX_LENGTH = 254  # RFC 5321 path limit minus the angle brackets, as email-validator applies it

# Local parts made only of RFC 5322 atext in dot-atom form: email-validator accepts
# every one of these, so the fast path never accepts what the full check would refuse.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")

# Well-known throwaway-inbox providers (a short list on purpose: flagging, not blocking).
DISPOSABLE_DOMAINS = frozenset(
    [
        "10minutemail.com",
        "20minutemail.com",
        "33mail.com",
        "discard.email",
        "dispostable.com",
        "emailondeck.com",
        "fakeinbox.com",
        "getairmail.com",
        "getnada.com",
        "guerrillamail.com",
        "guerrillamail.net",
        "guerrillamail.org",
        "guerrillamailblock.com",
        "grr.la",
        "harakirimail.com",
        "inboxkitten.com",
        "mailcatch.com",
        "maildrop.cc",
        "mailinator.com",
        "mailinator.net",
        "mailnesia.com",
        "mailpoof.com",
        "mintemail.com",
        "mohmal.com",
        "mytemp.email",
        "nada.email",
        "sharklasers.com",
        "spam4.me",
        "spamgourmet.com",
        "temp-mail.org",
        "temp-mail.io",
        "tempail.com",
        "tempmail.com",
        "tempmail.net",
        "tempmailo.com",
        "tempr.email",
        "throwawaymail.com",
        "trashmail.com",
        "trashmail.de",
        "trashmail.net",
        "yopmail.com",
        "yopmail.fr",
        "yopmail.net",
        "mailnull.com",
        "emailfake.com",
    ]
)

ROLE_LOCAL_PARTS = frozenset(
    [
        "abuse",
        "admin",
        "administrator",
        "billing",
        "contact",
        "support",
        "help",
        "hello",
        "hostmaster",
        "info",
        "list",
        "list-request",
        "mail",
        "mailer-daemon",
        "marketing",
        "news",
        "newsletter",
        "no-reply",
        "noc",
        "noreply",
        "office",
        "postmaster",
        "privacy",
        "root",
        "sales",
        "security",
        "team",
        "webmaster",
        "www",
    ]
)


@dataclass(frozen=True, slots=True)
class Address:
    """A checked address, normalized and lower-cased, with its disposable and role flags."""

    email: str  # normalized and lower-cased: the form we store and compare
    is_disposable: bool
    is_role: bool


def validate_address(raw: str, *, check_dns: bool = False) -> Address:
    """`raw` normalized and lower-cased (domain as U-labels), flagged disposable or role.

    Syntax per email-validator (RFC 5321/5322; internationalized local parts, RFC 6531,
    are accepted); with `check_dns`, the domain must also accept mail (a 5 s DNS look-up).
    Raises InvalidEmail with a one-line reason for an empty address, one with a line
    break or NUL, or one email-validator refuses.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidEmail("an email address is required")
    if any(c in text for c in "\r\n\0"):
        raise InvalidEmail("the email address contains a line break")
    email = _fast_path(text) if not check_dns else None
    if email is None:
        try:
            # Internationalized local parts (RFC 6531) are accepted: the transport sends
            # them with SMTPUTF8 where the server offers it, and fails just that message
            # where it does not. Domains are stored as U-labels, sent as A-labels.
            result = validate_email(
                text, check_deliverability=check_dns, allow_smtputf8=True, timeout=5
            )
        except EmailNotValidError as exc:
            raise InvalidEmail(str(exc)) from None
        email = result.normalized.lower()
    local, _, domain = email.rpartition("@")
    base_local = local.split("+", 1)[0]
    return Address(
        email=email,
        is_disposable=_is_disposable(domain),
        is_role=base_local in ROLE_LOCAL_PARTS,
    )


def _fast_path(text: str) -> str | None:
    """The normalized address if it is plain ASCII on a domain already known good, else None."""
    if not text.isascii() or len(text) > MAX_LENGTH:
        return None
    local, sep, domain = text.rpartition("@")
    if not sep or len(local) > 64 or not _DOT_ATOM.fullmatch(local):
        return None
    normalized_domain = _domain_verdict(domain.lower())
    if normalized_domain is None:
        return None
    return f"{local}@{normalized_domain}".lower()


@lru_cache(maxsize=4096)
def _domain_verdict(domain: str) -> str | None:
    """email-validator's normalized form of `domain`, or None to let the full check explain."""
    try:
        result = validate_email(f"a@{domain}", check_deliverability=False, allow_smtputf8=False)
        return result.domain.lower()
    except EmailNotValidError:
        return None


@lru_cache(maxsize=4096)
def _is_disposable(domain: str) -> bool:
    # A subdomain of a throwaway provider is throwaway too (x.mailinator.com).
    parts = domain.split(".")
    return any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1))
