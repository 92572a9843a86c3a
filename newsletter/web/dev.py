"""/dev/outbox: what the built-in mail catcher received (development only)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template

bp = Blueprint("dev", __name__, url_prefix="/dev")


def _folder() -> Path:
    settings = current_app.extensions["settings"]
    if not settings.dev_outbox:
        abort(404)
    return settings.outbox_folder  # type: ignore[no-any-return]


def _read(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


@bp.get("/outbox")
def outbox() -> str:
    """GET /dev/outbox: the newest 200 messages the development mail catcher stored
    (subject, To, date). Renders web/dev_outbox.html; 200; 404 unless
    NEWSLETTER_DEV_OUTBOX is on (never in production).
    """
    folder = _folder()
    files = sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.exists() else []
    messages = []
    for path in files:
        msg = _read(path)
        messages.append(
            {"id": path.stem, "subject": msg["Subject"], "to": msg["To"], "date": msg["Date"]}
        )
    return render_template("web/dev_outbox.html", messages=messages)


def _message_path(message_id: str) -> Path:
    folder = _folder()
    if not message_id.replace("-", "").isalnum():
        abort(404)
    path = folder / f"{message_id}.eml"
    if not path.exists():
        abort(404)
    return path


@bp.get("/outbox/<message_id>")
def message(message_id: str) -> str:
    """GET /dev/outbox/<message_id>: one caught message: its headers, HTML and text parts.

    Renders web/dev_message.html; 200; 404 for an id that is not letters, digits and
    hyphens, a message that does not exist, or when the outbox is off.
    """
    msg = _read(_message_path(message_id))
    html_part = msg.get_body(preferencelist=("html",))
    text_part = msg.get_body(preferencelist=("plain",))
    return render_template(
        "web/dev_message.html",
        message_id=message_id,
        headers=list(msg.items()),
        html=html_part.get_content() if html_part else "",
        text=text_part.get_content() if text_part else "",
    )


@bp.get("/outbox/<message_id>.eml")
def raw(message_id: str) -> Response:
    """GET /dev/outbox/<message_id>.eml: the caught message as stored (message/rfc822).

    200; 404 for a bad or unknown id, or when the outbox is off.
    """
    return Response(_message_path(message_id).read_bytes(), mimetype="message/rfc822")
