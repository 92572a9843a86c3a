from sqlalchemy import select

from newsletter.models import Category


def test_category_round_trip(db_session):
    db_session.add(Category(name="AI", slug="ai"))
    db_session.commit()
    assert db_session.scalars(select(Category.name)).all() == ["AI"]


def test_isolated_between_tests(db_session):
    assert db_session.scalars(select(Category)).all() == []
