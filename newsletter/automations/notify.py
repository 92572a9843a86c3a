"""Telling the authors that an automation left a draft for them.

Sent to every active author and admin (the people who can open the draft), one
message each, after the run committed (a Celery task, so SMTP never holds up a run).
It is not list mail: no List-Unsubscribe, and it goes to users, not subscribers.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.config import Settings
from newsletter.mail.transport import EmailSender
from newsletter.models import Automation, Issue, User

TEMPLATE = "draft_ready"


def recipients(session: Session) -> list[str]:
    """Addresses of every active author and admin."""
    return list(session.scalars(select(User.email).where(User.active.is_(True)).order_by(User.id)))


def notify_draft(
    session: Session, *, issue_id: int, automation_id: int, settings: Settings, sender: EmailSender
) -> list[str]:
    """Mail each author the draft's subject and its editor link; the addresses mailed.

    Nothing is sent when the issue has gone or is no longer a draft (someone was quick).
    Raises the transport's TemporaryFailure / PermanentFailure for the caller to retry.
    """
    from newsletter.mail import envelope
    from newsletter.mail.message import Recipient
    from newsletter.models import IssueStatus
    from newsletter.render import branding_from_settings, render_transactional

    issue = session.get(Issue, issue_id)
    if issue is None or issue.status is not IssueStatus.DRAFT:
        return []
    automation = session.get(Automation, automation_id)
    context = {
        "editor_url": f"{settings.base_url.rstrip('/')}/author/issues/{issue_id}",
        "issue_subject": issue.subject,
        "automation_name": automation.name if automation else "",
        "post_count": str(len(issue.items)),
    }
    rendered = render_transactional(TEMPLATE, context, branding_from_settings(settings))
    template = envelope.transactional_template(rendered, settings, kind=TEMPLATE, list_mail=False)
    sent = []
    for address in recipients(session):
        message = template.personalise(
            Recipient(
                email=address,
                name="",
                message_id=envelope.new_message_id(settings, TEMPLATE, issue_id),
                unsubscribe_url="",
                preferences_url="",
            )
        )
        sender.send(
            envelope_from=envelope.envelope_sender(settings),
            recipients=[address],
            message=envelope.seal(settings, message),
        )
        sent.append(address)
    return sent
