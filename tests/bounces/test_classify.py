"""Each classification rule on small hand-written messages (variants of the corpus kinds)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.bounces.classify import MAX_BYTES, classify
from newsletter.bounces.reasons import decide, find_status


def dsn(
    *,
    recipient: str = "reader@example.com",
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str | None = "smtp; 550 5.1.1 <reader@example.com>: User unknown",
    auto_submitted: str = "auto-replied",
    human: str = "Your message could not be delivered.",
    original_headers: str = (
        "Return-Path: <bounces+d42-abcdefghijklmnop@bounces.news.example.org>\n"
        "From: News <news@example.org>\n"
        "To: reader@example.com\n"
        "Subject: Issue 7\n"
        "Message-ID: <d42.i7@news.example.org>\n"
    ),
) -> bytes:
    """An RFC 3464 report: text, message/delivery-status, text/rfc822-headers."""
    diag = f"Diagnostic-Code: {diagnostic}\n" if diagnostic else ""
    return (
        "Return-Path: <>\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        "To: bounces+d42-abcdefghijklmnop@bounces.news.example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Auto-Submitted: {auto_submitted}\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n'
        "\n--B\nContent-Type: text/plain\n\n"
        f"{human}\n"
        "\n--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        f"Action: {action}\n"
        f"Status: {status}\n"
        f"{diag}"
        "\n--B\nContent-Type: text/rfc822-headers\n\n"
        f"{original_headers}"
        "\n--B--\n"
    ).encode()


def text_bounce(body: str, subject: str = "failure notice") -> bytes:
    """A bounce with no DSN part: qmail, Exim and friends write only prose."""
    return (
        "Return-Path: <>\n"
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: bounces+d9-abcdefghijklmnop@bounces.news.example.org\n"
        f"Subject: {subject}\n"
        "\n"
        f"{body}\n"
    ).encode()


# --- DSN status codes (RFC 3463) --------------------------------------------------


def test_dsn_5_1_1_is_a_hard_bounce_with_its_status_and_original():
    result = classify(dsn())
    assert result.kind == "bounce"
    [r] = result.recipients
    assert (r.address, r.status, r.reason, r.hard) == (
        "reader@example.com",
        "5.1.1",
        "userunknown",
        True,
    )
    assert result.original_message_id == "<d42.i7@news.example.org>"
    assert ("Subject", "Issue 7") in result.original_headers
    assert result.verp_tokens == ("d42-abcdefghijklmnop",)


def test_dsn_recipient_is_lower_cased():
    result = classify(dsn(recipient="Reader@Example.COM"))
    assert result.recipients[0].address == "reader@example.com"


@pytest.mark.parametrize(
    ("status", "diagnostic", "reason"),
    [
        ("5.2.2", "smtp; 552 5.2.2 Mailbox full", "mailboxfull"),
        (
            "5.2.2",
            "smtp; 552 5.2.2 The email account that you tried to reach is over quota",
            "mailboxfull",
        ),
        ("5.3.4", "smtp; 552 5.3.4 Message size exceeds fixed maximum message size", "mesgtoobig"),
        ("5.7.1", "smtp; 550 5.7.1 Message rejected due to local policy", "policyviolation"),
        (
            "5.7.1",
            "smtp; 554 5.7.1 Service unavailable; client host [192.0.2.1] blocked using zen.spamhaus.org",
            "blocked",
        ),
        ("5.7.26", "smtp; 550 5.7.26 Unauthenticated email is not accepted: DMARC", "authfailure"),
        (
            "5.7.1",
            "smtp; 550 5.7.1 Our system has detected that this message is likely unsolicited mail (spam)",
            "spamdetected",
        ),
        ("5.0.0", "smtp; 550 Mailbox quota exceeded", "mailboxfull"),
    ],
)
def test_a_5xx_that_is_not_the_address_s_fault_is_soft(status, diagnostic, reason):
    [r] = classify(dsn(status=status, diagnostic=diagnostic)).recipients
    assert r.reason == reason
    assert r.hard is False


def test_5_7_x_is_never_hard_even_when_the_text_says_user_unknown():
    [r] = classify(dsn(status="5.7.1", diagnostic="smtp; 550 5.7.1 User unknown")).recipients
    assert r.hard is False


@pytest.mark.parametrize(
    ("status", "diagnostic", "reason"),
    [
        (
            "5.1.1",
            "smtp; 550 5.1.1 The email account that you tried to reach does not exist",
            "userunknown",
        ),
        (
            "5.1.10",
            "smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "userunknown",
        ),
        (
            "5.4.4",
            "X-Postfix; Host or domain name not found. Name service error for name=nowhere.example type=A: Host not found",
            "hostunknown",
        ),
        ("5.1.2", None, "hostunknown"),
        ("5.1.6", "smtp; 551 5.1.6 Recipient has moved", "hasmoved"),
        ("5.0.0", "smtp; 550 No such user here", "userunknown"),
    ],
)
def test_an_address_class_failure_is_hard(status, diagnostic, reason):
    [r] = classify(dsn(status=status, diagnostic=diagnostic)).recipients
    assert (r.reason, r.hard) == (reason, True)


def test_a_forwarded_recipient_keeps_the_original_recipient_we_sent_to():
    raw = dsn(recipient="reader@forwarded.example").replace(
        b"Final-Recipient:", b"Original-Recipient: rfc822; Reader@Example.com\nFinal-Recipient:"
    )
    [r] = classify(raw).recipients
    assert (r.address, r.original_recipient) == ("reader@forwarded.example", "reader@example.com")


def test_a_generic_status_takes_the_specific_code_from_the_diagnostic():
    [r] = classify(
        dsn(status="5.0.0", diagnostic="smtp; 550 5.2.2 <reader@example.com>: mailbox full")
    ).recipients
    assert (r.status, r.reason, r.hard) == ("5.2.2", "mailboxfull", False)


def test_a_delayed_dsn_is_a_soft_bounce():
    [r] = classify(
        dsn(action="delayed", status="4.4.1", diagnostic="smtp; 421 4.4.1 Connection timed out")
    ).recipients
    assert r.hard is False
    assert r.status == "4.4.1"


def test_a_success_dsn_is_not_a_bounce():
    result = classify(dsn(action="delivered", status="2.0.0", diagnostic="smtp; 250 2.0.0 OK"))
    assert result.kind == "not-bounce"
    assert [(r.address, r.reason, r.hard) for r in result.recipients] == [
        ("reader@example.com", "delivered", False)
    ]


def test_a_dsn_with_only_auto_submitted_auto_generated_is_a_bounce():
    result = classify(dsn(auto_submitted="auto-generated (failure)"))
    assert result.kind == "bounce"
    assert result.recipients[0].hard is True


def test_a_user_unknown_answered_to_data_is_a_filter_not_a_bad_address():
    # No address-class code, and the transcript shows the reply came after DATA.
    [r] = classify(
        dsn(
            status="5.0.0",
            diagnostic="smtp; 550 Unknown user reader@example.com",
            human="... while talking to mx.example.com.:\n>>> DATA\n<<< 550 Unknown user reader@example.com",
        )
    ).recipients
    assert (r.reason, r.hard) == ("filtered", False)


@pytest.mark.parametrize(
    "reply",
    [
        "554 delivery error: dd This user doesn't have a yahoo.com account"
        " (reader@yahoo.com) [0] - mta1061.mail.ne1.yahoo.com",
        "554 delivery error: dd This user doesn't have a ymail.com account (reader@ymail.com) [0]",
        "host mx-aol.mail.gm0.yahoodns.net[192.0.2.7] said: 554 delivery error: dd This user"
        " doesn't have a aol.com account (reader@aol.com) [0] (in reply to end of DATA command)",
    ],
)
def test_yahoo_s_no_such_account_answered_to_data_is_still_a_bad_address(reply):
    # Yahoo accepts every RCPT TO and names the missing account after DATA: that is
    # not a content filter, unlike a bare "Unknown user" answered to DATA (above).
    [r] = classify(
        dsn(
            status="5.0.0",
            diagnostic=f"smtp; {reply}",
            human=f"... while talking to mta6.am0.yahoodns.net.:\n>>> DATA\n<<< {reply}",
        )
    ).recipients
    assert (r.reason, r.hard) == ("userunknown", True)


def test_yahoo_s_disabled_account_after_data_stays_soft():
    reply = (
        "554 delivery error: dd Sorry your message to reader@yahoo.com cannot be delivered."
        " This account has been disabled or discontinued [#102]."
    )
    [r] = classify(
        dsn(status="5.0.0", diagnostic=f"smtp; {reply}", human=f">>> DATA\n<<< {reply}")
    ).recipients
    assert (r.reason, r.hard) == ("suspend", False)


@pytest.mark.parametrize(
    ("status", "diagnostic", "reason", "hard"),
    [
        # sendmail reports the recipient domain's null MX under 5.7.27.
        ("5.7.27", "smtp; 550 Host does not accept mail", "notaccept", True),
        ("5.7.27", "smtp; 550 5.7.27 Domain example.com does not accept mail", "notaccept", True),
        # Our own sender domain's null MX: not the subscriber's fault.
        (
            "5.7.27",
            "smtp; 550 5.7.27 <news@example.org>: Sender address rejected: Domain example.org"
            " does not accept mail (nullMX)",
            "rejected",
            False,
        ),
        ("5.7.27", "smtp; 550 5.7.27 Sender address has null MX", "rejected", False),
        ("5.7.27", None, "notaccept", False),
        # Any other 5.7.x stays a sender alert, whatever the text says.
        ("5.7.1", "smtp; 550 Host does not accept mail", "notaccept", False),
    ],
)
def test_only_a_recipient_null_mx_makes_a_5_7_27_hard(status, diagnostic, reason, hard):
    [r] = classify(dsn(status=status, diagnostic=diagnostic)).recipients
    assert (r.reason, r.hard) == (reason, hard)


# --- bounces with no DSN part ------------------------------------------------------


def test_text_only_user_unknown_without_a_code_is_hard():
    result = classify(
        text_bounce(
            "Hi. This is the qmail-send program at mx.example.net.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<gone@example.com>:\nUser unknown\n\n"
            "--- Below this line is a copy of the message.\n\n"
            "Return-Path: <bounces+d9-abcdefghijklmnop@bounces.news.example.org>\n"
            "Message-ID: <d9.i7@news.example.org>\n"
            "To: gone@example.com\nSubject: Issue 7\n"
        )
    )
    assert result.kind == "bounce"
    [r] = result.recipients
    assert (r.address, r.reason, r.hard) == ("gone@example.com", "userunknown", True)
    assert result.original_message_id == "<d9.i7@news.example.org>"
    assert "d9-abcdefghijklmnop" in result.verp_tokens


@pytest.mark.parametrize(
    ("diagnostic", "hard"),
    [
        ("550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown", True),
        ("552 5.2.2 <gone@example.com>: Mailbox full", False),
        ("Mailbox is full / Blocks limit exceeded / Inode limit exceeded", False),
        ("554 5.7.1 Message rejected as spam by Content Filtering", False),
        ("Host or domain name not found", True),
        ("Connection timed out; giving up", False),
    ],
)
def test_exim_style_prose_bounces(diagnostic, hard):
    result = classify(
        text_bounce(
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            f"  gone@example.com\n    {diagnostic}\n\n"
            "------ This is a copy of the message, including all the headers. ------\n\n"
            "To: gone@example.com\nSubject: Issue 7\n",
            subject="Mail delivery failed: returning message to sender",
        )
    )
    assert result.kind == "bounce"
    [r] = result.recipients
    assert r.address == "gone@example.com"
    assert r.hard is hard


def test_a_prose_bounce_with_crlf_line_endings_reads_the_same():
    raw = text_bounce(
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        "  gone@example.com.\n    550 5.1.1 User unknown\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        "To: gone@example.com\nMessage-ID: <d9.i7@news.example.org>\n"
    ).replace(b"\n", b"\r\n")
    result = classify(raw)
    assert [(r.address, r.hard) for r in result.recipients] == [("gone@example.com", True)]
    assert result.original_message_id == "<d9.i7@news.example.org>"


# --- auto-replies (RFC 3834) ---------------------------------------------------------


def test_a_vacation_reply_is_an_autoreply_not_a_bounce():
    raw = (
        b"From: Reader <reader@example.com>\n"
        b"To: news@example.org\n"
        b"Subject: Out of Office: Issue 7\n"
        b"Auto-Submitted: auto-replied\n"
        b"\n"
        b"I am out of the office until Monday with limited access to email.\n"
    )
    result = classify(raw)
    assert result.kind == "autoreply"
    assert [(r.address, r.hard) for r in result.recipients] == [("reader@example.com", False)]


def test_auto_submitted_alone_does_not_make_an_ordinary_mail_an_autoreply():
    raw = (
        b"From: Robot <robot@example.com>\nTo: news@example.org\n"
        b"Subject: Your weekly report\nAuto-Submitted: auto-generated\n\nNumbers.\n"
    )
    assert classify(raw).kind == "not-bounce"


def test_a_person_s_reply_is_not_a_bounce_nor_an_autoreply():
    raw = (
        b"From: Reader <reader@example.com>\nTo: news@example.org\nSubject: Re: Issue 7\n\n"
        b"Thanks! I was out of the office last week; please also add bob@example.com.\n"
    )
    result = classify(raw)
    assert result.kind == "not-bounce"
    assert result.recipients == ()


def test_an_exchange_automatic_reply_without_auto_submitted_is_an_autoreply():
    raw = (
        b"From: Reader <reader@example.com>\nTo: news@example.org\n"
        b"Subject: Automatic reply: Issue 7\nX-Auto-Response-Suppress: All\n\n"
        b"I'm away this week.\n"
    )
    assert classify(raw).kind == "autoreply"


# --- complaints (RFC 5965, Amazon SES) ------------------------------------------------


def arf(original_rcpt: str = "") -> bytes:
    rcpt = f"Original-Rcpt-To: {original_rcpt}\n" if original_rcpt else ""
    return (
        "From: Feedback Loop <fbl@isp.example>\n"
        "To: abuse@example.org\n"
        "Subject: FW: Issue 7\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\n'
        "\n--F\nContent-Type: text/plain\n\nThis is an abuse report.\n"
        "\n--F\nContent-Type: message/feedback-report\n\n"
        "Feedback-Type: abuse\nUser-Agent: FBL/1.0\nVersion: 1\n"
        f"{rcpt}"
        "\n--F\nContent-Type: message/rfc822\n\n"
        "Return-Path: <bounces+d77-abcdefghijklmnop@bounces.news.example.org>\n"
        "From: News <news@example.org>\n"
        "To: redacted@isp.example.invalid\n"
        "Message-ID: <d77.i7@news.example.org>\n"
        "Subject: Issue 7\n\nHello.\n"
        "\n--F--\n"
    ).encode()


def test_an_arf_report_with_a_redacted_recipient_is_a_complaint_with_the_message_id():
    result = classify(arf().replace(b"To: redacted@isp.example.invalid", b"To: <redacted>"))
    assert result.kind == "complaint"
    assert result.recipients == ()
    assert result.feedback_type == "abuse"
    assert result.original_message_id == "<d77.i7@news.example.org>"
    assert result.verp_tokens == ("d77-abcdefghijklmnop",)


def test_an_arf_report_names_the_original_rcpt_to():
    result = classify(arf(original_rcpt="Reader@Example.com"))
    assert result.kind == "complaint"
    assert [(r.address, r.reason, r.hard) for r in result.recipients] == [
        ("reader@example.com", "feedback", False)
    ]


def test_an_ses_complaint_notification_by_email_is_a_complaint():
    body = json.dumps(
        {
            "notificationType": "Complaint",
            "complaint": {
                "complainedRecipients": [{"emailAddress": "Reader@example.com"}],
                "complaintFeedbackType": "abuse",
            },
            "mail": {"messageId": "0100-abc"},
        }
    )
    raw = (
        "From: no-reply@sns.amazonaws.com\nTo: ops@example.org\n"
        "Subject: AWS Notification Message\n\n" + body + "\n"
    ).encode()
    result = classify(raw)
    assert result.kind == "complaint"
    assert [r.address for r in result.recipients] == ["reader@example.com"]


# --- bad input: never raise, stay fast --------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage \x80\x81" * 100,
        b"not an email at all",
        b"Content-Type: multipart/report; boundary=\n\n--",
        dsn()[: len(dsn()) // 2],  # truncated in the middle of the DSN part
        b"Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822;\nStatus: 9.9.9\n",
        b"Content-Type: text/plain; charset=no-such-charset\nContent-Transfer-Encoding: base64\n\n!!!",
    ],
)
def test_garbage_is_not_a_bounce_and_never_raises(raw):
    result = classify(raw)
    assert result.kind in ("not-bounce", "bounce")
    if raw in (b"", b"not an email at all") or raw.startswith(b"\x00"):
        assert result.kind == "not-bounce"


def test_a_truncated_dsn_still_reads_what_is_there():
    raw = dsn()
    cut = raw[: raw.index(b"text/rfc822-headers")]
    result = classify(cut)
    assert result.kind == "bounce"
    assert result.recipients[0].address == "reader@example.com"


def _seconds(raw: bytes) -> float:
    start = time.perf_counter()
    classify(raw)
    return time.perf_counter() - start


def _grows_linearly(make: Callable[[int], bytes], n: int) -> tuple[float, float]:
    """Seconds to classify make(n // 4) and make(n), measured side by side (best of 2),
    so a loaded machine slows both alike. Linear work gives about x4, quadratic x16."""
    small, large = make(n // 4), make(n)
    return min(_seconds(small) for _ in range(2)), min(_seconds(large) for _ in range(2))


def test_a_20_mb_returned_attachment_is_read_in_bounded_time_and_classified():
    def returned(size: int) -> bytes:
        return dsn(original_headers="Subject: big\nContent-Type: text/plain\n\n" + "x" * size)

    huge = returned(20_000_000)
    assert len(huge) > MAX_BYTES * 10
    result = classify(huge)
    assert result.kind == "bounce"
    assert result.recipients[0].hard is True
    # Only the first MAX_BYTES are read: 20 MB costs about what 5 MB does.
    quarter, full = _grows_linearly(returned, 20_000_000)
    assert full < 3 * quarter + 0.05, (quarter, full)


_BOUNCE_HEAD = b"From: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail\nReturn-Path: <>\n\n"


@pytest.mark.parametrize(
    "make",
    [
        # Shapes that made regexes or flufl.bounce's line-by-line detectors take
        # seconds to minutes before the patterns and inputs were bounded.
        lambda n: _BOUNCE_HEAD + b" " * n,
        lambda n: _BOUNCE_HEAD + b"\n" * n,
        lambda n: _BOUNCE_HEAD + b"X-A: b\n" * (n // 7),
        lambda n: _BOUNCE_HEAD + b"X-A: b\n c\n" * (n // 10),
        lambda n: _BOUNCE_HEAD + b"a@b.example\n" * (n // 12),
        lambda n: _BOUNCE_HEAD + b"x@" + b"a-" * (n // 2) + b"b.c",
        lambda n: b"From x Mon Jan  1 0\n" * (n // 20),
        lambda n: (
            b"Content-Type: message/delivery-status\n\n"
            + b"Final-Recipient: rfc822; a@b.c\nStatus: 5.1.1\n\n" * (n // 50)
        ),
        lambda n: b"Subject: x\n\n" + b'{"notificationType":' + b"[" * n,
    ],
    ids=["spaces", "newlines", "headers", "folded", "addresses", "domain", "mbox", "dsn", "json"],
)
def test_pathological_input_is_read_in_linear_time(make):
    # About 500 kB each: the sizes that once took minutes. A relative bound, not a
    # wall-clock one, so a loaded machine does not fail it.
    result = classify(make(500_000))
    assert len(result.recipients) <= 100
    quarter, full = _grows_linearly(make, 500_000)
    assert full < 8 * quarter + 0.05, (quarter, full)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.binary(max_size=4000))
def test_arbitrary_bytes_never_raise(raw):
    result = classify(raw)
    assert result.kind in {"bounce", "autoreply", "complaint", "not-bounce"}
    assert all(r.address == r.address.lower() for r in result.recipients)
    assert len(result.recipients) <= 100


@settings(derandomize=True, max_examples=100, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["5.1.1", "5.2.2", "4.0.0", "", "5.7.1", "x"]))
def test_arbitrary_dsn_fields_never_raise(text, status):
    result = classify(dsn(status=status, diagnostic=text.replace("\n", " ")))
    # Whatever the diagnostic says, the report's structure names the recipient.
    assert result.kind == "bounce"
    assert [r.address for r in result.recipients] == ["reader@example.com"]


# --- the rules alone ----------------------------------------------------------------------


def test_find_status_reads_three_digit_details_and_ignores_version_numbers():
    assert find_status("550 5.7.26 Unauthenticated") == "5.7.26"
    assert find_status("Exim 4.80 said") is None
    assert find_status("550 #5.1.0 Address rejected") == "5.1.0"


def test_decide_uses_the_text_over_a_generic_code_and_the_code_over_empty_text():
    assert decide("5.0.0", "552 Mailbox full") == ("mailboxfull", False)
    assert decide("5.1.1", "") == ("userunknown", True)
    assert decide(None, "") == ("undefined", False)
    assert decide("4.1.1", "", temporary=True) == ("userunknown", False)


def test_an_address_in_the_text_does_not_trigger_a_rule():
    # "filtered@" and ".../#filtered" name nothing about a filter.
    reason, hard = decide("5.1.1", "550 5.1.1 <filtered@example.com>: User unknown")
    assert (reason, hard) == ("userunknown", True)


@pytest.mark.parametrize(
    ("status", "text", "reason", "hard"),
    [
        # Well-known wordings of MTA families beyond the corpus.
        (
            None,
            "User kijitora (kijitora@example.jp) not listed in Domino Directory",
            "userunknown",
            True,
        ),
        (
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "userunknown",
            True,
        ),
        ("5.0.0", "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##", "userunknown", True),
        (None, "Sorry, no mailbox here by that name. (#5.1.1)", "userunknown", True),
        (
            None,
            "Sorry, I couldn't find any host named nowhere.example. (#5.1.2)",
            "hostunknown",
            True,
        ),
        (None, "Unrouteable address", "userunknown", True),
        (None, "all relevant MX records point to non-existent hosts", "hostunknown", True),
        ("5.2.1", "The email account that you tried to reach is disabled.", "suspend", False),
        (
            "4.2.1",
            "The user you are trying to contact is receiving mail at a rate that prevents additional messages",
            "blocked",
            False,
        ),
        ("5.7.1", "RESOLVER.RST.NotAuthorized; not authorized", "blocked", False),
        (None, "550 Benutzer unbekannt", "userunknown", True),
        (None, "552 Postfach voll", "mailboxfull", False),
        (None, "550 Utilisateur inconnu", "userunknown", True),
        (None, "450 4.2.0 Mailbox temporarily unavailable", "systemerror", False),
        ("4.4.7", "retry timeout exceeded", "expired", False),
        (
            "5.4.4",
            "Host or domain name not found. Name service error for name=x.example type=A: Host not found",
            "hostunknown",
            True,
        ),
        (
            "4.4.3",
            "Host or domain name not found. Name service error: Host not found, try again",
            "networkerror",
            False,
        ),
        ("5.7.27", "550 5.7.27 Sender address has null MX", "rejected", False),
        ("5.1.10", "556 5.1.10 Recipient address has null MX", "notaccept", True),
    ],
)
def test_well_known_wordings(status, text, reason, hard):
    assert decide(status, text) == (reason, hard)
