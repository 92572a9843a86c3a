"""newsletter.sql: id lists as one array parameter on PostgreSQL, expanding IN elsewhere."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsletter.models import Category
from newsletter.sql import among, among_param, is_postgresql


def _categories(session: Session, n: int) -> list[int]:
    rows = [Category(name=f"C{i}", slug=f"c{i}") for i in range(n)]
    session.add_all(rows)
    session.commit()
    return [c.id for c in rows]


def test_among_selects_exactly_the_listed_rows(db_session):
    ids = _categories(db_session, 120)  # more than psycopg's 50 cached parameters
    wanted = ids[::3]
    found = db_session.scalars(select(Category.id).where(among(db_session, Category.id, wanted)))
    assert sorted(found) == wanted
    assert (
        db_session.scalars(select(Category.id).where(among(db_session, Category.id, []))).all()
        == []
    )
    names = db_session.scalars(
        select(Category.name).where(among(db_session, Category.name, ["C1", "C7", "nope"]))
    )
    assert sorted(names) == ["C1", "C7"]


def test_on_postgresql_the_statement_text_does_not_grow_with_the_list(db_session):
    dialect = db_session.get_bind().dialect
    short = select(Category.id).where(among(db_session, Category.id, [1]))
    long = select(Category.id).where(among(db_session, Category.id, list(range(500))))
    short_sql = str(short.compile(dialect=dialect))
    long_sql = str(long.compile(dialect=dialect, compile_kwargs={"render_postcompile": True}))
    if is_postgresql(db_session):
        assert "ANY" in long_sql and long_sql == str(long.compile(dialect=dialect))
        assert len(long_sql) == len(short_sql)
    else:  # SQLite: the usual IN, one parameter per value
        assert long_sql.count("?") >= 500


def test_among_param_runs_one_prepared_statement_with_any_list(db_session):
    ids = _categories(db_session, 60)
    postgresql = is_postgresql(db_session)
    stmt = (
        update(Category)
        .where(among_param(Category.id, "ids", postgresql=postgresql))
        .values(parent_id=ids[10])
        .execution_options(synchronize_session=False)
    )
    connection = db_session.connection()
    connection.execute(stmt, {"ids": ids[:2]})
    connection.execute(stmt, {"ids": ids[50:]})
    db_session.commit()
    picked = db_session.scalars(select(Category.id).where(Category.parent_id == ids[10]))
    assert sorted(picked) == ids[:2] + ids[50:]
