"""The subscriber pages' blueprint (endpoints `subscribe.*`, no login; signed tokens) and the
checks its pages share. The pages: signup.py (/subscribe), confirm.py (/confirm),
preferences.py (/preferences), unsubscribe.py (/unsubscribe); importing the package
registers their routes on this blueprint.

CSRF, without a login or a cookie:
- /subscribe is exempt on purpose: the form is meant to be pasted into a blog on
  another site. A forged signup can only trigger one confirmation email (double
  opt-in, rate limits per IP and per address, a honeypot).
- /confirm and /preferences POSTs are authorized by the secret link token in the
  URL, which a cross-site attacker does not have. On top, each form carries a
  signature bound to that token and to when the page was shown (7 days), and a
  request whose Origin or Sec-Fetch-Site says "another site" is refused. No
  session cookie is needed, so the pages work in mail apps' in-app browsers.
- POST /unsubscribe is RFC 8058 one-click: mail providers send it from their
  servers with no cookie, no Origin and no form token; it must simply work.
GET requests never change anything: mail scanners prefetch every link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, request

from newsletter.config import Settings
from newsletter.subscribers.errors import InvalidToken
from newsletter.subscribers.tokens import Purpose, TokenData, check_form, read_token

bp = Blueprint("subscribe", __name__)

MAX_CATEGORIES = 200
BAD_LINK = "This link is not valid. Copy the whole link from the email, or sign up again."


def settings() -> Settings:
    """The running app's Settings (needs an app context)."""
    return current_app.extensions["settings"]  # type: ignore[no-any-return]


def read_link(purpose: Purpose, token: str) -> TokenData:
    """The data signed into a link token made for `purpose`.

    Aborts with 404 (BAD_LINK) when tokens.read_token raises InvalidToken: the token
    is empty, over 500 characters, forged, malformed or made for another purpose.
    """
    try:
        return read_token(purpose, token, settings=settings())
    except InvalidToken:
        abort(404, BAD_LINK)


def same_site_post() -> None:
    """Refuse a form POST a browser tells us came from another site (defence in depth).

    Aborts with 403 when Sec-Fetch-Site is "cross-site", or when an Origin header
    (other than "null") differs from this host's scheme and host:port. A request with
    neither header passes: the link token is what authorizes it.
    """
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403, "This form can only be sent from this site.")
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        ours = urlsplit(request.host_url)
        theirs = urlsplit(origin)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            abort(403, "This form can only be sent from this site.")


def checked_form(token: str) -> None:
    """Check a POST from one of our token pages: same site, and a valid `form_signature`.

    Aborts with 403 (see same_site_post), or with 400 when the form field
    `form_signature` is missing, forged, made for another link token or older than
    tokens.FORM_MAX_AGE (7 days).
    """
    same_site_post()
    if not check_form(token, request.form.get("form_signature", ""), settings=settings()):
        abort(400, "This form has expired. Open the link from the email again.")
