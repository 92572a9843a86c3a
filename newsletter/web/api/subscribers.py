"""/api/v1/subscribers: list, create, read, update, erase, import, GDPR export."""

from __future__ import annotations

from typing import Any, Literal

from flask import Response, request
from pydantic import BaseModel, Field

from newsletter.db import get_session
from newsletter.models import Frequency, SubscriberStatus
from newsletter.subscribers import exporter, manage, queries
from newsletter.subscribers.erase import erase as erase_subscriber
from newsletter.subscribers.errors import (
    Conflict,
    InvalidEmail,
    InvalidInput,
    SubscriberError,
    SubscriberNotFound,
)
from newsletter.subscribers.importer import ImportFileError, import_csv

from . import api
from .framework import ApiError

TAG = "subscribers"


class SubscriberOut(BaseModel):
    id: int
    email: str
    name: str
    status: SubscriberStatus
    categories: list[str]
    created_at: str
    confirmed_at: str | None


class SubscriberList(BaseModel):
    items: list[SubscriberOut]
    next: str | None


class SubscriberQuery(BaseModel):
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)
    status: SubscriberStatus | None = None
    category: str | None = Field(None, max_length=200)
    q: str | None = Field(None, max_length=320, description="part of the address or name")


class SubscriberCreate(BaseModel):
    model_config = {"extra": "forbid"}
    email: str = Field(max_length=320)
    name: str = Field("", max_length=200)
    categories: list[str] = Field(default_factory=list, max_length=200)
    status: Literal["pending", "active"] = Field(
        "pending", description="pending sends a confirmation email; active means consent was given"
    )


class SubscriberPatch(BaseModel):
    model_config = {"extra": "forbid"}
    name: str | None = Field(None, max_length=200)
    categories: list[str] | None = Field(None, max_length=200)
    frequency: Frequency | None = None
    status: Literal["active", "unsubscribed", "blocked"] | None = None


class ImportQuery(BaseModel):
    confirmed: bool = False
    categories: str | None = Field(None, description="comma-separated categories for every row")


class ImportResult(BaseModel):
    rows: int
    created: int
    updated: int
    unchanged: int
    merged: int
    skipped: int
    failed: int
    errors: list[str]
    warnings: list[str]
    confirmations: int


class PersonalData(BaseModel):
    subscriber: dict[str, Any]
    events: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    suppression: dict[str, Any] | None


def _fail(exc: SubscriberError) -> ApiError:
    if isinstance(exc, SubscriberNotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, InvalidEmail):
        return ApiError(422, "invalid_email", str(exc))
    if isinstance(exc, ImportFileError):
        return ApiError(422, "invalid_csv", str(exc))
    return ApiError(422, "validation_error", str(exc))


def _out(subscriber_id: int) -> SubscriberOut:
    subscriber = queries.get_subscriber(get_session(), subscriber_id)
    if subscriber is None:
        raise ApiError(404, "not_found", f"no subscriber with id {subscriber_id}")
    return SubscriberOut.model_validate(queries.subscriber_json(subscriber))


@api.operation(
    "/subscribers",
    summary="Subscribers, newest last, keyset-paged",
    tag=TAG,
    query=SubscriberQuery,
    response=SubscriberList,
)
def list_subscribers(query: SubscriberQuery) -> SubscriberList:
    """GET /api/v1/subscribers: one page of subscribers, oldest first, filtered by `?status=`,
    `?category=` and `?q=` (part of the address or name); `?cursor=`, `?limit=` 1..500.

    200 with `{"items", "next"}`; 422 for an unknown category, a bad cursor or a bad
    query value; 401 without a valid bearer token.
    """
    try:
        page = queries.list_subscribers(
            get_session(),
            cursor=query.cursor,
            limit=query.limit,
            status=query.status,
            category=query.category,
            search=query.q,
        )
    except InvalidInput as exc:
        raise _fail(exc) from None
    return SubscriberList(
        items=[SubscriberOut.model_validate(queries.subscriber_json(s)) for s in page.items],
        next=page.next,
    )


@api.operation(
    "/subscribers",
    "POST",
    summary="Add a subscriber",
    tag=TAG,
    body=SubscriberCreate,
    response=SubscriberOut,
    status=201,
    errors=(409,),
)
def create_subscriber(body: SubscriberCreate) -> SubscriberOut:
    """POST /api/v1/subscribers: add one address; `status` pending (sends a confirmation
    email) or active (consent was given elsewhere).

    201 with the subscriber; 409 when the address exists or is suppressed; 422 `invalid_email` or
    `validation_error` (name, unknown category); 400/415/422 for a malformed, non-JSON or invalid
    body; 401 without a valid bearer token.
    """
    session = get_session()
    try:
        subscriber = manage.create_subscriber(
            session,
            email=body.email,
            name=body.name,
            categories=body.categories,
            status=SubscriberStatus(body.status),
        )
    except SubscriberError as exc:
        session.rollback()
        raise _fail(exc) from None
    return _out(subscriber.id)


@api.operation(
    "/subscribers/<int:subscriber_id>", summary="One subscriber", tag=TAG, response=SubscriberOut
)
def get_subscriber(subscriber_id: int) -> SubscriberOut:
    """GET /api/v1/subscribers/<subscriber_id>: one subscriber. 200; 404 when there is none; 401
    without a valid bearer token.
    """
    return _out(subscriber_id)


@api.operation(
    "/subscribers/<int:subscriber_id>",
    "PATCH",
    summary="Change name, categories, frequency or status (active, unsubscribed, blocked)",
    tag=TAG,
    body=SubscriberPatch,
    response=SubscriberOut,
    errors=(409,),
)
def update_subscriber(subscriber_id: int, body: SubscriberPatch) -> SubscriberOut:
    """PATCH /api/v1/subscribers/<subscriber_id>: change name, categories, frequency or status
    (active, unsubscribed, blocked, where the lifecycle allows); all or nothing.

    200 with the subscriber; 404 no such subscriber; 409 for a status move the lifecycle refuses;
    422 for a bad name or an unknown category; 400/415/422 for a malformed, non-JSON or invalid
    body; 401 without a valid bearer token.
    """
    session = get_session()
    try:
        manage.update_subscriber(
            session,
            subscriber_id=subscriber_id,
            name=body.name,
            categories=body.categories,
            frequency=body.frequency,
            status=SubscriberStatus(body.status) if body.status else None,
        )
    except SubscriberError as exc:
        session.rollback()
        raise _fail(exc) from None
    return _out(subscriber_id)


@api.operation(
    "/subscribers/<int:subscriber_id>",
    "DELETE",
    summary="Erase (GDPR): delete personal data, keep a hashed suppression",
    tag=TAG,
    status=204,
)
def delete_subscriber(subscriber_id: int) -> Response:
    """DELETE /api/v1/subscribers/<subscriber_id>: erase (GDPR): delete the subscriber and
    everything about them, keep only a hashed suppression.

    204; 404 no such subscriber; 401 without a valid bearer token.
    """
    session = get_session()
    try:
        erase_subscriber(session, subscriber_id=subscriber_id)
    except SubscriberNotFound as exc:
        raise _fail(exc) from None
    return Response(status=204)


@api.operation(
    "/subscribers/<int:subscriber_id>/export",
    summary="GDPR export: everything held about one subscriber, events included",
    tag=TAG,
    response=PersonalData,
)
def export_subscriber(subscriber_id: int) -> PersonalData:
    """GET /api/v1/subscribers/<subscriber_id>/export: everything held about one subscriber
    (GDPR Art. 15): the row, events, deliveries and any suppression.

    200; 404 no such subscriber; 401 without a valid bearer token.
    """
    try:
        data = exporter.personal_data(get_session(), subscriber_id=subscriber_id)
    except SubscriberNotFound as exc:
        raise _fail(exc) from None
    return PersonalData.model_validate(data)


@api.operation(
    "/subscribers/import",
    "POST",
    summary="Import a CSV (header row: email, name, categories, created_at, status)",
    tag=TAG,
    query=ImportQuery,
    response=ImportResult,
    request_content={
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
)
def import_subscribers(query: ImportQuery) -> ImportResult:
    """POST /api/v1/subscribers/import: import a CSV sent as text/csv (also text/plain,
    application/csv) or as the multipart field `file`. `?confirmed=true` makes new
    addresses active (consent given elsewhere) instead of pending with a confirmation
    email; `?categories=` adds comma-separated categories to every row.

    200 with the import report (row counts, errors, warnings); 400 `missing_file` for a
    multipart body without `file`; 415 for another Content-Type; 422 `invalid_csv` when
    the file as a whole cannot be imported or `validation_error` for an unknown
    category; 401 without a valid bearer token.
    """
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(400, "missing_file", "send the CSV as the multipart field `file`")
        stream: Any = upload.stream
    elif request.mimetype in ("text/csv", "text/plain", "application/csv"):
        stream = request.stream
    else:
        raise ApiError(415, "unsupported_media_type", "send text/csv or multipart/form-data")
    session = get_session()
    try:
        report = import_csv(
            session,
            stream,
            confirmed=query.confirmed,
            categories=[c for c in (query.categories or "").split(",") if c.strip()],
        )
    except SubscriberError as exc:
        raise _fail(exc) from None
    return ImportResult.model_validate(report.as_dict())
