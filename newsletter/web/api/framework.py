"""A small typed layer over Flask for the JSON API.

Each operation declares pydantic models for its query, body and response. The same
models validate requests, serialize responses and generate /api/v1/openapi.json, so
the document can never drift from what the code accepts.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from newsletter.accounts.service import user_for_token
from newsletter.db import get_session
from newsletter.models.base import MAX_ID


class ApiError(Exception):
    """An error the client can act on; rendered as {"error": {"code", "message"}}."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    """A JSON error response: `{"error": {"code", "message"[, "details"]}}` with `status`.

    `details` is left out when None. The one shape every API error takes (ErrorResponse).
    """
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


ViewFunc = Callable[..., Any]
_PATH_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


@dataclass(slots=True)
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    status: int
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    auth: bool
    request_content: dict[str, Any] | None = None
    response_content_type: str = "application/json"
    errors: tuple[int, ...] = field(default=())


class Api:
    """Collects operations on one blueprint and renders the OpenAPI document."""

    def __init__(self, blueprint: Blueprint, *, title: str, version: str) -> None:
        self.blueprint = blueprint
        self.title = title
        self.version = version
        self.operations: list[Operation] = []

    def operation(
        self,
        rule: str,
        method: str = "GET",
        *,
        summary: str,
        tag: str,
        response: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        status: int = 200,
        auth: bool = True,
        request_content: dict[str, Any] | None = None,
        response_content_type: str = "application/json",
        errors: tuple[int, ...] = (),
    ) -> Callable[[ViewFunc], ViewFunc]:
        """Decorator: register `view` as the API operation METHOD `rule` on the blueprint.

        The wrapper, in order: requires a bearer token when `auth` (ApiError 401), answers
        ApiError 404 for an int path parameter outside 1..MAX_ID, validates `query` from the
        query string and `body` from a JSON body (ApiError 415 when not JSON, 400 when
        malformed, 422 `validation_error` with per-field `details`), calls the view with
        them as keyword arguments, and serializes what it returns through `response` with
        `status` (an empty response when `response` is None; a Response is passed through).
        The same facts feed the OpenAPI document; `errors` lists extra statuses to document.
        """

        def decorator(view: ViewFunc) -> ViewFunc:
            op = Operation(
                rule=rule,
                method=method.upper(),
                endpoint=view.__name__,
                summary=summary,
                tag=tag,
                status=status,
                body=body,
                query=query,
                response=response,
                auth=auth,
                request_content=request_content,
                response_content_type=response_content_type,
                errors=errors,
            )
            self.operations.append(op)

            @functools.wraps(view)
            def wrapper(**path: Any) -> Any:
                if op.auth:
                    _require_token()
                # An id out of range names nothing (and SQLite could not even bind it).
                if any(isinstance(v, int) and not 0 < v <= MAX_ID for v in path.values()):
                    raise ApiError(404, "not_found", "no such resource")
                kwargs = dict(path)
                if op.query is not None:
                    kwargs["query"] = _validate(op.query, _query_args(op.query))
                if op.body is not None:
                    kwargs["body"] = _validate(op.body, _json_body())
                result = view(**kwargs)
                if isinstance(result, Response):
                    return result
                if op.response is None:
                    return Response(status=op.status)
                if not isinstance(result, op.response):
                    result = op.response.model_validate(result)
                out = jsonify(result.model_dump(mode="json"))
                out.status_code = op.status
                return out

            self.blueprint.add_url_rule(rule, view.__name__, wrapper, methods=[op.method])
            return wrapper

        return decorator

    def openapi(self, prefix: str) -> dict[str, Any]:
        """The OpenAPI 3.1 document (a JSON-ready dict) of every operation, paths under `prefix`.

        Schemas come from the operations' pydantic models. Each operation lists its
        success status and the errors it can answer: 401 when it needs a token, 400/413/415/422
        when it has a body, 404 when its path has a parameter, 422 always (unstorable text),
        plus its declared `errors`.
        """
        models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
        for op in self.operations:
            if op.body is not None:
                models.append((op.body, "validation"))
            if op.response is not None:
                models.append((op.response, "serialization"))
        documented = {model for model, _ in models}
        # Query models go through the same generation, so the enums and models their
        # fields use land in components under the names every other schema uses
        # (a query model's own `$defs` would otherwise dangle in the document).
        query_models = {op.query for op in self.operations if op.query is not None}
        models += [(model, "validation") for model in query_models]
        refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
        schemas: dict[str, Any] = defs.get("$defs", {})
        query_schemas = {
            model: schemas[_ref_name(refs[(model, "validation")])] for model in query_models
        }

        paths: dict[str, dict[str, Any]] = {}
        for op in self.operations:
            path, parameters = _openapi_path(prefix + op.rule)
            if op.query is not None:
                parameters += _query_parameters(query_schemas[op.query])
            item: dict[str, Any] = {
                "operationId": op.endpoint,
                "summary": op.summary,
                "tags": [op.tag],
                "responses": {str(op.status): _success(op, refs)},
            }
            if parameters:
                item["parameters"] = parameters
            if op.body is not None:
                item["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
                }
            elif op.request_content is not None:
                item["requestBody"] = {"required": True, "content": op.request_content}
            error_codes = set(op.errors)
            if op.auth:
                item["security"] = [{"bearerAuth": []}]
                error_codes.add(401)
            if op.body is not None or op.request_content is not None:
                error_codes.update((400, 413, 415, 422))
            # 422 on every operation: text no database can hold (a NUL) is refused
            # anywhere in a request, the path included (newsletter/web/textguard.py).
            error_codes.add(422)
            if "{" in path:
                error_codes.add(404)
            error_ref = refs[(ErrorResponse, "serialization")]
            for code in sorted(error_codes):
                item["responses"][str(code)] = {
                    "description": _ERROR_DESCRIPTIONS.get(code, "error"),
                    "content": {"application/json": {"schema": error_ref}},
                }
            paths.setdefault(path, {})[op.method.lower()] = item
        # A query model is spelled out as parameters; keep its schema only if referenced.
        for model in query_models - documented:
            name = _ref_name(refs[(model, "validation")])
            rest = {k: v for k, v in schemas.items() if k != name}
            if f"#/components/schemas/{name}" not in _refs_in([paths, rest]):
                del schemas[name]
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            },
        }


_ERROR_DESCRIPTIONS = {
    400: "malformed request",
    401: "missing, bad or revoked token",
    404: "no such resource",
    409: "conflicts with the current state",
    413: "request body too large",
    415: "unsupported content type",
    422: "the request failed validation",
}


def _success(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    if op.response is None:
        return {"description": "done"}
    return {
        "description": "success",
        "content": {op.response_content_type: {"schema": refs[(op.response, "serialization")]}},
    }


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    parameters: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        schema: dict[str, Any] = {"type": "string"}
        if match["converter"] == "int":
            # Flask's int converter matches digits only, so document exactly that.
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        parameters.append({"name": match["name"], "in": "path", "required": True, "schema": schema})
        return "{" + match["name"] + "}"

    return _PATH_PARAM.sub(replace, rule), parameters


def _ref_name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rpartition("/")[2]


def _refs_in(node: Any) -> set[str]:
    """Every `$ref` string anywhere in a JSON-like tree."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs_in(v) for v in node))
    return set()


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One query parameter per property of a query model's (component-referencing) schema."""
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        param["schema"] = prop
        if prop.get("type") == "array":
            param["explode"] = True
            param["style"] = "form"
        params.append(param)
    return params


def _is_list_field(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (list, tuple):
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_is_list_field(a) for a in typing.get_args(annotation))
    return False


def _query_args(model: type[BaseModel]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        values = request.args.getlist(name)
        if not values:
            continue
        args[name] = values if _is_list_field(info.annotation) else values[-1]
    return args


def _json_body() -> Any:
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type", "the body must be JSON (Content-Type: application/json)"
        )
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "malformed_json", "the body is not valid JSON")
    return data


def _validate(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        first = details[0]
        raise ApiError(
            422, "validation_error", f"{first['field']}: {first['message']}", details
        ) from None


def _require_token() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "send Authorization: Bearer <token>")
    principal = user_for_token(get_session(), token.strip())
    if principal is None:
        raise ApiError(401, "unauthorized", "the token is invalid or revoked")
    g.api_principal = principal
