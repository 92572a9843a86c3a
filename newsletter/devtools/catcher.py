"""A built-in SMTP server on loopback that keeps every message as a .eml file.

`make run` points NEWSLETTER_SMTP_URL at it, and /dev/outbox shows what it caught,
so the whole product can be tried without a real mail server.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


class OutboxHandler:
    """aiosmtpd handler that keeps every message as a .eml file in `folder` (created if missing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        """aiosmtpd's DATA hook: keep the message as `<ns>-<random>.eml` in the folder, with
        X-Envelope-From and X-Envelope-To headers prepended; answers `250` (RFC 5321 4.2).
        """
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        data = envelope.original_content or b""
        header = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(header + data)
        tmp.rename(self.folder / f"{name}.eml")  # atomic: readers never see half a message
        return "250 Message accepted for delivery"


def start_catcher(folder: Path, host: str = "127.0.0.1", port: int = 8025) -> Controller:
    """Start the SMTP catcher on `host`:`port` in a background thread, saving into `folder`;
    returns the running aiosmtpd Controller (call `.stop()`). Raises OSError when the port
    cannot be bound, and TimeoutError when the server does not answer in time (aiosmtpd).
    """
    controller = Controller(OutboxHandler(folder), hostname=host, port=port, decode_data=False)
    controller.start()
    return controller
