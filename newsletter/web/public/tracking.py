"""The open pixel and click redirects: /o/TOKEN.gif and /c/TOKEN (no login; signed tokens).

Tokens are checked before the database is touched (newsletter/tracking/tokens.py);
a malformed or tampered one answers 404. A click redirects only to a link of the
delivery's own issue, so these routes are no open redirect. The pixel answers even
when the event cannot be stored (the reader's mail must not show a broken image).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, redirect, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from newsletter.config import Settings
from newsletter.db import get_session
from newsletter.tracking import record
from newsletter.tracking.tokens import read_click, read_open

bp = Blueprint("tracking", __name__)
log = logging.getLogger(__name__)

# The smallest transparent GIF: 1x1, one transparent colour (43 bytes).
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def _settings() -> Settings:
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


def _client() -> record.Request:
    # Behind a proxy the peer is the proxy; the last X-Forwarded-For hop is the one our
    # proxy saw. A forged header can only make the sender's own fetch look like a machine's.
    forwarded = request.headers.get("X-Forwarded-For", "")
    ip = forwarded.rsplit(",", 1)[-1].strip() if forwarded else request.remote_addr
    return record.Request(
        user_agent=request.headers.get("User-Agent", ""), ip=ip, method=request.method
    )


def _no_store(response: BaseResponse) -> BaseResponse:
    response.headers["Cache-Control"] = "no-store"  # every fetch reaches us, none is cached
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/o/<token>.gif")
def open_pixel(token: str) -> BaseResponse:
    """GET /o/<token>.gif: record an open (tracking.record.record_open) and answer a 1x1
    transparent GIF, not cacheable.

    404 when the token is malformed or its MAC is wrong. For a delivery that is gone,
    or when the open cannot be stored (logged), the pixel still answers 200.
    """
    delivery_id = read_open(_settings(), token)
    if delivery_id is None:
        abort(404)
    try:
        record.record_open(get_session(), delivery_id=delivery_id, request=_client())
    except SQLAlchemyError:
        get_session().rollback()
        log.exception("could not record an open of delivery %s", delivery_id)
    return _no_store(Response(PIXEL, mimetype="image/gif"))


@bp.get("/c/<token>")
def click(token: str) -> BaseResponse:
    """GET /c/<token>: record a click (tracking.record.record_click) and redirect (302) to
    the link, not cacheable.

    404 when the token is malformed or fails its MAC, the delivery is gone, or the link
    is not one of its issue's (so no open redirect); 503 when the click cannot be stored.
    """
    found = read_click(_settings(), token)
    if found is None:
        abort(404)
    try:
        url = record.record_click(
            get_session(), delivery_id=found.delivery_id, link_id=found.link_id, request=_client()
        )
    except SQLAlchemyError:
        get_session().rollback()
        log.exception("could not record a click of delivery %s", found.delivery_id)
        abort(503)
    if url is None:
        abort(404)
    return _no_store(redirect(url, code=302))
