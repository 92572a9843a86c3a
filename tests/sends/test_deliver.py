"""The send pipeline in one process, on SQLite and PostgreSQL, against a real SMTP server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsletter.compose import InvalidTransition, preview
from newsletter.mail import verp
from newsletter.mail.ratelimit import Unlimited
from newsletter.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from newsletter.sends import deliver, ledger, lifecycle
from newsletter.sends.stats import issue_stats
from newsletter.subscribers.suppression import is_suppressed

from .conftest import add_subscriber, drain, start

ELIGIBLE_WITH_POSTS = {"all", "ai", "china"} | {f"bulk{n}" for n in range(20)}


def rows(session, issue_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    found = session.execute(
        select(Subscriber.email, Delivery)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == issue_id)
    ).all()
    return dict(found)


def test_everyone_eligible_gets_exactly_one_message_with_their_posts(
    db_session, settings, world, smtp, pool
):
    issue, subs = world["issue"], world["subs"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)

    got = smtp.by_rcpt()
    assert set(got) == {subs[k].email for k in ELIGIBLE_WITH_POSTS}
    assert all(len(messages) == 1 for messages in got.values())
    ai = got["ai@example.org"][0].message().get_body(("plain",)).get_content()
    assert "Transformers explained" in ai and "Shenzhen" not in ai  # the child category counts
    china = got["china@example.org"][0].message().get_body(("plain",)).get_content()
    assert "Shenzhen notes" in china and "Transformers" not in china
    everything = got["all@example.org"][0].message().get_body(("plain",)).get_content()
    assert "Shenzhen notes" in everything and "Transformers explained" in everything

    ledger_rows = rows(db_session, issue.id)
    assert ledger_rows["cooking@example.org"].status is DeliveryStatus.SKIPPED
    assert ledger_rows["cooking@example.org"].last_error == "no matching posts"
    assert ledger_rows["weekly@example.org"].status is DeliveryStatus.SKIPPED
    assert ledger_rows["weekly@example.org"].last_error == "digest"
    for never in ("pending", "gone", "bounced", "blocked"):
        assert subs[never].email not in ledger_rows  # not a recipient at all
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status is IssueStatus.SENT
    stats = issue_stats(db_session, issue.id)
    assert (stats["sent"], stats["failed"], stats["skipped"], stats["remaining"]) == (23, 0, 2, 0)
    assert stats["recipients"] == 25


def test_the_preview_and_the_send_agree_on_who_gets_which_posts(
    db_session, settings, world, smtp, pool
):
    issue, subs = world["issue"], world["subs"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)
    got = smtp.by_rcpt()
    for key in ("all", "ai", "china"):
        shown = preview.render_preview(
            db_session, issue_id=issue.id, settings=settings, subscriber_id=subs[key].id
        )
        sent = got[subs[key].email][0].message().get_body(("plain",)).get_content()
        for title in ("Transformers explained", "Shenzhen notes"):
            assert (title in shown.text) == (title in sent), (key, title)


def test_every_message_carries_the_list_headers_and_a_verp_sender(
    db_session, settings, world, smtp, pool
):
    issue = world["issue"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)
    ledger_rows = rows(db_session, issue.id)
    for received in smtp.received:
        message = received.message()
        delivery = ledger_rows[received.rcpt]
        assert message["Message-ID"] == delivery.message_id
        unsubscribe = message["List-Unsubscribe"]
        assert re.fullmatch(
            r"<http://localhost/unsubscribe/[^>]+>, <mailto:unsubscribe@bounce\.example\.org\?subject=unsubscribe>",
            unsubscribe,
        )
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Id"] == "<newsletter.bounce.example.org>"
        assert message["Feedback-ID"] == f"issue{issue.id}:issue:newsletter:bounce.example.org"
        assert message["Date"]
        assert received.mail_from.endswith("@bounce.example.org")
        assert verp.read_address(received.mail_from, [settings.secret_key]) == delivery.id


def test_verp_tokens_cannot_be_forged():
    token = verp.make_token(42, "k" * 40)
    assert verp.read_token(token, ["k" * 40]) == 42
    assert verp.read_token(token.upper(), ["k" * 40]) == 42  # relays may change case
    assert verp.read_token(token, ["other-key" * 5]) is None
    assert verp.read_token(token.replace("d42", "d43"), ["k" * 40]) is None
    assert verp.read_address("bounces+d42-aaaaaaaaaaaaaaaa@x.org", ["k" * 40]) is None
    assert verp.read_address(f"other+{token}@x.org", ["k" * 40]) is None


def test_550_fails_that_address_and_5_1_x_suppresses_it_the_rest_go(
    db_session, settings, world, smtp, pool
):
    refused = {
        "bulk3@example.org": "550 5.1.1 no such user",
        "bulk9@example.org": "554 5.7.1 policy",
    }
    smtp.reply = refused.get
    issue = world["issue"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)
    ledger_rows = rows(db_session, issue.id)
    assert ledger_rows["bulk3@example.org"].status is DeliveryStatus.FAILED
    assert "5.1.1" in ledger_rows["bulk3@example.org"].last_error
    assert ledger_rows["bulk9@example.org"].status is DeliveryStatus.FAILED
    assert is_suppressed(db_session, "bulk3@example.org")
    assert not is_suppressed(db_session, "bulk9@example.org")  # a policy block is not the address
    # The next recipient on the same connection was unaffected (the session was reset).
    assert set(smtp.by_rcpt()) == {world["subs"][k].email for k in ELIGIBLE_WITH_POSTS} - set(
        refused
    )


def test_421_is_retried_until_the_server_recovers_and_everyone_gets_one(
    db_session, settings, world, smtp, pool
):
    calls = {"n": 0}

    def flaky(rcpt: str) -> str | None:
        calls["n"] += 1
        return "421 4.3.2 busy, try later" if calls["n"] <= 12 else None

    smtp.reply = flaky
    issue = world["issue"]
    start(db_session, issue.id)
    for _ in range(6):  # SEND_RETRY_DELAY=0: retries are due at once
        drain(db_session, settings, issue.id, pool)
    got = smtp.by_rcpt()
    assert set(got) == {world["subs"][k].email for k in ELIGIBLE_WITH_POSTS}
    assert all(len(v) == 1 for v in got.values())
    retried = [d for d in rows(db_session, issue.id).values() if d.attempts > 1]
    assert retried and all(d.status is DeliveryStatus.SENT for d in retried)


def test_temporary_failures_give_up_after_the_attempt_limit(
    db_session, send_app, settings, world, smtp, pool
):
    smtp.reply = lambda rcpt: "451 4.3.0 always later" if rcpt == "bulk1@example.org" else None
    issue = world["issue"]
    start(db_session, issue.id)
    for _ in range(settings.send_max_attempts + 2):
        drain(db_session, settings, issue.id, pool)
    row = rows(db_session, issue.id)["bulk1@example.org"]
    assert row.status is DeliveryStatus.FAILED
    assert row.attempts == settings.send_max_attempts
    assert "gave up" in row.last_error


def test_backoff_grows_exponentially_with_jitter(settings):
    from dataclasses import replace

    s = replace(settings, send_retry_delay=10)
    first = [deliver.backoff(s, 1) for _ in range(50)]
    third = [deliver.backoff(s, 3) for _ in range(50)]
    assert all(5 <= x <= 15 for x in first) and len(set(first)) > 1
    assert all(20 <= x <= 60 for x in third)


def test_an_unsubscribe_during_the_send_takes_effect_at_the_next_batch(
    db_session, settings, world, smtp, pool
):
    issue = world["issue"]
    start(db_session, issue.id)
    # Recipients already in the ledger, waiting to be sent...
    while deliver.materialize(db_session, settings, issue.id):
        pass
    pending = [d for d in rows(db_session, issue.id).values() if d.status is DeliveryStatus.PENDING]
    late = db_session.get(Subscriber, pending[-1].subscriber_id)
    db_session.execute(
        Subscriber.__table__.update()
        .where(Subscriber.id == late.id)
        .values(status=SubscriberStatus.UNSUBSCRIBED)
    )
    db_session.commit()
    drain(db_session, settings, issue.id, pool)
    assert late.email not in smtp.by_rcpt()
    assert rows(db_session, issue.id)[late.email].last_error == "unsubscribed"


def test_an_unsubscribe_takes_effect_inside_a_slow_batch(
    db_session, settings, world, smtp, pool, monkeypatch
):
    # A batch that is still sending after REJUDGE_EVERY (a low SEND_RATE) judges the rest
    # of its recipients again: readers who left meanwhile get nothing, however large the
    # batch. Here the re-judging happens at every flush, and everyone in bulk* leaves as
    # soon as the first message of the send has gone out.
    monkeypatch.setattr(deliver, "FLUSH_EVERY", 2)
    monkeypatch.setattr(deliver, "REJUDGE_EVERY", 0.0)
    issue = world["issue"]
    leavers = {s.email for name, s in world["subs"].items() if name.startswith("bulk")}
    sent_before: list[str] = []

    class LeaveAfterFirst:
        def send(self, *, envelope_from: str, recipients: list[str], message: bytes) -> None:
            pool.send(envelope_from=envelope_from, recipients=recipients, message=message)
            sent_before.extend(recipients)
            if len(sent_before) == 1:
                db_session.execute(
                    Subscriber.__table__.update()
                    .where(Subscriber.email.in_(leavers))
                    .values(status=SubscriberStatus.UNSUBSCRIBED)
                )
                db_session.commit()

    start(db_session, issue.id)
    first = deliver.run_batch(
        db_session, settings, issue_id=issue.id, sender=LeaveAfterFirst(), limiter=Unlimited()
    )
    # The first batch (7 claimed) held bulk0 and bulk1 after the three readers before them.
    claimed_leavers = [e for e, row in rows(db_session, issue.id).items() if e in leavers]
    assert claimed_leavers, "the first batch held none of the leavers: the test proves nothing"
    assert first.sent == len(sent_before) and set(sent_before).isdisjoint(leavers)
    for email in claimed_leavers:
        assert rows(db_session, issue.id)[email].last_error == "unsubscribed"
    drain(db_session, settings, issue.id, pool)
    assert leavers.isdisjoint(smtp.by_rcpt())


def deliver_limiter():  # type: ignore[no-untyped-def]
    from newsletter.mail.ratelimit import Unlimited

    return Unlimited()


def test_pause_stops_and_resume_finishes_without_duplicates(
    db_session, settings, world, smtp, pool
):
    issue = world["issue"]
    start(db_session, issue.id)
    deliver.run_batch(
        db_session, settings, issue_id=issue.id, sender=pool, limiter=deliver_limiter()
    )
    lifecycle.pause(db_session, issue_id=issue.id)
    before = len(smtp.received)
    assert deliver.run_batch(
        db_session, settings, issue_id=issue.id, sender=pool, limiter=deliver_limiter()
    ).stopped
    assert len(smtp.received) == before
    assert issue_stats(db_session, issue.id)["status"] == "paused"
    lifecycle.resume(db_session, issue_id=issue.id)
    drain(db_session, settings, issue.id, pool)
    got = smtp.by_rcpt()
    assert len(got) == len(ELIGIBLE_WITH_POSTS) and all(len(v) == 1 for v in got.values())


def test_cancel_stops_the_send_for_good(db_session, settings, world, smtp, pool):
    issue = world["issue"]
    start(db_session, issue.id)
    deliver.run_batch(
        db_session, settings, issue_id=issue.id, sender=pool, limiter=deliver_limiter()
    )
    sent_before = len(smtp.received)
    lifecycle.cancel(db_session, issue_id=issue.id)
    drain(db_session, settings, issue.id, pool)
    assert len(smtp.received) == sent_before
    with pytest.raises(InvalidTransition):
        lifecycle.resume(db_session, issue_id=issue.id)
    with pytest.raises(InvalidTransition):
        lifecycle.start(db_session, issue_id=issue.id)


def test_an_issue_starts_once_and_a_sent_issue_cannot_be_sent_again(
    db_session, settings, world, smtp, pool
):
    issue = world["issue"]
    start(db_session, issue.id)
    with pytest.raises(InvalidTransition, match="it is sending"):
        start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)
    with pytest.raises(InvalidTransition, match="it is sent"):
        start(db_session, issue.id)


def test_two_dispatchers_start_a_due_issue_once(db_session, settings, world):
    issue = world["issue"]
    lifecycle.schedule(db_session, issue_id=issue.id, send_at=utcnow() + timedelta(seconds=1))
    later = utcnow() + timedelta(seconds=5)
    first = lifecycle.start_due(db_session, now=later)
    second = lifecycle.start_due(db_session, now=later)
    assert first == [issue.id] and second == []


def test_subscribers_who_join_mid_send_wait_for_the_next_issue(
    db_session, settings, world, smtp, pool
):
    issue = world["issue"]
    start(db_session, issue.id)
    deliver.run_batch(
        db_session, settings, issue_id=issue.id, sender=pool, limiter=deliver_limiter()
    )
    add_subscriber(db_session, "newcomer@example.org")
    drain(db_session, settings, issue.id, pool)
    assert "newcomer@example.org" not in smtp.by_rcpt()


def test_stale_claims_of_a_dead_worker_go_back_to_pending(db_session, settings, world):
    issue = world["issue"]
    start(db_session, issue.id)
    deliver.materialize(db_session, settings, issue.id)
    claimed = ledger.claim(db_session, issue.id, limit=5)  # ...and the worker dies
    assert len(claimed) == 5
    assert ledger.requeue_stale(db_session, issue.id, older_than=timedelta(minutes=5)) == 0
    later = utcnow() + timedelta(minutes=6)
    assert (
        ledger.requeue_stale(db_session, issue.id, older_than=timedelta(minutes=5), now=later) == 5
    )
    again = ledger.claim(db_session, issue.id, limit=100)
    assert {c.id for c in claimed} <= {c.id for c in again}


def test_two_claims_never_overlap(db_session, settings, world):
    issue = world["issue"]
    start(db_session, issue.id)
    while deliver.materialize(db_session, settings, issue.id):
        pass
    first = ledger.claim(db_session, issue.id, limit=10)
    second = ledger.claim(db_session, issue.id, limit=10)
    assert first and second and not ({c.id for c in first} & {c.id for c in second})


def test_the_dispatcher_starts_due_issues_rescues_stalled_sends_and_finishes_them(
    db_session, settings, world, smtp, pool
):
    from dataclasses import replace

    issue = world["issue"]
    lifecycle.schedule(db_session, issue_id=issue.id, send_at=utcnow() + timedelta(seconds=1))
    kicked: list[int] = []
    assert deliver.dispatch(db_session, settings, kick=kicked.append).started == []
    db_session.execute(
        Issue.__table__.update()
        .where(Issue.id == issue.id)
        .values(send_at=utcnow() - timedelta(seconds=1))
    )
    db_session.commit()
    tick = deliver.dispatch(db_session, settings, kick=kicked.append)
    assert tick.started == [issue.id] and kicked == [issue.id]

    # A worker claims a batch and dies; once its claim is stale the dispatcher hands the
    # rows back and publishes a batch for the send.
    deliver.materialize(db_session, settings, issue.id)
    ledger.claim(db_session, issue.id, limit=5)
    quick = replace(settings, send_claim_timeout=1)
    db_session.execute(
        Delivery.__table__.update()
        .where(Delivery.issue_id == issue.id)
        .values(claimed_at=utcnow() - timedelta(seconds=30))
    )
    db_session.execute(
        Issue.__table__.update()
        .where(Issue.id == issue.id)
        .values(updated_at=utcnow() - timedelta(seconds=30))
    )
    db_session.commit()
    tick = deliver.dispatch(db_session, quick, kick=kicked.append)
    assert tick.requeued == 5 and tick.kicked == [issue.id]

    drain(db_session, settings, issue.id, pool)
    db_session.expire_all()
    assert db_session.get(Issue, issue.id).status is IssueStatus.SENT
    assert len(smtp.received) == len(ELIGIBLE_WITH_POSTS)


def test_each_sent_delivery_records_its_content_variant(db_session, settings, world, smtp, pool):
    from newsletter.sends import variants

    issue, posts = world["issue"], world["posts"]
    start(db_session, issue.id)
    drain(db_session, settings, issue.id, pool)
    ledger_rows = rows(db_session, issue.id)
    both = variants.variant_key((posts["llm"].id, posts["china"].id))
    assert both == variants.variant_key((posts["china"].id, posts["llm"].id))  # a set
    assert len(both) == 12 and both != variants.variant_key((posts["llm"].id,))
    assert ledger_rows["all@example.org"].variant == both
    assert ledger_rows["bulk7@example.org"].variant == both
    assert ledger_rows["ai@example.org"].variant == variants.variant_key((posts["llm"].id,))
    assert ledger_rows["china@example.org"].variant == variants.variant_key((posts["china"].id,))
    assert ledger_rows["cooking@example.org"].variant == ""  # skipped: no content
    assert len({d.variant for d in ledger_rows.values()}) == 4
