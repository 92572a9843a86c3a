"""`newsletter deliverability check`: is this sender set up the way Gmail and Yahoo require?

Each check is one line, pass / warn / fail, saying what was found and, unless it
passed, what to fix:

- `spf` (RFC 7208) for the From domain and the Return-Path domain: exactly one
  `v=spf1` record, not `+all`; `~all` / `?all` warn.
- `dkim-key` (RFC 6376): the TXT at `SELECTOR._domainkey.FROMDOMAIN` holds the
  public half of DKIM_PRIVATE_KEY_PATH (the From domain is our signing domain, dkim.py).
- `dmarc` (RFC 7489): one `v=DMARC1` record with a `p=` at `_dmarc.FROMDOMAIN` or at
  its organizational domain; `p=none` warns (Gmail and Yahoo accept it, it protects
  nothing).
- `mx` for the Return-Path (bounce) domain: without it bounces never come back.
- On a sample issue built through the real envelope path (`mail/envelope.py`):
  `list-unsubscribe` (an https URI, RFC 8058 3.1), `one-click`
  (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, both headers covered by the
  DKIM signature, RFC 8058 3.2), `dkim-signature` (verifies with dkimpy against the
  published key), `alignment` (DMARC: the From domain aligned with the DKIM d= and
  the Return-Path domain; relaxed = same organizational domain, from the Public
  Suffix List via `publicsuffixlist`; strict when adkim/aspf=s), `size` (under
  Gmail's 102 KB clipping limit).
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from publicsuffixlist import PublicSuffixList

from newsletter.config import Settings

from .lookup import Dns, DnsError

Status = Literal["pass", "warn", "fail"]

SAMPLE_RECIPIENT = "reader@example.com"
_psl = PublicSuffixList()


@dataclass(frozen=True, slots=True)
class Check:
    """One check's result: `name` (e.g. "spf (From)"), pass/warn/fail, and what was found or,
    unless it passed, what to fix.
    """

    name: str  # e.g. "spf", "dkim-key"
    status: Status
    message: str  # what was found; unless it passed, what to fix


@dataclass(slots=True)
class Report:
    """The checks of one run, in order."""

    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        """The checks whose status is "fail", in order."""
        return [c for c in self.checks if c.status == "fail"]

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings allowed): `deliverability check` then exits 0."""
        return not self.failed

    def add(self, name: str, status: Status, message: str) -> None:
        """Append one Check (`name`, pass/warn/fail, the message saying what to fix)."""
        self.checks.append(Check(name, status, message))

    def as_dict(self) -> dict[str, object]:
        """`{"ok": bool, "checks": [{"name", "status", "message"}, ...]}` (the --json shape)."""
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def org_domain(domain: str) -> str:
    """The organizational domain (RFC 7489 3.2): the registrable domain by the Public
    Suffix List, e.g. news.example.org -> example.org, a.b.co.uk -> b.co.uk."""
    domain = domain.rstrip(".").lower()
    return _psl.privatesuffix(domain) or domain


def aligned(a: str, b: str, *, strict: bool = False) -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): equal (strict) or same org domain (relaxed)."""
    a, b = a.rstrip(".").lower(), b.rstrip(".").lower()
    return a == b if strict else org_domain(a) == org_domain(b)


def _tags(record: str) -> dict[str, str]:
    """`k=v; k=v` tag lists (DKIM and DMARC records), keys lower-cased."""
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, eq, value = part.partition("=")
        if eq:
            tags.setdefault(key.strip().lower(), re.sub(r"\s+", "", value))
    return tags


# -- SPF ---------------------------------------------------------------------


def check_spf(report: Report, lookup: Dns, domain: str, role: str) -> None:
    """The `spf (ROLE)` check (RFC 7208): one `v=spf1` record at `domain`; its `all` term
    decides pass / warn / fail. A DNS failure is reported as "fail", never raised.
    """
    name = f"spf ({role})"
    try:
        records = [
            r
            for r in lookup.txt(domain)
            if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")
        ]
    except DnsError as exc:
        report.add(name, "fail", f"could not look up SPF for {domain}: {exc}")
        return
    if not records:
        report.add(
            name,
            "fail",
            f"{domain} has no SPF record: publish one TXT record like "
            f"'v=spf1 include:<your mail provider> -all' (Gmail and Yahoo require SPF)",
        )
        return
    if len(records) > 1:
        report.add(
            name,
            "fail",
            f"{domain} has {len(records)} SPF records, which is a permanent error "
            f"(RFC 7208 4.5): merge them into one",
        )
        return
    record = records[0]
    terms = [t.lower() for t in record.split()[1:]]
    all_term = next((t for t in terms if t.lstrip("+-~?") == "all"), None)
    if all_term in ("all", "+all"):
        report.add(
            name, "fail", f"{domain}: '{record}' lets anyone send as {domain}: end it with -all"
        )
    elif all_term == "~all":
        report.add(
            name,
            "warn",
            f"{domain}: '{record}' ends with ~all (softfail): use -all once every "
            f"server that sends as {domain} is listed",
        )
    elif all_term == "?all" or (
        all_term is None and not any(t.startswith("redirect=") for t in terms)
    ):
        report.add(
            name,
            "warn",
            f"{domain}: '{record}' is neutral about other senders: end it with -all",
        )
    else:
        report.add(name, "pass", f"{domain}: {record}")


# -- DKIM key ----------------------------------------------------------------


def _load_private_key(path: str) -> rsa.RSAPrivateKey:
    """The PEM RSA key (PKCS#1 or PKCS#8) dkim.py signs with (rsa-sha256)."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA key (dkim.py signs with rsa-sha256)")
    return key


def _public_der(key: rsa.RSAPrivateKey) -> bytes:
    """What a DKIM `p=` holds for RSA: the SubjectPublicKeyInfo DER (RFC 6376 3.6.1)."""
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _same_public_key(published: bytes, key: rsa.RSAPrivateKey) -> bool:
    try:  # SubjectPublicKeyInfo, or a bare PKCS#1 RSAPublicKey (dkimpy accepts both)
        public = serialization.load_der_public_key(published)
    except ValueError:
        return False
    return (
        isinstance(public, rsa.RSAPublicKey)
        and public.public_numbers() == key.public_key().public_numbers()
    )


def check_dkim_key(report: Report, lookup: Dns, settings: Settings, domain: str) -> bool:
    """The selector's published key against the configured private key; True when they match."""
    name = "dkim-key"
    selector, path = settings.dkim_selector, settings.dkim_private_key_path
    if not selector or not path:
        report.add(
            name,
            "fail",
            "DKIM is not configured: set NEWSLETTER_DKIM_SELECTOR and "
            "NEWSLETTER_DKIM_PRIVATE_KEY_PATH (Gmail and Yahoo require DKIM)",
        )
        return False
    try:
        key = _load_private_key(path)
    except (OSError, ValueError, TypeError, binascii.Error) as exc:
        report.add(name, "fail", f"cannot read the DKIM private key {path}: {exc}")
        return False
    kind = "rsa"
    expected = f"v=DKIM1; k={kind}; p={base64.b64encode(_public_der(key)).decode()}"
    where = f"{selector}._domainkey.{domain}"
    try:
        records = [r for r in lookup.txt(where) if "p=" in r]
    except DnsError as exc:
        report.add(name, "fail", f"could not look up the DKIM key at {where}: {exc}")
        return False
    if not records:
        report.add(name, "fail", f"no DKIM key at {where}: publish TXT '{expected}'")
        return False
    if len(records) > 1:
        report.add(name, "fail", f"{where} has {len(records)} DKIM keys: keep only '{expected}'")
        return False
    tags = _tags(records[0])
    if not tags.get("p"):
        report.add(name, "fail", f"the DKIM key at {where} is revoked (empty p=): publish "
                   f"'{expected}'")  # fmt: skip
        return False
    try:
        published = base64.b64decode(tags["p"], validate=True)
    except binascii.Error:
        published = b""
    if tags.get("k", "rsa").lower() != kind or not _same_public_key(published, key):
        report.add(
            name,
            "fail",
            f"the key at {where} does not match DKIM_PRIVATE_KEY_PATH, so every signature "
            f"fails: publish '{expected}' (or point the settings at the right key)",
        )
        return False
    if key.key_size < 2048:
        status: Status = "fail" if key.key_size < 1024 else "warn"
        report.add(name, status, f"{where}: a {key.key_size}-bit RSA key; use 2048 bits")
        return True
    report.add(name, "pass", f"{where} holds the public half of the configured {kind} key")
    return True


# -- DMARC -------------------------------------------------------------------


def check_dmarc(report: Report, lookup: Dns, domain: str) -> dict[str, str] | None:
    """The DMARC record that governs `domain` (its own, else its org domain's), as tags."""
    name = "dmarc"
    org = org_domain(domain)
    found: dict[str, str] | None = None
    where = ""
    try:
        for candidate in dict.fromkeys((domain, org)):
            where = f"_dmarc.{candidate}"
            records = [r for r in lookup.txt(where) if r.replace(" ", "").upper().startswith(
                "V=DMARC1")]  # fmt: skip
            if len(records) > 1:
                report.add(
                    name,
                    "fail",
                    f"{where} has {len(records)} DMARC records, so receivers ignore them all "
                    "(RFC 7489 6.6.3): keep one",
                )
                return None
            if records:
                found = _tags(records[0])
                break
    except DnsError as exc:
        report.add(name, "fail", f"could not look up DMARC at {where}: {exc}")
        return None
    if found is None:
        report.add(
            name,
            "fail",
            f"no DMARC record at _dmarc.{domain} or _dmarc.{org}: publish TXT at _dmarc.{org} "
            "'v=DMARC1; p=none; rua=mailto:dmarc@" + org + "' (Gmail and Yahoo require one)",
        )
        return None
    policy = found.get("p", "").lower()
    if domain != org and where == f"_dmarc.{org}" and found.get("sp"):
        policy = found["sp"].lower()  # RFC 7489 6.3: sp= governs subdomains
    if policy not in ("none", "quarantine", "reject"):
        report.add(name, "fail", f"{where} has no valid p= policy: add p=none (then quarantine)")
        return None
    if policy == "none":
        report.add(
            name,
            "warn",
            f"{where}: p=none (accepted by Gmail and Yahoo, but spoofed mail is delivered): "
            "move to p=quarantine once the aggregate reports show only your own mail",
        )
    else:
        report.add(name, "pass", f"{where}: p={policy}")
    return found


# -- MX ----------------------------------------------------------------------


def check_mx(report: Report, lookup: Dns, domain: str) -> None:
    """The `mx (bounces)` check: `domain` (the Return-Path domain, where VERP bounces go)
    needs an MX record that is not a null MX (RFC 7505). A DNS failure is reported as
    "fail", never raised.
    """
    name = "mx (bounces)"
    try:
        records = lookup.mx(domain)
    except DnsError as exc:
        report.add(name, "fail", f"could not look up MX for {domain}: {exc}")
        return
    if not records:
        report.add(
            name,
            "fail",
            f"{domain} has no MX record, so bounces to bounces+...@{domain} never come back: "
            f"publish an MX pointing at the server whose mailbox NEWSLETTER_BOUNCE_MAILBOX reads",
        )
    elif all(exchange in ("", ".") for _pref, exchange in records):
        report.add(name, "fail", f"{domain} has a null MX (RFC 7505): it accepts no bounces")
    else:
        report.add(name, "pass", f"{domain}: " + ", ".join(f"{p} {e}" for p, e in records))


# -- the sample message ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """The sample message as one delivery would be sent (DKIM-signed when configured), its
    envelope sender, and why it could not be signed ("" when it was).
    """

    message: bytes  # as sent: sealed (DKIM-signed when configured)
    return_path: str  # the envelope sender of a delivery
    seal_error: str = ""  # why it could not be signed


def build_sample(settings: Settings) -> Sample:
    """The demo issue through the real envelope path, as one delivery would be sent."""
    from importlib.resources import files

    from newsletter.demo import SEED_FILES
    from newsletter.mail import envelope
    from newsletter.mail.dkim import DkimError
    from newsletter.mail.message import Recipient
    from newsletter.render import branding_from_settings, render_issue
    from newsletter.render.sample import sample_issue
    from newsletter.subscribers.tokens import preferences_url, unsubscribe_url

    seed = (files("newsletter.demo") / "seeds" / SEED_FILES[0]).read_text(encoding="utf-8")
    rendered = render_issue(sample_issue(seed), branding_from_settings(settings))
    template = envelope.issue_template(rendered, settings, issue_id=1)
    message = template.personalise(
        Recipient(
            email=SAMPLE_RECIPIENT,
            name="",
            message_id=envelope.new_message_id(settings, "check"),
            # A signed link for nobody (id 0), as test sends use: a POST changes nothing.
            unsubscribe_url=unsubscribe_url(0, SAMPLE_RECIPIENT, settings=settings),
            preferences_url=preferences_url(0, SAMPLE_RECIPIENT, settings=settings),
        )
    )
    return_path = envelope.envelope_sender(settings, delivery_id=1)
    try:
        return Sample(envelope.seal(settings, message), return_path)
    except DkimError as exc:
        return Sample(message, return_path, str(exc))


def _uris(value: str) -> list[str]:
    return re.findall(r"<([^>]*)>", value)


def check_message(
    report: Report, lookup: Dns, sample: Sample, dmarc: dict[str, str] | None
) -> None:
    """The Gmail/Yahoo bulk-sender rules on one message as sent."""
    from newsletter.render.checks import GMAIL_CLIP_BYTES

    parsed = email.message_from_bytes(sample.message, policy=email.policy.compat32)
    unsubscribe = str(parsed.get("List-Unsubscribe", ""))
    https = [u for u in _uris(unsubscribe) if u.lower().startswith("https://")]
    if https:
        report.add("list-unsubscribe", "pass", f"List-Unsubscribe: {unsubscribe[:120]}")
    else:
        report.add(
            "list-unsubscribe",
            "fail",
            f"List-Unsubscribe has no https URI ({unsubscribe or 'missing'}): set "
            "NEWSLETTER_BASE_URL to your https:// address (RFC 8058 3.1)",
        )

    signature = str(parsed.get("DKIM-Signature", ""))
    sig_tags = _tags(signature)
    signed = {h.strip().lower() for h in sig_tags.get("h", "").split(":")}
    post = str(parsed.get("List-Unsubscribe-Post", "")).strip()
    if post != "List-Unsubscribe=One-Click":
        report.add("one-click", "fail", "no 'List-Unsubscribe-Post: List-Unsubscribe=One-Click'")
    elif not signature:
        report.add("one-click", "fail", "one-click needs a DKIM signature over List-Unsubscribe "
                   "and List-Unsubscribe-Post (RFC 8058 4): configure DKIM")  # fmt: skip
    elif not {"list-unsubscribe", "list-unsubscribe-post"} <= signed:
        report.add("one-click", "fail", "the DKIM signature does not cover both List-Unsubscribe "
                   "headers (RFC 8058 4)")  # fmt: skip
    else:
        report.add("one-click", "pass", "List-Unsubscribe-Post: List-Unsubscribe=One-Click, "
                   "both headers DKIM-signed")  # fmt: skip

    if not signature:
        report.add(
            "dkim-signature",
            "fail",
            f"the message is not signed: {sample.seal_error or 'DKIM is not configured'}",
        )
    else:
        _verify_signature(report, lookup, sample.message, sig_tags)

    from_domain = parseaddr(str(parsed.get("From", "")))[1].rpartition("@")[2].lower()
    dkim_domain = sig_tags.get("d", "").lower()
    return_domain = sample.return_path.rpartition("@")[2].lower()
    dmarc = dmarc or {}
    strict_dkim = dmarc.get("adkim", "r").lower() == "s"
    strict_spf = dmarc.get("aspf", "r").lower() == "s"
    dkim_ok = bool(dkim_domain) and aligned(from_domain, dkim_domain, strict=strict_dkim)
    spf_ok = aligned(from_domain, return_domain, strict=strict_spf)

    def mode(strict: bool) -> str:
        return "strict" if strict else "relaxed"

    detail = (
        f"From {from_domain}; DKIM d={dkim_domain or '(none)'} "
        f"{'aligned' if dkim_ok else 'not aligned'} ({mode(strict_dkim)}); Return-Path "
        f"{return_domain} {'aligned' if spf_ok else 'not aligned'} ({mode(strict_spf)})"
    )
    if dkim_ok and spf_ok:
        report.add("alignment", "pass", detail)
    elif dkim_ok or spf_ok:
        report.add(
            "alignment",
            "warn",
            f"{detail}: DMARC passes on one identifier only; "
            + (
                f"set NEWSLETTER_RETURN_PATH_DOMAIN to a subdomain of {org_domain(from_domain)}"
                if not spf_ok
                else "sign with the From domain"
            ),
        )
    else:
        report.add(
            "alignment",
            "fail",
            f"{detail}: DMARC fails for every message; sign DKIM with the From domain and set "
            f"NEWSLETTER_RETURN_PATH_DOMAIN to a subdomain of {org_domain(from_domain)}",
        )

    size = len(sample.message)
    if size <= GMAIL_CLIP_BYTES:
        report.add("size", "pass", f"the sample issue is {size} bytes (Gmail clips above "
                   f"{GMAIL_CLIP_BYTES})")  # fmt: skip
    else:
        report.add("size", "fail", f"the sample issue is {size} bytes: Gmail clips above "
                   f"{GMAIL_CLIP_BYTES}, hiding the unsubscribe link; send excerpts")  # fmt: skip


def _verify_signature(report: Report, lookup: Dns, message: bytes, tags: dict[str, str]) -> None:
    dns_errors: list[str] = []  # dkimpy logs a DNS failure and returns False: keep the reason

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            return lookup.txt_bytes(name.decode("ascii").rstrip("."))
        except DnsError as exc:
            dns_errors.append(str(exc))
            raise dkim.DnsTimeoutError(str(exc)) from None

    where = f"{tags.get('s', '?')}._domainkey.{tags.get('d', '?')}"
    try:
        good = dkim.DKIM(message, logger=_quiet).verify(dnsfunc=dnsfunc)
        problem = "the signature does not match the key published there"
    except dkim.DKIMException as exc:
        good, problem = False, str(exc)
    if dns_errors:
        good, problem = False, f"could not fetch the key: {dns_errors[0]}"
    if good:
        report.add("dkim-signature", "pass", f"the sample verifies against {where}")
    else:
        report.add("dkim-signature", "fail", f"the sample does not verify against {where}: "
                   f"{problem}")  # fmt: skip


_quiet = logging.getLogger("newsletter.deliverability.dkimpy")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False  # the report says why; dkimpy's own error log would repeat it


# -- everything ---------------------------------------------------------------


def run_checks(settings: Settings, lookup: Dns) -> Report:
    """Every check above, in order; needs an app context (for the sample message)."""
    report = Report()
    from_domain = settings.from_email.rpartition("@")[2].lower()
    return_domain = settings.return_domain.lower()
    check_spf(report, lookup, from_domain, "From")
    if return_domain != from_domain:
        check_spf(report, lookup, return_domain, "Return-Path")
    check_dkim_key(report, lookup, settings, from_domain)
    dmarc = check_dmarc(report, lookup, from_domain)
    check_mx(report, lookup, return_domain)
    try:
        sample = build_sample(settings)
    except ValueError as exc:  # e.g. a From address our headers cannot carry
        report.add("sample", "fail", f"cannot build a message: {exc}")
        return report
    check_message(report, lookup, sample, dmarc)
    return report


# -- the dashboard's copy ------------------------------------------------------

# The dashboard never runs DNS look-ups by itself: it shows the last report this
# process computed (the button computes a new one, with short timeouts), so a slow
# DNS costs only the admin who asked, at most DASHBOARD_BUDGET seconds.
DASHBOARD_TIMEOUT = 2.0  # seconds per query
DASHBOARD_BUDGET = 8.0  # seconds for the whole check
_last: dict[str, tuple[datetime, Report]] = {}
_last_lock = threading.Lock()


def run_for_dashboard(settings: Settings) -> tuple[datetime, Report]:
    """Run every check with the dashboard's short timeouts and keep the result (per process)."""
    lookup = Dns(
        settings.deliverability_nameserver, timeout=DASHBOARD_TIMEOUT, budget=DASHBOARD_BUDGET
    )
    result = (datetime.now(UTC), run_checks(settings, lookup))
    with _last_lock:
        _last["report"] = result
    return result


def last_report() -> tuple[datetime, Report] | None:
    """(when, report) of the last dashboard run in this process, or None."""
    with _last_lock:
        return _last.get("report")
