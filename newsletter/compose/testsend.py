"""Test sends: the real message, to a few addresses, outside every statistic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.mail import envelope
from newsletter.mail.message import Recipient
from newsletter.mail.transport import EmailSender, SendError
from newsletter.subscribers.tokens import unsubscribe_url

from .errors import ComposeError, TestSendError
from .issues import get_issue
from .preview import neutral_values, render_issue_email

MAX_TEST_RECIPIENTS = 5
TEST_PREFIX = "[Test] "


def clean_test_addresses(emails: Sequence[str]) -> list[str]:
    """1 to 5 valid addresses, normalized (lower-cased) and without duplicates; blanks skipped.

    Raises ComposeError for an address email_validator refuses (RFC 5321/5322 syntax; no
    DNS check), for none at all, or for more than MAX_TEST_RECIPIENTS (5).
    """
    found: dict[str, None] = {}
    for raw in emails:
        address = raw.strip()
        if not address:
            continue
        try:
            checked = validate_email(address, check_deliverability=False, allow_smtputf8=True)
        except EmailNotValidError as exc:
            raise ComposeError(f"{address}: {exc}") from None
        # Stored the way subscribers are (lower-cased, U-label domain); the transport
        # sends the A-label, and a non-ASCII local part with SMTPUTF8 where offered.
        found.setdefault(checked.normalized.lower(), None)
    if not found:
        raise ComposeError("give at least one address for the test")
    if len(found) > MAX_TEST_RECIPIENTS:
        raise ComposeError(f"a test goes to at most {MAX_TEST_RECIPIENTS} addresses")
    return list(found)


def split_addresses(text: str) -> list[str]:
    """Addresses typed into one box, separated by commas, semicolons or new lines."""
    return [part for part in text.replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def send_test(
    session: Session,
    *,
    issue_id: int,
    emails: Sequence[str],
    sender: EmailSender,
    settings: Settings,
) -> list[str]:
    """Send the whole issue (every post) to each address, subject prefixed "[Test] ";
    returns the cleaned addresses.

    No Delivery rows are written, so a test never counts in stats or blocks the
    real send to an address that is also a subscriber. Raises ComposeError for bad
    addresses (see clean_test_addresses), IssueNotFound, and TestSendError (a ComposeError)
    when the mail server refuses one; the addresses before it were sent.
    """
    addresses = clean_test_addresses(emails)
    issue = get_issue(session, issue_id, with_posts=True)
    rendered, _count = render_issue_email(session, issue, settings=settings)
    rendered = replace(rendered, subject=TEST_PREFIX + rendered.subject)
    template = envelope.test_template(rendered, settings, issue_id=issue.id)
    links = neutral_values(settings)
    for address in addresses:
        message = envelope.seal(
            settings,
            template.personalise(
                Recipient(
                    email=address,
                    name="",
                    message_id=envelope.new_message_id(settings, "test", issue.id),
                    # A signed link for nobody (id 0): a one-click POST to it answers 200 and
                    # changes nothing, as RFC 8058 receivers expect of every List-Unsubscribe.
                    unsubscribe_url=unsubscribe_url(0, address, settings=settings),
                    preferences_url=links["preferences_url"],
                )
            ),
        )
        try:
            sender.send(
                envelope_from=envelope.envelope_sender(settings),
                recipients=[address],
                message=message,
            )
        except SendError as exc:
            raise TestSendError(f"the mail server refused the test to {address}: {exc}") from None
    return addresses
