"""/api/v1/feeds and /api/v1/automations: watched feeds and cron-scheduled issues."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Literal

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from newsletter.automations import feeds as feed_service
from newsletter.automations import rules
from newsletter.automations.errors import AutomationError, Conflict, NotFound
from newsletter.automations.shapes import automation_dict, feed_dict
from newsletter.db import get_session

from . import api
from .framework import ApiError
from .posts import Text


class FeedOut(BaseModel):
    id: int
    url: str
    every_minutes: int
    last_polled_at: datetime | None
    last_error: str | None = Field(description="why the last poll failed; null after a success")
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime | None = Field(description="later than usual after failures")


class FeedList(BaseModel):
    items: list[FeedOut]
    next: str | None = None


class PageQuery(BaseModel):
    cursor: str | None = Field(None, max_length=200, description="`next` of the previous page")
    limit: int | None = Field(None, ge=1, le=100)


class FeedCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(min_length=1, max_length=feed_service.MAX_URL_LENGTH)
    every_minutes: int = Field(
        feed_service.DEFAULT_EVERY_MINUTES,
        ge=feed_service.MIN_EVERY_MINUTES,
        le=feed_service.MAX_EVERY_MINUTES,
    )


class FeedCreated(FeedOut):
    imported: int = Field(description="posts imported by the first fetch")


Action = Literal["draft", "schedule"]


class AutomationOut(BaseModel):
    id: int
    name: str
    schedule: str = Field(description="5-field cron expression in `timezone`")
    timezone: str
    categories: list[str]
    min_posts: int
    action: Action
    subject: str
    enabled: bool
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_result: str | None = Field(description="what the last run did, or why it skipped")
    last_issue_id: int | None


class AutomationList(BaseModel):
    items: list[AutomationOut]
    next: str | None = None


_SCHEDULE_HELP = "5-field cron expression, at most one run an hour (one minute value)"
_SUBJECT_HELP = "template: {date}, {count} and {first_title} are filled in"


class AutomationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = Field(min_length=1, max_length=200)
    schedule: Text = Field(min_length=1, max_length=100, description=_SCHEDULE_HELP)
    timezone: Text = Field("UTC", min_length=1, max_length=64, description="IANA name")
    categories: list[Text] = Field(
        default_factory=list, max_length=50, description="full names; children match too"
    )
    min_posts: int = Field(1, ge=1, le=100)
    action: Action = "draft"
    subject: Text = Field(min_length=1, max_length=300, description=_SUBJECT_HELP)
    enabled: bool = True


class AutomationPatch(BaseModel):
    """Omitted (or null) fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(None, min_length=1, max_length=200)
    schedule: Text | None = Field(None, min_length=1, max_length=100, description=_SCHEDULE_HELP)
    timezone: Text | None = Field(None, min_length=1, max_length=64)
    categories: list[Text] | None = Field(None, max_length=50)
    min_posts: int | None = Field(None, ge=1, le=100)
    action: Action | None = None
    subject: Text | None = Field(None, min_length=1, max_length=300, description=_SUBJECT_HELP)
    enabled: bool | None = None


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except Conflict as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except AutomationError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None


@api.operation(
    "/feeds", summary="Watched feeds, by id", tag="feeds", query=PageQuery, response=FeedList
)
def list_feeds_api(query: PageQuery) -> FeedList:
    """GET /api/v1/feeds: watched feeds with their polling state, by id, keyset-paged
    (`?cursor=`, `?limit=` 1..100, default 25). 200 with `{"items", "next"}`; 422 for a bad
    cursor or limit; 401 without a valid bearer token.
    """
    with _errors():
        feeds, following = feed_service.feeds_page(
            get_session(), cursor=query.cursor, limit=query.limit
        )
    return FeedList(items=[FeedOut.model_validate(feed_dict(f)) for f in feeds], next=following)


@api.operation(
    "/feeds",
    "POST",
    summary="Watch a feed: fetched and imported now, then polled every every_minutes",
    tag="feeds",
    body=FeedCreate,
    response=FeedCreated,
    status=201,
    errors=(409,),
)
def create_feed_api(body: FeedCreate) -> FeedCreated:
    """POST /api/v1/feeds `{"url", "every_minutes"}`: watch a feed; it is fetched and imported
    now, and saved only if that worked.

    201 with the feed and `imported`; 409 when it is already watched; 422 when the URL is bad,
    private, unreachable, not a feed or too large (FeedError); 400/415/422 for a malformed, non-JSON
    or invalid body; 401 without a valid bearer token.
    """
    settings = current_app.extensions["settings"]
    with _errors():
        feed, result = feed_service.add_feed(
            get_session(),
            url=body.url,
            every_minutes=body.every_minutes,
            allow_private=settings.import_allow_private_urls,
        )
    return FeedCreated.model_validate({**feed_dict(feed), "imported": result.total})


@api.operation(
    "/feeds/<int:feed_id>",
    "DELETE",
    summary="Stop watching a feed (its posts stay)",
    tag="feeds",
    status=204,
)
def delete_feed_api(feed_id: int) -> None:
    """DELETE /api/v1/feeds/<feed_id>: stop watching a feed; its posts stay.

    204; 404 no such feed; 401 without a valid bearer token.
    """
    with _errors():
        feed_service.remove_feed(get_session(), feed_id=feed_id)


@api.operation(
    "/automations",
    summary="Automations, by id",
    tag="automations",
    query=PageQuery,
    response=AutomationList,
)
def list_automations_api(query: PageQuery) -> AutomationList:
    """GET /api/v1/automations: automations with their schedule and last run, by id,
    keyset-paged (`?cursor=`, `?limit=` 1..100, default 25). 200 with `{"items", "next"}`;
    422 for a bad cursor or limit; 401 without a valid bearer token.
    """
    with _errors():
        items, following = rules.automations_page(
            get_session(), cursor=query.cursor, limit=query.limit
        )
    return AutomationList(
        items=[AutomationOut.model_validate(automation_dict(a)) for a in items], next=following
    )


@api.operation(
    "/automations",
    "POST",
    summary="Create an automation: an issue composed on a cron schedule",
    tag="automations",
    body=AutomationCreate,
    response=AutomationOut,
    status=201,
)
def create_automation_api(body: AutomationCreate) -> AutomationOut:
    """POST /api/v1/automations: an issue composed on a cron schedule (`action` draft or
    schedule); its next run is computed from now.

    201 with the automation; 422 for a bad schedule, timezone, category, subject, min_posts or
    action (AutomationError); 400/415/422 for a malformed, non-JSON or invalid body; 401 without a
    valid bearer token.
    """
    with _errors():
        automation = rules.create_automation(get_session(), **body.model_dump())
    return AutomationOut.model_validate(automation_dict(automation))


@api.operation(
    "/automations/<int:automation_id>",
    summary="One automation",
    tag="automations",
    response=AutomationOut,
)
def get_automation_api(automation_id: int) -> AutomationOut:
    """GET /api/v1/automations/<automation_id>: one automation. 200; 404 when there is none; 401
    without a valid bearer token.
    """
    with _errors():
        automation = rules.get_automation(get_session(), automation_id)
    return AutomationOut.model_validate(automation_dict(automation))


@api.operation(
    "/automations/<int:automation_id>",
    "PATCH",
    summary="Change an automation; a new schedule or timezone, or enabling, reschedules it",
    tag="automations",
    body=AutomationPatch,
    response=AutomationOut,
)
def patch_automation_api(automation_id: int, body: AutomationPatch) -> AutomationOut:
    """PATCH /api/v1/automations/<automation_id>: change the given fields (null keeps a
    value); a new schedule or timezone, or enabling, computes the next run from now.

    200 with the automation; 404 no such automation; 422 for a value the service refuses;
    400/415/422 for a malformed, non-JSON or invalid body; 401 without a valid bearer token.
    """
    with _errors():
        automation = rules.update_automation(
            get_session(), automation_id=automation_id, **body.model_dump()
        )
    return AutomationOut.model_validate(automation_dict(automation))


@api.operation(
    "/automations/<int:automation_id>",
    "DELETE",
    summary="Delete an automation (its issues stay)",
    tag="automations",
    status=204,
)
def delete_automation_api(automation_id: int) -> None:
    """DELETE /api/v1/automations/<automation_id>: remove it and its run records; its issues stay.

    204; 404 no such automation; 401 without a valid bearer token.
    """
    with _errors():
        rules.delete_automation(get_session(), automation_id=automation_id)
