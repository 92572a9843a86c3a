"""Typed webhook errors; the web layer turns each into its HTTP status, nothing else."""

from __future__ import annotations


class WebhookError(Exception):
    """A request we refuse; `status` and `code` are what the endpoint answers."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingCredentials(WebhookError):
    """No signature or no Authorization header at all (401)."""

    status = 401
    code = "unauthorized"


class BadSignature(WebhookError):
    """Credentials or a signature that do not verify, a stale or replayed request (403)."""

    status = 403
    code = "forbidden"


class MalformedPayload(WebhookError):
    """The body is not what the provider documents: not JSON, wrong types (400)."""

    status = 400
    code = "bad_request"


class UpstreamFailed(WebhookError):
    """A verified request we could not complete because the provider did not answer (502)."""

    status = 502
    code = "bad_gateway"


class Unavailable(WebhookError):
    """Our own storage (Redis, the database) is away; the provider retries later (503)."""

    status = 503
    code = "unavailable"
