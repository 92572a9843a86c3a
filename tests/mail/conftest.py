"""A scripted aiosmtpd server on loopback for the SMTP session and pool tests."""

from __future__ import annotations

import pytest

from ..live import free_port
from ..sends.smtp_server import ScriptedHandler, start_server


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    handler = ScriptedHandler()
    port = free_port()
    controller = start_server(port, handler)
    handler.port = port  # type: ignore[attr-defined]
    yield handler
    controller.stop()
