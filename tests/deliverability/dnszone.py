"""A real DNS server on loopback (dnslib) serving test zones from a dict: never the internet.

UDP and TCP on the same port, as a real nameserver: an answer over 512 bytes (a
2048-bit DKIM key) comes back truncated over UDP and the resolver retries over TCP.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dnslib import MX, QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

Zone = dict[str, dict[str, list[object]]]  # name -> {"TXT": [...], "MX": [(pref, host)], "A": [ip]}


def _txt(value: str) -> TXT:
    data = value.encode()
    return TXT([data[i : i + 255] for i in range(0, len(data), 255)] or [b""])


@dataclass
class ZoneResolver(BaseResolver):  # type: ignore[misc]
    zone: Zone
    slow: dict[str, float] = field(default_factory=dict)  # name -> seconds before answering
    queries: list[tuple[str, str]] = field(default_factory=list)
    protocols: list[tuple[str, str]] = field(default_factory=list)  # (name, "udp" or "tcp")

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        name = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        self.queries.append((name, qtype))
        self.protocols.append((name, handler.protocol))
        if name in self.slow:
            time.sleep(self.slow[name])
        reply = request.reply()
        records = self.zone.get(name)
        if records is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for value in records.get(qtype, []):
            if qtype == "TXT":
                rdata = _txt(str(value))
            elif qtype == "MX":
                preference, exchange = value  # type: ignore[misc]
                rdata = MX(exchange, preference)
            elif qtype == "A":
                rdata = A(str(value))
            else:
                continue
            reply.add_answer(RR(request.q.qname, getattr(QTYPE, qtype), rdata=rdata, ttl=60))
        if handler.protocol == "udp" and len(reply.pack()) > 512:
            # As a classic nameserver: too big for UDP, so TC and no answer; the client
            # retries over TCP. (dnslib's own truncation drops the question, which
            # dnspython rightly rejects.)
            truncated = request.reply()
            truncated.header.tc = 1
            return truncated
        return reply


@contextmanager
def dns_server(zone: Zone, **kwargs: object) -> Iterator[tuple[str, ZoneResolver]]:
    """Serve `zone` on 127.0.0.1 (UDP and TCP, one free port); yields ("127.0.0.1:PORT", resolver)."""
    resolver = ZoneResolver(zone, **kwargs)  # type: ignore[arg-type]
    logger = DNSLogger(logf=lambda _line: None)
    for _attempt in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        try:
            udp = DNSServer(resolver, address="127.0.0.1", port=port, logger=logger)
        except OSError:
            continue
        try:
            tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=logger)
        except OSError:
            udp.server.server_close()
            continue
        break
    else:
        raise RuntimeError("no free port for the test DNS server")
    for server in (udp, tcp):
        # A slow answer may be written after the test closed the port: not worth a traceback.
        server.server.handle_error = lambda *_args: None
    udp.start_thread()
    tcp.start_thread()
    try:
        yield f"127.0.0.1:{port}", resolver
    finally:
        udp.stop()
        tcp.stop()
        udp.server.server_close()
        tcp.server.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """A UDP port on loopback that receives queries and never answers (a dead nameserver)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
