"""The category tree and the one rule: a category includes its subcategories."""

from __future__ import annotations

import pytest

from newsletter.categories import (
    UnknownCategory,
    allowed_categories,
    category_ids_by_name,
    expand_categories,
    post_matches,
)
from newsletter.models import Category


@pytest.fixture
def tree(db_session):
    ai = Category(name="AI", slug="ai")
    db_session.add(ai)
    db_session.flush()
    llm = Category(name="AI: Large Language Models", slug="ai-llm", parent_id=ai.id)
    db_session.add(llm)
    db_session.flush()
    agents = Category(name="AI: LLM: Agents", slug="ai-llm-agents", parent_id=llm.id)
    china = Category(name="China", slug="china")
    db_session.add_all([agents, china])
    db_session.commit()
    return {c.name: c.id for c in (ai, llm, agents, china)}


def test_names_are_case_and_space_insensitive_and_keep_order(db_session, tree):
    ids = category_ids_by_name(db_session, ["china", "  ai:  large language MODELS ", "", "China"])
    assert ids == [tree["China"], tree["AI: Large Language Models"]]


def test_unknown_name_is_an_error_not_everything(db_session, tree):
    with pytest.raises(UnknownCategory) as info:
        category_ids_by_name(db_session, ["AI", "Cooking"])
    assert info.value.name == "Cooking"


def test_a_category_includes_all_its_descendants(db_session, tree):
    assert expand_categories(db_session, [tree["AI"]]) == {
        tree["AI"],
        tree["AI: Large Language Models"],
        tree["AI: LLM: Agents"],
    }
    # ...but never its parent or siblings.
    assert expand_categories(db_session, [tree["AI: Large Language Models"]]) == {
        tree["AI: Large Language Models"],
        tree["AI: LLM: Agents"],
    }


def test_cycles_in_parent_links_terminate(db_session, tree):
    ai = db_session.get(Category, tree["AI"])
    ai.parent_id = tree["AI: LLM: Agents"]
    db_session.commit()
    assert len(expand_categories(db_session, [tree["AI"]])) == 3


@pytest.mark.parametrize(
    ("chosen", "post", "expected"),
    [
        ([], ["China"], True),  # chose nothing = everything
        ([], [], True),
        (["AI"], ["AI: LLM: Agents"], True),  # grandchild
        (["AI"], ["AI: Large Language Models"], True),
        (["AI: Large Language Models"], ["AI"], False),  # a parent is not included
        (["China"], ["AI", "China"], True),
        (["China"], [], False),
    ],
)
def test_post_matches_by_the_rule(db_session, tree, chosen, post, expected):
    allowed = allowed_categories(db_session, [tree[n] for n in chosen])
    assert post_matches([tree[n] for n in post], allowed) is expected


@pytest.mark.parametrize("name", ["\x00", "Cooking", "   ", "AI\x00"])
def test_the_subscriber_list_filter_refuses_unknown_names_without_touching_the_database(
    db_session, tree, name
):
    from newsletter.subscribers.errors import InvalidInput
    from newsletter.subscribers.queries import list_subscribers

    with pytest.raises(InvalidInput, match="unknown category"):
        list_subscribers(db_session, category=name)
    assert list_subscribers(db_session, category="ai").items == []  # case-insensitive, known
