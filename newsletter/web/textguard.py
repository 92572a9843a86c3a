"""Refuse text no database column can hold, before any view sees it.

PostgreSQL text cannot contain NUL (U+0000), and a lone surrogate (U+D800-U+DFFF,
which JSON's `\\ud800` escapes can produce) cannot be encoded as UTF-8 at all;
either one used to reach the database and answer 500. One `before_request` hook
checks everything a request carries as text: the path, the query string, form
fields and a JSON body. Uploaded files are the importers' business (they report
`line N: reason`). Values are refused, never silently cleaned: the sender learns
which field to fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import Flask, abort, current_app, request

from newsletter.storable import unstorable

from .api.framework import ApiError
from .errors import wants_json

F = TypeVar("F", bound=Callable[..., Any])
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _texts(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string (keys included) in a JSON value, with where it sits."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}: a key", key
            yield from _texts(item, f"{where} field {key!r}")
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item, where)


def ignores_body(view: F) -> F:
    """Mark a view that never reads its request body, so no body is refused on its way in.

    For RFC 8058 one-click unsubscribe: any POST must unsubscribe, whatever it carries.
    """
    view._textguard_ignores_body = True  # type: ignore[attr-defined]
    return view


def _request_texts() -> Iterator[tuple[str, str]]:
    yield "the URL path", request.path
    for key, value in request.args.items(multi=True):
        yield "a query parameter name", key
        yield f"the query parameter {key!r}", value
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_textguard_ignores_body", False):
        return
    if request.mimetype in _FORM_TYPES:
        for key, value in request.form.items(multi=True):
            yield "a form field name", key
            yield f"the form field {key!r}", value
    if request.is_json:
        data = request.get_json(silent=True)  # cached: the view reads the same parse
        if data is not None:
            yield from _texts(data, "the JSON body")


def check_request_text() -> None:
    """The before_request hook: ApiError 422 for JSON clients, a 400 page for browsers."""
    for where, text in _request_texts():
        character = unstorable(text)
        if character is None:
            continue
        message = f"{where} contains {character}, which text cannot hold; remove it and send again"
        if wants_json():
            raise ApiError(422, "invalid_text", message)
        abort(400, message[0].upper() + message[1:] + ".")


def init_app(app: Flask) -> None:
    """Install check_request_text as the first before_request hook of `app`, ahead of rate
    limits, CSRF and logins, so no other hook or view reads unstorable text.
    """
    # First of all hooks (rate limits, CSRF, logins): nothing else should read bad text.
    app.before_request_funcs.setdefault(None, []).insert(0, check_request_text)
