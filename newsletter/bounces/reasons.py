"""Why one recipient failed, and whether the address itself is bad (hard).

Pure rules over two pieces of evidence: the enhanced status code (RFC 3463) and the
diagnostic text (the remote server's SMTP reply, or the reporting MTA's own words).

Our own code, not a library's: flufl.bounce (the one maintained Python bounce parser)
returns addresses only, with no reason and a permanent/temporary split that calls nearly
every failure permanent (35% agreement on our corpus); sisimai, the reference, is not
available for Python. The reason names follow sisimai's so results can be compared with
its labels (tests/data/bounces/expected.csv).

Hard (EMAIL-REFERENCE.md 1.3): the address is bad - user unknown, no such domain, the
address moved (5.1.x, 5.4.4, or texts that say so without a code). A 5.x.x is not hard
by itself: mailbox full, too large, filtered, blocked, policy, reputation and
authentication rejections are not the address's fault, and 5.7.x is a sender alert,
never hard - except a 5.7.27 whose text says the recipient's domain accepts no mail
(RFC 7505's recipient null MX, which some MTAs report under the sender's code).
"""

from __future__ import annotations

import re
from typing import Final

# Reasons that mean "this address will never work" (sisimai's hardbounce set).
HARD_REASONS: Final = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})

# RFC 3463 enhanced status code: class.subject.detail; the detail may have 3 digits.
STATUS_RE: Final = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
# A basic SMTP reply code at the start of a reply (RFC 5321 4.2), e.g. "550 " or "550-".
REPLY_RE: Final = re.compile(r"(?<![\w.])([245][0-5]\d)(?=[ \-]|$)")

# Ordered: the first reason whose pattern matches the diagnostic text wins. Causes that
# are not the address's fault come before "user unknown" because servers often wrap a
# policy or spam rejection in "Recipient address rejected: ..." wording.
_TEXT_RULES: Final[tuple[tuple[str, str], ...]] = (
    # Microsoft's directory-based edge blocking: the tenant has no such recipient.
    (
        "userunknown",
        r"recipient address rejected: access denied|recip(?:ient)?notfound|"
        r"not listed in (?:the )?(?:domino directory|public name|address book)",
    ),
    # A mailbox that is only for now out of reach says nothing final about the address.
    (
        "systemerror",
        r"(?:mailbox|user|recipient|account) (?:is )?temporar(?:il)?y (?:unavailable|not available|"
        r"out of service)",
    ),
    # The sender's address or host was refused, not the recipient's.
    (
        "rejected",
        r"sender address|domain of sender|sender domain|sender (?:is )?(?:rejected|denied|unknown|"
        r"invalid|not allowed)|envelope sender|mail from (?:address )?(?:rejected|refused)|"
        r"not (?:a )?member|non-?member|members[- ]only|not allowed to post",
    ),
    ("blocked", r"my name was rejected|(?:helo|ehlo)\b.{0,30}(?:rejected|invalid|denied|refused)"),
    # DNS answers that may change: not proof the domain is gone.
    (
        "networkerror",
        r"host not found, try again|malformed or unexpected name server reply|servfail|"
        r"temporary failure in name resolution",
    ),
    (
        "filtered",
        r"recipient'?s? preferences|\bfiltered\b|content filter|rejected by .{0,20}filter|"
        r"filter(?:ing)? (?:rule|policy|settings)",
    ),
    (
        "mailererror",
        r"procmail|maildrop|couldn't create|could not create|mailer error|command (?:died|failed)|"
        r"exit(?:ed)? (?:status|code)|local delivery failed|pipe to",
    ),
    (
        "authfailure",
        r"\bspf\b|\bdkim\b|\bdmarc\b|authentication checks? failed|sender policy framework|"
        r"not authenticated|unauthenticated|authentication (?:failure|failed|required)",
    ),
    (
        "mailboxfull",
        r"mailbox (?:is )?full|mailbox.{0,20}(?:over|exceed\w*).{0,10}(?:quota|limit|size)|"
        r"over (?:the )?quota|quota (?:exceeded|exceed|full)|exceeded (?:storage|(?:the )?quota)|"
        r"(?:disk|storage|mailbox) quota|insufficient (?:disk |storage )?(?:space|storage)|"
        r"out of (?:disk )?space|mailbox size limit|user(?:'s)? (?:is )?over ?quota|"
        r"is over (?:its|the|their) (?:storage|quota)|too much mail|mail ?box full|"
        r"mailfolder is full|account is full|inbox is full|full mailbox|"
        r"over the allowed quota|would exceed (?:the )?(?:quota|mailbox)|not enough (?:disk )?space|"
        r"postfach (?:ist )?voll|speicherplatz|bo[iî]te (?:aux lettres )?pleine|quota d[ée]pass[ée]|"
        r"buz[oó]n (?:est[aá] )?lleno|casella (?:piena|di posta piena)|caixa (?:postal )?cheia",
    ),
    (
        "mesgtoobig",
        r"message (?:is )?too (?:large|big)|message size (?:exceeds|limit|too)|"
        r"exceeds? (?:the )?(?:maximum|max) (?:message )?size|size limit exceeded|"
        r"message length exceeds|mail size limit|too large for|message exceeded .{0,20}size",
    ),
    (
        "virusdetected",
        r"virus|malware|infected|harmful content",
    ),
    (
        "spamdetected",
        r"\bspam\b|spam(?:my|like|-like| content| message)|junk mail|bulk mail|"
        r"considered unsolicited|unsolicited (?:mail|message|bulk)|"
        r"message content rejected|content (?:filter|rejected)|"
        r"classified as (?:spam|junk)|high probability of",
    ),
    (
        "blocked",
        r"blacklist|blocklist|black list|block list|\brbl\b|\bdnsbl\b|spamhaus|spamcop|"
        r"barracudacentral|listed (?:at|on|in|by)|client host .{0,80}(?:rejected|blocked)|"
        r"(?:ip|host|client|connection) (?:is |has been |was )?(?:temporarily |permanently )?"
        r"(?:blocked|banned|refused|rejected|not allowed|blacklisted)|"
        r"\bblocked\b|reputation|poor reputation|access denied|refused to talk|"
        r"reverse dns|no ptr|ptr record|rdns|not permitted to relay|"
        r"your (?:ip|server|network)|dialup|dynamic ip|too many (?:connections|messages|recipients)|"
        r"receiving mail at a rate|not ?authori[sz]ed|unauthori[sz]ed|"
        r"rate limit|rate-limit|throttl|try again later|temporarily deferred|"
        r"resources? temporarily unavailable",
    ),
    (
        "policyviolation",
        r"policy|prohibited|not allowed|not permitted|violat|administrative(?:ly)? prohibit",
    ),
    (
        "norelaying",
        r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)|not (?:a )?relay|"
        r"unable to relay|relay not|we do not relay|relaying denied|no relaying",
    ),
    (
        "suspend",
        r"(?:account|mailbox|user|address|recipient) (?:is |has been |was )?"
        r"(?:temporarily |currently )?(?:disabled|suspended|inactive|deactivated|locked|frozen|"
        r"not active|unavailable due to)|(?:disabled|suspended|inactive|deactivated|expired) "
        r"(?:account|mailbox|user|address)|account (?:has )?expired|mailbox is inactive|"
        r"has been (?:disabled|suspended|inactivated)|tried to reach is (?:disabled|inactive)|"
        r"no longer accepts mail",
    ),
    (
        "hasmoved",
        r"has moved|address (?:has )?changed|is no longer (?:valid|available|in use|at)|"
        r"moved to another|new (?:e-?mail )?address is",
    ),
    (
        "hostunknown",
        r"host (?:or domain name )?not found|host \S+ not found|host unknown|unknown host|no such (?:host|domain)|"
        r"domain (?:name )?(?:not found|does not exist|doesn't exist|unknown|is not found)|"
        r"unrouteable (?:mail )?domain|name or service not known|nxdomain|no mx (?:record|host)|"
        r"no (?:valid )?mx|name service error|could not resolve|unresolvable|"
        r"domain (?:lookup|name) (?:failed|error)|mail exchanger|unknown domain|"
        r"invalid domain|bad destination system|domain .{0,60} not exist|"
        r"domain (?:is )?not reachable|couldn't find any host|could not find any host|"
        r"mx records point to non-existent hosts|dns domain does not exist",
    ),
    (
        "notaccept",
        r"does not accept (?:e-?)?mail|doesn't accept (?:e-?)?mail|null mx|accepts no mail|"
        r"not accepting (?:any )?(?:e-?)?mail|no smtp service|no mx found",
    ),
    (
        "userunknown",
        r"user(?:name)? (?:is )?unknown|unknown (?:local[- ]?part|user|recipient|mailbox|address|alias|account)|"
        r"no such (?:user|mailbox|recipient|address|account|local user|person)|"
        r"(?:user|mailbox|recipient|address|account|addressee|e-?mail address|destination) "
        r"(?:\S+ )?(?:does not|doesn't|did not|no longer) exists?|"
        r"(?:user|mailbox|recipient|address|account|addressee) (?:was |is )?(?:not found|unknown|invalid|"
        r"not (?:a )?(?:known|valid|registered)|not listed|nonexistent|non-existent|not exist)|"
        r"invalid (?:recipient|mailbox|user|address|e-?mail address|account)|"
        r"not a valid (?:mailbox|recipient|user|address)|no mailbox|mailbox (?:not found|unavailable)|"
        r"unrouteable address|undeliverable address|bad (?:destination )?mailbox|"
        r"account that you tried to reach does not exist|unknown or illegal alias|"
        r"recipient rejected|recipient not|not our customer|no account|addressee unknown|"
        r"user not found|unknown user|recipients? (?:are|is) invalid|"
        r"no such address|address (?:is )?not (?:valid|found)|not a known user|"
        r"mailbox (?:name )?(?:not allowed|invalid)|does not have an? (?:account|mailbox)|"
        r"(?:user|address) (?:not|isn't) (?:found|here|local)|"
        r"is not a valid|there is no (?:one|user|mailbox)|"
        r"invalid .{0,25}user(?:id|name)?\b|(?:user|recipient) (?:does not|doesn't) have an? .{0,40}account|"
        r"address (?:couldn't|could not|can't|cannot) be found|no valid recipients?|"
        r"check (?:if|that|whether) (?:the )?(?:e-?mail )?address is correct|"
        r"unknown$|does not exist|doesn't exist|no such|not exist|"
        r"recipient address rejected(?:\.|$|\s*[(\[])|"
        # The same in other languages MTAs answer in (de, fr, es, it, pt, nl).
        r"benutzer unbekannt|unbekannter (?:benutzer|empf[aä]nger)|existiert nicht|"
        r"utilisateur inconnu|destinataire (?:inconnu|invalide)|n'existe pas|"
        r"usuario (?:desconocido|no existe)|utente (?:sconosciuto|inesistente)|"
        r"usu[aá]rio (?:desconhecido|inexistente)|onbekende gebruiker",
    ),
    (
        "expired",
        r"retry time(?:out)? (?:exceeded|expired|limit)|too long in (?:the )?queue|"
        r"message expired|has been in the queue too long|queue too long|giving up|gave up|"
        r"not going to try again|delivery time expired|could not be delivered within|"
        r"maximum time|timed? ?out|time-?out|retry period|has not been delivered|delayed",
    ),
    (
        "networkerror",
        r"connection (?:refused|reset|closed|lost|failed|dropped)|network (?:is )?unreachable|"
        r"unable to connect|could not connect|can't connect|cannot connect|"
        r"failed to connect|establish (?:an )?smtp connection|lost connection|"
        r"loop(?:s)? back|mail loop|forwarding loop|too many hops|hop count|routing loop|dns error|"
        r"temporary failure in name|malformed or unexpected name server|try again|servfail|"
        r"no route to host",
    ),
    (
        "syntaxerror",
        r"syntax error|command unrecognized|unrecognized command|bad sequence",
    ),
    (
        "systemerror",
        r"system error|internal error|server error|local error|temporary (?:local )?problem|"
        r"service (?:not available|unavailable)|system (?:is )?(?:not available|unavailable)",
    ),
)
_COMPILED: Final = tuple((name, re.compile(rx, re.IGNORECASE)) for name, rx in _TEXT_RULES)

# RFC 3463 subject.detail -> reason, for statuses specific enough to decide alone.
_STATUS_RULES: Final[dict[tuple[int, int], str]] = {
    (1, 0): "userunknown",  # other address status: sisimai reads it as the address
    (1, 1): "userunknown",  # bad destination mailbox address
    (1, 2): "hostunknown",  # bad destination system address
    (1, 3): "userunknown",  # bad destination mailbox address syntax
    (1, 4): "userunknown",  # destination mailbox address ambiguous
    (1, 6): "hasmoved",  # destination mailbox has moved, no forwarding address
    (1, 7): "rejected",  # bad sender's mailbox address syntax
    (1, 8): "rejected",  # bad sender's system address
    (1, 9): "rejected",
    (1, 10): "notaccept",  # recipient address has null MX (RFC 7505)
    (2, 0): "filtered",
    (2, 1): "suspend",  # mailbox disabled, not accepting messages
    (2, 2): "mailboxfull",
    (2, 3): "mesgtoobig",
    (2, 4): "systemerror",  # mailing list expansion problem
    (3, 0): "systemerror",
    (3, 1): "systemfull",
    (3, 2): "systemerror",
    (3, 3): "systemerror",
    (3, 4): "mesgtoobig",
    (3, 5): "systemerror",
    (4, 0): "networkerror",
    (4, 1): "networkerror",
    (4, 2): "networkerror",
    (4, 3): "systemerror",
    (4, 4): "hostunknown",  # unable to route (5.4.4); for 4.4.4 the class decides soft
    (4, 5): "networkerror",
    (4, 6): "networkerror",  # routing loop
    (4, 7): "expired",
    (5, 0): "syntaxerror",
    (5, 1): "syntaxerror",
    (5, 2): "syntaxerror",
    (5, 3): "toomanyrecipients",
    (5, 4): "syntaxerror",
    (6, 0): "contenterror",
    (7, 0): "securityerror",
    (7, 1): "blocked",
    (7, 23): "authfailure",
    (7, 25): "requireptr",
    (7, 26): "authfailure",
    (7, 27): "notaccept",  # sender address has null MX
}


def find_status(text: str) -> str | None:
    """The first RFC 3463 enhanced status code in `text` ("5.1.1"), or None."""
    m = STATUS_RE.search(text or "")
    return f"{m.group(1)}.{int(m.group(2))}.{int(m.group(3))}" if m else None


def find_reply_code(text: str) -> str | None:
    """The first RFC 5321 reply code ("550") in `text`, or None."""
    m = REPLY_RE.search(text or "")
    return m.group(1) if m else None


def is_generic(status: str | None) -> bool:
    """True for a missing status or one that says nothing specific (x.0.0)."""
    return status is None or status.endswith(".0.0") or status.count(".") != 2


_ADDRESS_IN_TEXT: Final = re.compile(r"https?://\S+|[^\s<>\"'@]+@[^\s<>\"']+")


def reason_from_text(text: str) -> str | None:
    """The first reason whose well-known phrasing appears in `text`, or None.

    Addresses and URLs are blanked first: "filtered@example.com" or ".../#filtered"
    say nothing about a filter."""
    if not text:
        return None
    text = _ADDRESS_IN_TEXT.sub("<address>", text)
    for name, rx in _COMPILED:
        if rx.search(text):
            return name
    return None


def reason_from_status(status: str | None) -> str | None:
    """The reason RFC 3463 gives a specific status code, or None when it is generic."""
    if is_generic(status):
        return None
    assert status is not None
    cls, subject, detail = (int(p) for p in status.split("."))
    if cls == 2:
        return "delivered"
    if subject == 7:
        return _STATUS_RULES.get((7, detail), "securityerror")
    return _STATUS_RULES.get((subject, detail))


# Status-code reasons that speak about the address itself.
_ADDRESS_CLASS: Final = ("userunknown", "hostunknown", "hasmoved", "notaccept")

# Yahoo's mail platform (yahoo.com, ymail.com, rocketmail.com, aol.com...) accepts every
# RCPT TO and refuses a non-existent account at the end of DATA, in its own words:
# "554 delivery error: dd This user doesn't have a yahoo.com account (...)". That names
# the account, unlike the bare "Unknown user" some carriers' sender filters answer to
# DATA, so it stays a verdict on the address.
_ACCOUNT_ABSENT_AT_DATA: Final = re.compile(r"\bthis user doesn'?t have an? \S+ account\b", re.I)


def decide(
    status: str | None, diagnostic: str, *, temporary: bool = False, command: str | None = None
) -> tuple[str, bool]:
    """(reason, hard) for one failed recipient.

    `status` is the RFC 3463 code when known, `diagnostic` the SMTP reply or the MTA's
    text for this recipient, `temporary` True for a delayed (not yet given up) delivery.
    The text decides when it names a cause (servers put policy and spam rejections behind
    5.1.1 and generic 5.0.0 codes alike); else a specific status code decides; a 5.7.x
    is never hard (a sender alert) except a recipient null MX reported as 5.7.27 (RFC
    7505, see `_recipient_null_mx`); a delayed delivery is never hard. `command` is the
    SMTP command the reply answered when the report says ("RCPT", "DATA", "MAIL"): a
    "user unknown" answered to DATA comes from a content filter (sisimai's "filtered"),
    since the address was already accepted at RCPT TO, unless the code itself is
    address-class (a pipelined RCPT answer read after DATA) or the text is Yahoo's
    "This user doesn't have a ... account", which Yahoo only says after DATA. A "host not found" with a
    4.x.x status is a DNS failure that may pass (networkerror). Returns a sisimai-style
    reason name and whether the address itself is bad.
    """
    by_code = reason_from_status(status)
    by_text = reason_from_text(diagnostic)
    reason = by_text or by_code or ("expired" if temporary else "undefined")
    if find_reply_code(diagnostic) in ("521", "556") and by_text in (None, "systemerror"):
        # RFC 7504: 521 and 556 say the host does not accept mail at all.
        reason = "notaccept"
    if by_code in _ADDRESS_CLASS and by_text in (
        None,
        "expired",
        "systemerror",
        "syntaxerror",
        "policyviolation",
    ):
        # An address-class code with text that names no other cause: the code decides.
        reason = by_code
    if by_code == "delivered":
        return "delivered", False
    if (
        reason == "userunknown"
        and command == "DATA"
        and by_code not in _ADDRESS_CLASS
        and not _ACCOUNT_ABSENT_AT_DATA.search(diagnostic or "")
    ):
        reason = "filtered"
    if reason == "hostunknown" and status is not None and status.startswith("4."):
        reason = "networkerror"
    hard = reason in HARD_REASONS and not temporary
    if status is not None and status.startswith("5.7.") and not _recipient_null_mx(status, by_text):
        hard = False
    if reason == "notaccept" and status is not None and not status.startswith("5"):
        hard = False
    return reason, hard


def _recipient_null_mx(status: str, by_text: str | None) -> bool:
    """True for a 5.7.27 whose text says the destination accepts no mail.

    RFC 7505 has two codes: X.1.10 "recipient address has null MX" (the address can
    never receive mail: address-class, hard) and X.7.27 "sender address has null MX".
    Some MTAs (sendmail: "550 Host does not accept mail") report the recipient's null
    MX under 5.7.27. A sender-side refusal names the sender ("Sender address rejected:
    Domain ... does not accept mail"), which our rules read as "rejected" first; so a
    5.7.27 whose text reads "notaccept" is the recipient's case, and the only 5.7.x
    allowed to be hard."""
    return status == "5.7.27" and by_text == "notaccept"
