"""A real send through a real Celery worker (Redis, PostgreSQL, an SMTP server on loopback):
the pixel and links of the emails received, fetched like a reader's mail app would, show
up in the issue's stats; a scanner's sweep of every link counts as a machine."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from newsletter import create_app
from newsletter.models import Delivery, utcnow
from newsletter.tracking.stats import issue_stats

from ..sends.test_live_send import make_stack, populate  # noqa: F401 - fixture

pytestmark = pytest.mark.slow
PIXEL = re.compile(r'<img src="https://news\.example\.org(/o/[^"]+\.gif)"')
CLICK = re.compile(r'href="https://news\.example\.org(/c/[^"]+)"')
READER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"


def test_received_pixels_and_links_are_counted(make_stack, tmp_path):  # noqa: F811
    stack = make_stack("postgresql", "redis", NEWSLETTER_BASE_URL="https://news.example.org")
    issue_id, audience = populate(stack.url, 40)
    stack.start("worker")
    result = stack.cli("issues", "send", str(issue_id), "--wait")
    assert result.returncode == 0, result.stderr
    got = stack.smtp.by_rcpt()
    assert set(got) == set(audience.expected)

    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": stack.url,
            "SECRET_KEY": stack.env["NEWSLETTER_SECRET_KEY"],
            "BASE_URL": "https://news.example.org",
            "INSTANCE_PATH": str(tmp_path / "web-instance"),
            "BROKER_URL": "memory://",
        }
    )
    client = app.test_client()
    # A scanner sweeps one message at once: every link within a second of delivery.
    scanned = got[sorted(got)[0]][0].message().get_body(("html",)).get_content()
    swept = CLICK.findall(scanned)
    assert len(swept) >= 2
    for path in swept:
        assert client.get(path, headers={"User-Agent": READER}).status_code == 302

    # The readers come back later.
    with stack.session() as s:
        s.execute(
            update(Delivery)
            .where(Delivery.issue_id == issue_id)
            .values(sent_at=utcnow() - timedelta(hours=2))
        )
        s.commit()
    readers = sorted(got)[1:6]
    clicked = 0
    for email in readers:
        html = got[email][0].message().get_body(("html",)).get_content()
        pixel = PIXEL.search(html)
        assert pixel is not None
        answer = client.get(pixel.group(1), headers={"User-Agent": READER})
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
        links = CLICK.findall(html)
        first = client.get(links[0], headers={"User-Agent": READER})
        assert first.status_code == 302 and first.headers["Location"].startswith("https://blog.")
        clicked += 1
    apple = PIXEL.search(got[readers[0]][0].message().get_body(("html",)).get_content())
    client.get(
        apple.group(1),
        headers={"User-Agent": "Mozilla/5.0"},
        environ_base={"REMOTE_ADDR": "17.1.2.3"},
    )

    with stack.session() as s:
        stats = issue_stats(s, issue_id)
    assert stats["opens"]["unique"] == len(readers) and stats["opens"]["total"] == len(readers)
    assert stats["opens"]["machine"] == 1
    assert stats["clicks"]["unique"] == clicked and stats["clicks"]["total"] == clicked
    assert stats["clicks"]["machine"] == len(swept) and stats["clicks"]["machine_unique"] == 1
    assert sum(
        link["total"] + link["machine"] for link in stats["clicks"]["links"]
    ) == clicked + len(swept)
    cli = stack.cli("issues", "stats", str(issue_id))
    assert f"opens unique {len(readers)} total {len(readers)} machine 1" in cli.stdout, cli.stderr
