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
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
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
    controller = Controller(OutboxHandler(folder), hostname=host, port=port, decode_data=False)
    controller.start()
    return controller
