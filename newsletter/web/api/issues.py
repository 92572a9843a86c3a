"""/api/v1/issues: compose drafts, preview them, test-send, schedule and cancel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Literal

from flask import Response, current_app
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel

from newsletter import get_sender
from newsletter.compose import (
    ComposeError,
    InvalidTransition,
    IssueNotFound,
    ItemSpec,
    SubscriberNotFound,
    TestSendError,
    create_issue,
    get_issue,
    list_issues,
    render_preview,
    schedule_issue,
    send_test,
    update_issue,
)
from newsletter.compose.testsend import MAX_TEST_RECIPIENTS
from newsletter.db import get_session
from newsletter.models import Issue, IssueStatus, ItemMode
from newsletter.models.base import MAX_ID

from . import api
from .framework import ApiError
from .posts import Text

PostId = Annotated[int, Field(ge=1, le=MAX_ID)]


class ItemOut(BaseModel):
    post_id: int
    mode: ItemMode


class IssueOut(BaseModel):
    id: int
    subject: str
    preheader: str
    intro: str
    outro: str
    status: IssueStatus
    send_at: datetime | None
    tracking: bool
    post_ids: list[int]
    items: list[ItemOut] = Field(description="post_ids with each post's mode (full or excerpt)")
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, issue: Issue) -> IssueOut:
        """The API shape of an issue; `post_ids` and `items` in the issue's order."""
        items = sorted(issue.items, key=lambda i: i.position)
        return cls(
            id=issue.id,
            subject=issue.subject,
            preheader=issue.preheader,
            intro=issue.intro,
            outro=issue.outro,
            status=issue.status,
            send_at=issue.send_at,
            tracking=issue.tracking,
            post_ids=[i.post_id for i in items],
            items=[ItemOut(post_id=i.post_id, mode=i.mode) for i in items],
            created_at=issue.created_at,
            sent_at=issue.sent_at,
        )


class IssueList(BaseModel):
    items: list[IssueOut]
    next: str | None


class IssuesQuery(BaseModel):
    status: IssueStatus | None = None
    cursor: str | None = Field(None, max_length=200, description="`next` of the previous page")
    limit: int | None = Field(None, ge=1, le=100)


class IssueCreate(BaseModel):
    """Either `post_ids`, or `since` and/or `categories` (default: since the last sent issue)."""

    model_config = ConfigDict(extra="forbid")

    subject: Text = Field(min_length=1, max_length=300)
    post_ids: list[PostId] | None = Field(None, max_length=100)
    since: datetime | date | None = Field(
        None,
        description="posts published at or after; naive = server timezone; "
        "posts with no date are never included (choose them by post_ids)",
    )
    categories: list[Text] | None = Field(
        None, max_length=50, description="full names; children match too"
    )
    preheader: Text = Field("", max_length=300)
    intro: Text = Field("", max_length=100_000, description="Markdown")
    outro: Text = Field("", max_length=100_000, description="Markdown")
    tracking: bool = True


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    post_id: int = Field(ge=1, le=MAX_ID)
    mode: ItemMode = ItemMode.FULL


class IssuePatch(BaseModel):
    """Only drafts can change; omitted (or null) fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    subject: Text | None = Field(None, min_length=1, max_length=300)
    preheader: Text | None = Field(None, max_length=300)
    intro: Text | None = Field(None, max_length=100_000)
    outro: Text | None = Field(None, max_length=100_000)
    tracking: bool | None = None
    post_ids: list[PostId] | None = Field(
        None, max_length=100, description="new order and membership; kept posts keep their mode"
    )
    items: list[ItemIn] | None = Field(None, max_length=100, description="order and modes")


class PreviewQuery(BaseModel):
    format: Literal["html", "text"] = "html"
    subscriber: int | None = Field(
        None, ge=1, le=MAX_ID, description="render as this subscriber gets it (their categories)"
    )


class PreviewOut(RootModel[str]):
    """The HTML or plain-text body itself (not JSON)."""


class TestSendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emails: list[Text] = Field(min_length=1, max_length=MAX_TEST_RECIPIENTS)


class TestSendOut(BaseModel):
    sent_to: list[str]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    send_at: AwareDatetime = Field(description="ISO 8601 with a timezone, in the future")


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Service errors become API errors: 404 missing, 409 wrong state, 422 bad input."""
    try:
        yield
    except IssueNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except InvalidTransition as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except TestSendError as exc:
        raise ApiError(502, "smtp_failed", str(exc)) from None
    except SubscriberNotFound as exc:
        raise ApiError(422, "validation_error", f"subscriber: {exc}") from None
    except ComposeError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None


@api.operation(
    "/issues", summary="Issues, newest first", tag="issues", query=IssuesQuery, response=IssueList
)
def list_issues_api(query: IssuesQuery) -> IssueList:
    """GET /api/v1/issues: issues newest first, `?status=` to filter, keyset-paged
    (`?cursor=` the previous page's `next`, `?limit=` 1..100, default 25).

    200 with `{"items", "next"}`; 422 for a bad cursor or query value; 401 without a valid bearer
    token.
    """
    with _domain_errors():
        page = list_issues(
            get_session(), status=query.status, cursor=query.cursor, limit=query.limit
        )
    return IssueList(items=[IssueOut.of(i) for i in page.items], next=page.next)


@api.operation(
    "/issues",
    "POST",
    summary="Create a draft from post ids, or from everything since a date",
    tag="issues",
    body=IssueCreate,
    response=IssueOut,
    status=201,
)
def create_issue_api(body: IssueCreate) -> IssueOut:
    """POST /api/v1/issues: a new draft from `post_ids`, or from every post since `since`
    (default: the last sent issue), optionally limited to `categories`.

    201 with the issue; 422 for input the service refuses (ComposeError: post_ids
    together with since/categories, no post to include, an unknown post or category);
    400/415/422 for a malformed, non-JSON or invalid body; 401 without a valid bearer token.
    """
    with _domain_errors():
        issue = create_issue(
            get_session(),
            subject=body.subject,
            post_ids=body.post_ids,
            since=body.since,
            categories=body.categories,
            preheader=body.preheader,
            intro=body.intro,
            outro=body.outro,
            tracking=body.tracking,
        )
    return IssueOut.of(issue)


@api.operation("/issues/<int:issue_id>", summary="One issue", tag="issues", response=IssueOut)
def get_issue_api(issue_id: int) -> IssueOut:
    """GET /api/v1/issues/<issue_id>: one issue. 200; 404 when there is none; 401 without a valid
    bearer token.
    """
    with _domain_errors():
        return IssueOut.of(get_issue(get_session(), issue_id))


@api.operation(
    "/issues/<int:issue_id>",
    "PATCH",
    summary="Edit a draft",
    tag="issues",
    body=IssuePatch,
    response=IssueOut,
    errors=(409,),
)
def patch_issue_api(issue_id: int, body: IssuePatch) -> IssueOut:
    """PATCH /api/v1/issues/<issue_id>: change a draft's given fields (null keeps a value);
    `items` sets order and modes, `post_ids` order and membership.

    200 with the issue; 404 no such issue; 409 not a draft (InvalidTransition); 422 for input the
    service refuses; 400/415/422 for a malformed, non-JSON or invalid body; 401 without a valid
    bearer token.
    """
    with _domain_errors():
        issue = update_issue(
            get_session(),
            issue_id=issue_id,
            subject=body.subject,
            preheader=body.preheader,
            intro=body.intro,
            outro=body.outro,
            tracking=body.tracking,
            post_ids=body.post_ids,
            items=[ItemSpec(i.post_id, i.mode) for i in body.items]
            if body.items is not None
            else None,
        )
    return IssueOut.of(issue)


@api.operation(
    "/issues/<int:issue_id>/preview",
    summary="The rendered issue: format=html or text, optionally as one subscriber gets it",
    tag="issues",
    query=PreviewQuery,
    response=PreviewOut,
    # One operation answers text/html or text/plain depending on `format`.
    response_content_type="text/*",
)
def preview_issue_api(issue_id: int, query: PreviewQuery) -> Response:
    """GET /api/v1/issues/<issue_id>/preview: the rendered issue, `?format=html` (text/html,
    sandboxed by its CSP) or `text` (text/plain), for everyone or `?subscriber=ID` as
    that subscriber gets it.

    200, with the number of posts shown in X-Newsletter-Posts; 404 no such issue; 422 for
    an unknown subscriber or a bad query value; 401 without a valid bearer token.
    """
    with _domain_errors():
        preview = render_preview(
            get_session(),
            issue_id=issue_id,
            settings=current_app.extensions["settings"],
            subscriber_id=query.subscriber,
        )
    if query.format == "text":
        response = Response(preview.text, mimetype="text/plain")
    else:
        response = Response(preview.html, mimetype="text/html")
        # The body is an email, not part of this site: nothing in it may run here.
        response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Newsletter-Posts"] = str(preview.post_count)
    return response


@api.operation(
    "/issues/<int:issue_id>/test",
    "POST",
    summary="Send a test (subject prefixed [Test]) to up to 5 addresses; not counted in stats",
    tag="issues",
    body=TestSendIn,
    response=TestSendOut,
    errors=(502,),
)
def test_send_api(issue_id: int, body: TestSendIn) -> TestSendOut:
    """POST /api/v1/issues/<issue_id>/test `{"emails": [...]}`: send the whole issue, subject
    prefixed "[Test] ", to up to MAX_TEST_RECIPIENTS addresses; never counted in stats.

    200 with `{"sent_to": [...]}`; 404 no such issue; 422 for a bad address; 502 `smtp_failed` when
    the SMTP server refuses a message; 400/415/422 for a malformed, non-JSON or invalid body; 401
    without a valid bearer token.
    """
    with _domain_errors():
        sent = send_test(
            get_session(),
            issue_id=issue_id,
            emails=body.emails,
            sender=get_sender(),
            settings=current_app.extensions["settings"],
        )
    return TestSendOut(sent_to=sent)


@api.operation(
    "/issues/<int:issue_id>/schedule",
    "POST",
    summary="Schedule a draft for send_at (timezone-aware, in the future)",
    tag="issues",
    body=ScheduleIn,
    response=IssueOut,
    errors=(409,),
)
def schedule_issue_api(issue_id: int, body: ScheduleIn) -> IssueOut:
    """POST /api/v1/issues/<issue_id>/schedule `{"send_at": ...}`: draft -> scheduled; a beat
    tick starts the send at `send_at` (ISO 8601 with a timezone, in the future).

    200 with the issue; 404 no such issue; 409 not a draft; 422 for a time in the past or without a
    timezone, or an issue with no posts; 400/415/422 for a malformed, non-JSON or invalid body;
    401 without a valid bearer token.
    """
    with _domain_errors():
        issue = schedule_issue(get_session(), issue_id=issue_id, send_at=body.send_at)
    return IssueOut.of(issue)


class Bounces(BaseModel):
    hard: int
    soft: int


class Opens(BaseModel):
    unique: int = Field(description="deliveries opened by a person")
    total: int = Field(description="pixel fetches by people")
    machine: int = Field(description="pixel fetches by machines (Apple's proxy, scanners)")
    machine_unique: int = Field(description="deliveries whose pixel a machine fetched")


class LinkClicks(BaseModel):
    id: int
    url: str
    unique: int = Field(description="deliveries that followed this link (people)")
    total: int = Field(description="clicks on this link by people")
    machine: int = Field(description="clicks on this link by machines")


class Clicks(BaseModel):
    unique: int = Field(description="deliveries that followed any link (people)")
    total: int
    machine: int
    machine_unique: int
    links: list[LinkClicks] = Field(description="every tracked link, most clicked first")


class Rates(BaseModel):
    """Fractions of `sent` (click_to_open: of unique opens), 4 decimals."""

    open: float
    click: float
    click_to_open: float
    bounce: float
    unsubscribe: float
    complaint: float


class SeriesPoint(BaseModel):
    at: datetime = Field(
        description="bucket start (UTC): 10 minutes for the first day, then hourly"
    )
    opens: int
    clicks: int
    machine_opens: int
    machine_clicks: int


class StatsOut(BaseModel):
    """Delivery, bounce, unsubscribe, open and click figures of an issue; people and
    machines counted apart; test sends never count."""

    status: IssueStatus
    recipients: int
    sent: int
    failed: int
    skipped: int
    remaining: int
    rate_per_s: float = Field(description="messages accepted per second, last 10 s")
    bounces: Bounces
    complaints: int
    unsubscribes: int = Field(description="subscribers who left through this issue's link")
    opens: Opens
    clicks: Clicks
    rates: Rates
    series: list[SeriesPoint]


class StatsCsv(RootModel[str]):
    """Long-format CSV: section (summary, link, series), at, url, metric, value."""


def _control(action: str, issue_id: int) -> IssueOut:
    from newsletter.sends import control

    with _domain_errors():
        issue = getattr(control, action)(get_session(), issue_id=issue_id)
    return IssueOut.of(issue)


@api.operation(
    "/issues/<int:issue_id>/send",
    "POST",
    summary="Start sending now (a draft or a scheduled issue); workers do the sending",
    tag="issues",
    response=IssueOut,
    errors=(409, 422),  # 422: the issue has no posts
)
def send_issue_api(issue_id: int) -> IssueOut:
    """POST /api/v1/issues/<issue_id>/send: start sending a draft or scheduled issue now
    (sends.control.send_now); workers do the sending.

    200 with the issue; 404 no such issue; 409 already sending, sent or cancelled; 422
    when the issue has no posts; 401 without a valid bearer token.
    """
    return _control("send_now", issue_id)


@api.operation(
    "/issues/<int:issue_id>/pause",
    "POST",
    summary="Pause a running send",
    tag="issues",
    response=IssueOut,
    errors=(409,),
)
def pause_issue_api(issue_id: int) -> IssueOut:
    """POST /api/v1/issues/<issue_id>/pause: sending -> paused (batches stop within a few messages).

    200 with the issue; 404 no such issue; 409 when it is not sending; 401 without a valid bearer
    token.
    """
    return _control("pause", issue_id)


@api.operation(
    "/issues/<int:issue_id>/resume",
    "POST",
    summary="Resume a paused send from where it stopped",
    tag="issues",
    response=IssueOut,
    errors=(409,),
)
def resume_issue_api(issue_id: int) -> IssueOut:
    """POST /api/v1/issues/<issue_id>/resume: paused -> sending, from the checkpoint.

    200 with the issue; 404 no such issue; 409 when it is not paused; 401 without a valid bearer
    token.
    """
    return _control("resume", issue_id)


@api.operation(
    "/issues/<int:issue_id>/stats",
    summary="Delivery progress and figures of an issue",
    tag="issues",
    response=StatsOut,
)
def issue_stats_api(issue_id: int) -> StatsOut:
    """GET /api/v1/issues/<issue_id>/stats: delivery progress, bounces, complaints,
    unsubscribes, opens and clicks (people and machines apart), rates and a time series
    (tracking.stats.issue_stats; shape in StatsOut).

    200; 404 no such issue; 401 without a valid bearer token.
    """
    from newsletter.tracking.stats import issue_stats

    with _domain_errors():
        return StatsOut.model_validate(issue_stats(get_session(), issue_id))


@api.operation(
    "/issues/<int:issue_id>/stats.csv",
    summary="The issue's stats as CSV: summary figures, each link, the time series",
    tag="issues",
    response=StatsCsv,
    response_content_type="text/csv",
)
def issue_stats_csv_api(issue_id: int) -> Response:
    """GET /api/v1/issues/<issue_id>/stats.csv: the same figures as long-format CSV
    (section, at, url, metric, value), as the attachment issue-ID-stats.csv.

    200 text/csv; 404 no such issue; 401 without a valid bearer token.
    """
    from newsletter.tracking.stats import csv_text, stats_csv_rows

    with _domain_errors():
        rows = stats_csv_rows(get_session(), issue_id)
    response = Response(csv_text(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="issue-{issue_id}-stats.csv"'
    return response


@api.operation(
    "/issues/<int:issue_id>/cancel",
    "POST",
    summary="Cancel an issue that has not finished sending",
    tag="issues",
    response=IssueOut,
    errors=(409,),
)
def cancel_issue_api(issue_id: int) -> IssueOut:
    """POST /api/v1/issues/<issue_id>/cancel: stop an issue that has not finished, for good;
    what was sent stays sent.

    200 with the issue; 404 no such issue; 409 when it has already finished; 401 without a valid
    bearer token.
    """
    return _control("cancel", issue_id)
