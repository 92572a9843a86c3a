"""Alembic is the only source of the schema: it matches the models, and it goes both ways."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from newsletter.db import make_engine
from newsletter.migrations import downgrade, upgrade
from newsletter.models import Base

from .conftest import BACKENDS, drop_postgres_database, fresh_database_url


def test_migrations_produce_exactly_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_to_base_and_back(backend, tmp_path):
    url, pg_name = fresh_database_url(backend, tmp_path)
    eng = make_engine(url)
    try:
        upgrade(eng)
        tables = set(inspect(eng).get_table_names())
        assert set(Base.metadata.tables) <= tables
        downgrade(eng, "base")
        assert set(inspect(eng).get_table_names()) <= {"alembic_version"}
        upgrade(eng)  # and again, from empty
        assert set(Base.metadata.tables) <= set(inspect(eng).get_table_names())
    finally:
        eng.dispose()
        if pg_name:
            drop_postgres_database(pg_name)
