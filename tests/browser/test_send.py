"""An author sends the seed issue from the author UI and watches the progress reach 100%."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from newsletter.models import Post

from ..live import REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEED = REPO / "tests" / "data" / "posts" / "seed.txt"


def test_send_now_from_the_author_ui(live_stack, page, tmp_path):
    base = live_stack.base_url
    readers = [f"browser-reader-{n}@example.org" for n in range(5)]
    csv = tmp_path / "readers.csv"
    csv.write_text("email,name\n" + "".join(f"{r},Reader {n}\n" for n, r in enumerate(readers)))
    assert live_stack.cli("subscribers", "import", str(csv), "--confirmed").returncode == 0
    assert live_stack.cli("posts", "import", str(SEED)).returncode == 0
    # The scrape's posts have no date, so "since" would leave them out: name them.
    with live_stack.session() as s:
        post_ids = s.scalars(select(Post.id).where(Post.title.like("Cranes%"))).all()
        post_ids += s.scalars(
            select(Post.id).where(Post.title.like("What%new in AI from China%"))
        ).all()
    assert post_ids
    created = live_stack.cli(
        "issues",
        "create",
        "--subject",
        "Sent from the browser",
        *[arg for post_id in post_ids for arg in ("--post", str(post_id))],
    )
    assert created.returncode == 0, created.stderr
    issue_id = int(created.stdout)

    live_stack.create_user("sender@example.org", "a long enough password", role="author")
    page.goto(f"{base}/login")
    page.fill("#email", "sender@example.org")
    page.fill("#password", "a long enough password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/author/")

    page.goto(f"{base}/author/issues/{issue_id}")
    dialogs: list[str] = []

    def accept(dialog):  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.click("#send-now")
    page.wait_for_url(re.compile(rf"/author/issues/{issue_id}$"))
    assert dialogs and "Send this issue" in dialogs[0]
    page.wait_for_function(
        "document.getElementById('send-percent') &&"
        " document.getElementById('send-percent').textContent === '100%'",
        timeout=60_000,
    )
    assert "sent" in page.locator("#send-figures").inner_text()

    def mine(message) -> bool:  # type: ignore[no-untyped-def]
        return message["Subject"] == "Sent from the browser"

    live_stack.outbox.wait_for(mine)
    got = [m["To"] for m in live_stack.outbox.messages() if mine(m)]
    for reader in readers:
        assert sum(reader in to for to in got) == 1, (reader, got)
