"""Errors: JSON in the documented shape for API clients, a plain page for browsers."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .api.framework import ApiError, error_response

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
}


def wants_json() -> bool:
    """True when an error should be answered as JSON: under /api/ or /webhooks/, for a JSON
    request body, or when the client's Accept prefers application/json and accepts no HTML.
    """
    if request.path.startswith(("/api/", "/webhooks/")):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 429:
        message = f"too many requests: {exc.description}; try again later"
    if wants_json():
        response = error_response(status, _CODES.get(status, "error"), message)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response
    return render_template("web/error.html", status=status, title=exc.name, message=message), status


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.details)


def _csrf_error(exc: CSRFError) -> Response | tuple[str, int]:
    if wants_json():
        return error_response(400, "csrf_failed", exc.description)
    message = "The form expired or was sent from elsewhere. Go back, reload the page and try again."
    return render_template("web/error.html", status=400, title="Form expired", message=message), 400


def register(app: Flask) -> None:
    """Install the error handlers on `app`: ApiError as its JSON error body; CSRFError as
    400 (`csrf_failed` JSON, or the "Form expired" page); any other HTTPException with
    its own status, as a JSON error (`{"error": {"code", "message"}}`, Allow kept on a
    405) when wants_json(), else the web/error.html page.
    """
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
