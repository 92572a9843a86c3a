"""The JSON API under /api/v1; each resource module adds its operations to `api`."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .framework import Api, ApiError, error_response

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
api = Api(bp, title="Newsletter API", version="1")


@bp.get("/openapi.json")
def openapi_document():  # type: ignore[no-untyped-def]
    """GET /api/v1/openapi.json: the OpenAPI 3.1 document of every operation, as JSON.

    Generated from the operations' pydantic models (Api.openapi); no token needed; 200.
    """
    return jsonify(api.openapi(PREFIX))


def _register_resources() -> None:
    """Import the resource modules so their operations attach to the blueprint."""
    from . import automations, categories, issues, posts, subscribers  # noqa: F401


__all__ = ["PREFIX", "Api", "ApiError", "api", "bp", "error_response"]


# Resource modules attach their operations at import, before any app registers `bp`.
_register_resources()
