"""Raw messages as they land in a bounce mailbox: DSNs, auto-replies, garbage."""

from __future__ import annotations

from email.utils import make_msgid

BOUNCE_DOMAIN = "bounces.example.org"


def dsn(
    recipient: str,
    *,
    token: str | None,
    status: str = "5.1.1",
    diagnostic: str = "smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
    original_message_id: str = "<orig@news.example.org>",
    message_id: str | None = None,
) -> bytes:
    """A Postfix-style RFC 3464 report for one recipient, delivered to our VERP address
    (`token` None: to a plain bounces@ address)."""
    to = f"bounces+{token}@{BOUNCE_DOMAIN}" if token else f"bounces@{BOUNCE_DOMAIN}"
    mid = message_id or make_msgid(domain="mx.example.net")
    diag = diagnostic.format(rcpt=recipient)
    action = "failed" if status.startswith("5") else "delayed"
    text = f"""Return-Path: <>
Delivered-To: {to}
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {mid}
Date: Sun, 29 Nov 2026 10:00:00 +0000
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: {diag}

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: {diag}

--B1
Content-Type: text/rfc822-headers

Return-Path: <{to}>
From: News <news@example.org>
To: {recipient}
Subject: Issue 42
Message-ID: {original_message_id}

--B1--
"""
    return text.replace("\n", "\r\n").encode()


def autoreply(to: str) -> bytes:
    return f"""Delivered-To: {to}
From: jane@example.com
To: {to}
Subject: Out of office: Issue 42
Message-ID: {make_msgid(domain="example.com")}
Auto-Submitted: auto-replied
X-Autoreply: yes

I am on vacation until Monday and will read your message when I am back.
""".encode()


GARBAGE = b"\x00\x01\x02 this is not an email at all\n\xff\xfe and has no headers\n"


def arf(token: str, original_message_id: str) -> bytes:
    """An RFC 5965 abuse report whose recipient is redacted; the returned original
    carries our VERP return path and Message-ID."""
    return f"""From: feedback@fbl.example.net
To: bounces@{BOUNCE_DOMAIN}
Subject: Abuse report
Message-ID: {make_msgid(domain="fbl.example.net")}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <bounces+{token}@{BOUNCE_DOMAIN}>

--F
Content-Type: message/rfc822

Return-Path: <bounces+{token}@{BOUNCE_DOMAIN}>
From: News <news@example.org>
To: redacted@redacted.example
Subject: Issue 42
Message-ID: {original_message_id}

Hello.
--F--
""".replace("\n", "\r\n").encode()
