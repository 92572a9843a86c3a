"""What the CLI, the API and the author UI call: send now, pause, resume, cancel.

Each is the lifecycle transition plus, where a send must run, publishing its first
batch after the transition committed (a batch never sees the old status).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newsletter.models import Issue
from newsletter.queue import enqueue

from . import lifecycle

SEND_BATCH = "sends.send_batch"


def _issue(session: Session, issue_id: int) -> Issue:
    from newsletter.compose.issues import get_issue

    issue = get_issue(session, issue_id)
    session.refresh(issue)
    return issue


def send_now(session: Session, *, issue_id: int) -> Issue:
    """draft|scheduled -> sending, and publish the first batch.

    Raises IssueNotFound, InvalidTransition (already sending, sent, cancelled...),
    ComposeError (no posts).
    """
    lifecycle.start(session, issue_id=issue_id)
    enqueue(SEND_BATCH, issue_id)
    return _issue(session, issue_id)


def pause(session: Session, *, issue_id: int) -> Issue:
    """sending -> paused; batches stop within a few messages."""
    lifecycle.pause(session, issue_id=issue_id)
    return _issue(session, issue_id)


def resume(session: Session, *, issue_id: int) -> Issue:
    """paused -> sending, and publish a batch to carry on from the checkpoint."""
    lifecycle.resume(session, issue_id=issue_id)
    enqueue(SEND_BATCH, issue_id)
    return _issue(session, issue_id)


def cancel(session: Session, *, issue_id: int) -> Issue:
    """Stop an issue for good; what was sent stays sent."""
    lifecycle.cancel(session, issue_id=issue_id)
    return _issue(session, issue_id)
