"""Welcome with the latest issue, in one process against a real SMTP server, on SQLite
and PostgreSQL: the confirm page publishes the task only when the setting is on; the
delivery is a row of that issue, counted in its stats, never twice."""

from __future__ import annotations

import re

from sqlalchemy import select

from newsletter.automations import welcome
from newsletter.mail.ratelimit import Unlimited
from newsletter.models import Delivery, DeliveryStatus, Frequency, SubscriberStatus
from newsletter.sends.stats import issue_stats
from newsletter.subscribers import service
from newsletter.subscribers.tokens import Purpose, make_token, read_token

from ..sends.conftest import add_subscriber
from .conftest import add_post, posts_in, send_issue


def published(app) -> list[tuple[str, list[int]]]:  # type: ignore[no-untyped-def]
    """Drain the app's in-memory broker queue: (task name, args) of what was published."""
    out = []
    with app.extensions["celery"].connection_for_read() as conn:
        queue = conn.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            out.append((message.headers["task"], list(message.payload[0])))
            message.ack()
        queue.close()
    return out


def test_nothing_sent_yet_means_nothing_to_welcome_with(db_session, settings, pool):
    reader = add_subscriber(db_session, "new@example.org")
    outcome = welcome.send_latest(
        db_session, settings, subscriber_id=reader.id, sender=pool, limiter=Unlimited()
    )
    assert outcome.result == "no issue"


def test_latest_issue_once_with_categories_counted_in_its_stats(db_session, settings, smtp, pool):
    s = db_session
    ai, china = add_post(s, "AI news", ("AI",)), add_post(s, "China news", ("China",))
    add_subscriber(s, "old@example.org")
    send_issue(s, settings, pool, "Older", [ai])
    latest = send_issue(s, settings, pool, "Latest", [ai, china])
    before = issue_stats(s, latest)["sent"]
    reader = add_subscriber(s, "new@example.org", ("China",))
    weekly = add_subscriber(s, "weekly@example.org", frequency=Frequency.WEEKLY)

    def deliver(sid: int) -> str:
        return welcome.send_latest(
            s, settings, subscriber_id=sid, sender=pool, limiter=Unlimited()
        ).result

    assert deliver(reader.id) == "sent"
    assert deliver(reader.id) == "done"  # confirming twice
    service.unsubscribe(s, subscriber_id=reader.id, via="test")
    reader.status = SubscriberStatus.ACTIVE  # back again (as after a new confirmation)
    s.commit()
    assert deliver(reader.id) == "done"  # re-subscribing: still never twice
    [received] = smtp.by_rcpt()["new@example.org"]
    assert posts_in(received.message()) == [china.id]  # their categories applied
    assert received.message()["Subject"] == "Latest"
    s.expire_all()
    assert issue_stats(s, latest)["sent"] == before + 1

    # A digest reader's row is skipped "digest": their next digest carries the posts.
    assert deliver(weekly.id) == "skipped"
    row = s.scalar(select(Delivery).where(Delivery.subscriber_id == weekly.id))
    assert (row.issue_id, row.status, row.last_error) == (latest, DeliveryStatus.SKIPPED, "digest")
    assert "weekly@example.org" not in smtp.by_rcpt()


def test_a_temporary_failure_is_retried_later_and_sent_once(db_session, settings, smtp, pool):
    s = db_session
    post = add_post(s, "Post", ("AI",))
    latest = send_issue(s, settings, pool, "Latest", [post])
    reader = add_subscriber(s, "slow@example.org")
    smtp.reply = lambda rcpt: "451 4.3.2 try later"
    first = welcome.send_latest(
        s, settings, subscriber_id=reader.id, sender=pool, limiter=Unlimited()
    )
    assert first.result == "retry" and first.issue_id == latest
    smtp.reply = lambda rcpt: None
    again = welcome.send_latest(
        s, settings, subscriber_id=reader.id, sender=pool, limiter=Unlimited()
    )
    assert again.result == "sent"
    assert len(smtp.by_rcpt()["slow@example.org"]) == 1


def test_the_confirm_page_publishes_welcome_latest_only_when_on(
    db_session, send_app, connection, tmp_path
):
    from ..conftest import make_test_app

    def confirm_with(app, email: str) -> list[tuple[str, list[int]]]:  # type: ignore[no-untyped-def]
        with app.app_context():
            sub = add_subscriber(db_session, email, status=SubscriberStatus.PENDING)
            token = make_token(Purpose.CONFIRM, sub.id, sub.email)
            client = app.test_client()
            page = client.get(f"/confirm/{token}").get_data(as_text=True)
            form = re.search(r'name="form_signature" value="([^"]+)"', page)
            assert form is not None
            response = client.post(f"/confirm/{token}", data={"form_signature": form.group(1)})
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            assert read_token(Purpose.CONFIRM, token).subscriber_id == sub.id
            return [(name, args) for name, args in published(app) if args == [sub.id]]

    off = confirm_with(send_app, "off@example.org")
    assert [name for name, _ in off] == ["subscribers.send_welcome"]
    on_app = make_test_app(connection, tmp_path / "on", WELCOME_LATEST_ISSUE="on")
    on = confirm_with(on_app, "on@example.org")
    assert [name for name, _ in on] == ["subscribers.send_welcome", "digests.welcome_latest"]
