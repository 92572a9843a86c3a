"""SQL building blocks that depend on the database in use.

`among(session, column, values)` is `column IN (values)` written so that its statement
text does not depend on how many values there are. On PostgreSQL it is
`column = ANY(:array)`, one bound array; elsewhere (SQLite) the usual expanding IN.

Why: psycopg caches the parse of a statement only when it has at most 50 parameters
(psycopg `_queries.MAX_CACHED_STATEMENT_PARAMS`), and SQLAlchemy's expanding IN binds
one parameter per value, so every batch of the send (IN lists of 100 ids) was parsed
again by a regular expression: a fifth of a worker's CPU in the profile of
bench/send.py. One array parameter keeps the statement short, constant and cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session


def is_postgresql(session: Session) -> bool:
    """Whether the session's engine speaks PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def among(
    session: Session,
    column: ColumnElement[Any] | QueryableAttribute[Any],
    values: Iterable[Any],
) -> ColumnElement[bool]:
    """`column` is one of `values` (an empty `values` matches nothing), as one bound
    array on PostgreSQL and an expanding IN elsewhere."""
    values = list(values)
    if is_postgresql(session):
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(values)


def among_param(
    column: ColumnElement[Any] | QueryableAttribute[Any], name: str, *, postgresql: bool
) -> ColumnElement[bool]:
    """`among` for a statement built once and run many times: `column` is one of the
    list bound to the parameter `name` at execution."""
    if postgresql:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
