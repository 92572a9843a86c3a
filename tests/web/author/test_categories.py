"""The composer names a post by its most specific categories; "new issue" shows one option."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newsletter.compose import create_issue
from newsletter.compose.posts import most_specific
from newsletter.models import Category
from newsletter.posts import import_posts

SEED = Path(__file__).resolve().parents[2] / "data" / "posts" / "seed.txt"


def tree(db_session, *specs: tuple[str, str | None]) -> dict[str, Category]:
    made: dict[str, Category] = {}
    for name, parent in specs:
        category = Category(name=name, slug=name.lower().replace(" ", "-").replace(":", ""))
        if parent:
            category.parent = made[parent]
        db_session.add(category)
        made[name] = category
    db_session.flush()
    return made


def names(categories) -> list[str]:
    return [c.name for c in categories]


def test_most_specific_drops_parents_and_keeps_order(db_session):
    c = tree(
        db_session,
        ("AI", None),
        ("AI: Large Language Models", "AI"),
        ("AI: LLM: GPT", "AI: Large Language Models"),
        ("China", None),
        ("AI: Vision", "AI"),
    )
    post = [c["AI"], c["AI: Large Language Models"], c["China"]]
    assert names(most_specific(post)) == ["AI: Large Language Models", "China"]
    # A grandparent goes too; siblings both stay; a lone parent stays.
    assert names(most_specific([c["AI"], c["AI: LLM: GPT"]])) == ["AI: LLM: GPT"]
    siblings = [c["AI: Vision"], c["AI"], c["AI: Large Language Models"]]
    assert names(most_specific(siblings)) == ["AI: Vision", "AI: Large Language Models"]
    assert names(most_specific([c["AI"]])) == ["AI"]
    assert most_specific([]) == []


def test_most_specific_survives_a_cycle_in_parent_links(db_session):
    c = tree(db_session, ("A", None), ("B", "A"))
    c["A"].parent = c["B"]  # bad data: A -> B -> A
    db_session.flush()
    assert names(most_specific([c["A"], c["B"]])) == []  # each implies the other; no hang
    assert names(most_specific([c["B"]])) == ["B"]


@pytest.fixture
def seed_issue(db_session):
    ids = sorted(import_posts(db_session, SEED).post_ids)
    return create_issue(db_session, subject="February", post_ids=ids)


def test_editor_preview_and_lists_show_the_most_specific_categories(
    client, login, db_session, seed_issue
):
    login("author")
    editor = client.get(f"/author/issues/{seed_issue.id}").get_data(as_text=True)
    assert "AI: Large Language Models · China" in editor
    assert "AI · AI: Large Language Models" not in editor
    preview = client.get(f"/author/issues/{seed_issue.id}/preview.txt").get_data(as_text=True)
    assert "AI: LARGE LANGUAGE MODELS · CHINA" in preview
    assert "AI · AI: LARGE" not in preview
    html = client.get(f"/author/issues/{seed_issue.id}/preview.html").get_data(as_text=True)
    assert "AI: Large Language Models · China" in html and "AI · AI:" not in html
    new = client.get("/author/issues/new").get_data(as_text=True)
    assert " · AI: Large Language Models · China" in new and "· AI · AI:" not in new
    posts = client.get("/author/posts").get_data(as_text=True)
    assert '<span class="badge">AI</span> <span class="badge">AI: Large' not in posts
    assert '<span class="badge">AI: Large Language Models</span>' in posts
    assert '<span class="badge">AI</span> <span class="badge">China</span>' in posts  # no child


def test_new_issue_panels_are_marked_for_the_toggle_and_work_without_it(
    client, login, db_session, seed_issue
):
    login("author")
    html = client.get("/author/issues/new").get_data(as_text=True)
    assert 'data-source-panel="posts"' in html and 'data-source-panel="since"' in html
    assert 'src="/static/new_issue.js"' in html
    # Without the script both panels are in the page (nothing starts hidden).
    assert not re.search(r"<fieldset[^>]*hidden", html)
    script = client.get("/static/new_issue.js").get_data(as_text=True)
    assert "data-source-panel" in script and ".hidden" in script
