"""Per-subscriber content, previews with neutral links, and test sends."""

from __future__ import annotations

import email
import email.policy

import pytest

from newsletter.compose import (
    ComposeError,
    SubscriberNotFound,
    build_issue_content,
    create_issue,
    posts_for_subscriber,
    render_preview,
    send_test,
    set_item_mode,
)
from newsletter.mail.transport import MemorySender, PermanentFailure
from newsletter.models import Delivery
from newsletter.render.checks import check_email_html
from newsletter.render.placeholders import OPEN


@pytest.fixture
def settings(app):  # type: ignore[no-untyped-def]
    return app.extensions["settings"]


@pytest.fixture
def mixed_issue(db_session, make_post):  # type: ignore[no-untyped-def]
    llm = make_post("About LLMs", categories=("AI: Large Language Models",))
    china = make_post("About China", categories=("China",))
    both = make_post("AI and China", categories=("AI", "China"))
    none = make_post("Uncategorized")
    issue = create_issue(db_session, subject="Mixed", post_ids=[llm.id, china.id, both.id, none.id])
    return issue, {"llm": llm, "china": china, "both": both, "none": none}


def _titles(session, issue, subscriber):
    return [item.post.title for item in posts_for_subscriber(session, issue, subscriber)]


def test_subscriber_categories_select_posts_and_children(db_session, mixed_issue, make_subscriber):
    issue, _ = mixed_issue
    everyone = make_subscriber("all@example.org")
    ai = make_subscriber("ai@example.org", categories=("AI",))
    llm = make_subscriber("llm@example.org", categories=("AI: Large Language Models",))
    china = make_subscriber("china@example.org", categories=("China",))

    assert _titles(db_session, issue, everyone) == [
        "About LLMs",
        "About China",
        "AI and China",
        "Uncategorized",
    ]
    assert _titles(db_session, issue, ai) == ["About LLMs", "AI and China"]  # child included
    assert _titles(db_session, issue, llm) == ["About LLMs"]  # a parent is not a child
    assert _titles(db_session, issue, china) == ["About China", "AI and China"]
    assert _titles(db_session, issue, None) == [
        "About LLMs",
        "About China",
        "AI and China",
        "Uncategorized",
    ]


def test_content_carries_modes_and_archive_link(db_session, seed_posts):
    first, second = seed_posts
    issue = create_issue(db_session, subject="Seed", post_ids=[first.id, second.id])
    set_item_mode(db_session, issue_id=issue.id, post_id=second.id, mode="excerpt")
    content = build_issue_content(db_session, issue, base_url="https://news.example.org")
    assert [p.mode for p in content.posts] == ["full", "excerpt"]
    # The most specific categories only: "AI" is implied by "AI: Large Language Models".
    assert content.posts[0].categories == ("AI: Large Language Models", "China")
    assert content.web_url is None  # drafts have no public page yet
    issue.slug = "seed"
    content = build_issue_content(db_session, issue, base_url="https://news.example.org/")
    assert content.web_url == "https://news.example.org/archive/seed"


def test_preview_fills_placeholders_with_neutral_values(
    db_session, seed_posts, settings, make_subscriber
):
    issue = create_issue(
        db_session, subject="Seed", post_ids=[p.id for p in seed_posts], intro="Hello **all**"
    )
    preview = render_preview(db_session, issue_id=issue.id, settings=settings, check=True)
    assert OPEN not in preview.html and OPEN not in preview.text
    assert "Hi there," in preview.text
    assert "<strong>all</strong>" in preview.html
    assert f"{settings.base_url}/subscribe" in preview.text
    assert "/unsubscribe/" not in preview.html  # nobody's token in a preview
    assert preview.post_count == 2
    assert "Cranes on the Horizon" in preview.html
    assert "—" in preview.text  # the importer repaired the mojibake
    assert preview.problems == check_email_html(preview.html)

    llm_reader = make_subscriber(
        "ann@example.org", categories=("AI: Large Language Models",), name="Ann <b>"
    )
    as_ann = render_preview(
        db_session, issue_id=issue.id, settings=settings, subscriber_id=llm_reader.id
    )
    assert as_ann.post_count == 1
    assert "Hi Ann &lt;b&gt;," in as_ann.html
    assert "Hi Ann <b>," in as_ann.text
    assert "Cranes on the Horizon" in as_ann.html
    assert "new in AI from China" not in as_ann.html

    with pytest.raises(SubscriberNotFound):
        render_preview(db_session, issue_id=issue.id, settings=settings, subscriber_id=999)


def test_send_test_to_a_few_addresses(db_session, seed_posts, settings):
    issue = create_issue(db_session, subject="Seed issue", post_ids=[p.id for p in seed_posts])
    sender = MemorySender()
    sent = send_test(
        db_session,
        issue_id=issue.id,
        emails=["One@Example.org", "two@example.org", "one@example.org"],
        sender=sender,
        settings=settings,
    )
    assert sent == ["one@example.org", "two@example.org"]
    assert [m.recipients for m in sender.outbox] == [["one@example.org"], ["two@example.org"]]
    message = email.message_from_bytes(sender.outbox[0].message, policy=email.policy.default)
    assert message["Subject"] == "[Test] Seed issue"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Cranes on the Horizon" in text and "Cranes on the Horizon" in html
    assert OPEN not in text and OPEN not in html
    assert message["List-Unsubscribe"].startswith(f"<{settings.base_url}/unsubscribe/")
    assert db_session.query(Delivery).count() == 0  # tests never count in stats


def test_send_test_to_international_addresses_over_smtp(db_session, seed_posts, settings):
    from newsletter.mail.transport import SmtpSender
    from tests.smtpd import smtp_server

    issue = create_issue(db_session, subject="Seed", post_ids=[seed_posts[0].id])
    with smtp_server(smtputf8=True) as (url, server):
        sender = SmtpSender(url, timeout=5)
        sent = send_test(
            db_session,
            issue_id=issue.id,
            emails=["Zoe@Bücher.example", "jürgen@example.org"],
            sender=sender,
            settings=settings,
        )
        sender.close()
    assert sent == ["zoe@bücher.example", "jürgen@example.org"]
    assert [m.rcpt_tos for m in server.messages] == [
        ["zoe@xn--bcher-kva.example"],
        ["jürgen@example.org"],
    ]
    assert [m.smtp_utf8 for m in server.messages] == [False, True]


@pytest.mark.parametrize(
    ("emails", "error"),
    [
        ([], "at least one"),
        (["  "], "at least one"),
        (["not-an-address"], "not-an-address"),
        (["a@example.org\r\nBcc: x@evil.example"], "a@example.org"),
        ([f"r{i}@example.org" for i in range(6)], "at most 5"),
    ],
)
def test_send_test_rejects_bad_addresses(db_session, seed_posts, settings, emails, error):
    issue = create_issue(db_session, subject="Seed", post_ids=[seed_posts[0].id])
    sender = MemorySender()
    with pytest.raises(ComposeError, match=error):
        send_test(db_session, issue_id=issue.id, emails=emails, sender=sender, settings=settings)
    assert sender.outbox == []


def test_send_test_reports_a_refusal(db_session, seed_posts, settings):
    issue = create_issue(db_session, subject="Seed", post_ids=[seed_posts[0].id])

    class Refusing:
        def send(self, *, envelope_from, recipients, message):
            raise PermanentFailure("550 no such user", code=550)

    with pytest.raises(ComposeError, match=r"refused the test to x@example\.org: 550"):
        send_test(
            db_session,
            issue_id=issue.id,
            emails=["x@example.org"],
            sender=Refusing(),
            settings=settings,
        )
