"""Provider webhooks: verify the request, normalise its events. No Flask in here.

Each module exposes `parse(headers, body, ...) -> list[ProviderEvent]` and raises a
`errors.WebhookError` (401 missing credentials, 403 bad ones, 400 malformed body).
Events a provider sends that change nothing for us (opens, clicks, deferrals) are
left out of the list.
"""

from .errors import BadSignature, MalformedPayload, MissingCredentials, WebhookError

__all__ = ["BadSignature", "MalformedPayload", "MissingCredentials", "WebhookError"]
