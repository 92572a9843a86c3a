"""DNS look-ups for the deliverability check, with dnspython and a time budget.

A check that reads a dozen records must not hang a dashboard when the DNS is slow:
every query gets at most `timeout` seconds, and all of them together at most
`budget` seconds; past that a look-up fails at once with `DnsError`.
"""

from __future__ import annotations

import ipaddress
import time

import dns.exception
import dns.resolver

DEFAULT_TIMEOUT = 3.0  # seconds per query
DEFAULT_BUDGET = 15.0  # seconds for every query of one check together


class DnsError(RuntimeError):
    """A look-up could not be answered (timeout, SERVFAIL, no nameserver); not "no record"."""


def parse_nameserver(value: str) -> tuple[str, int]:
    """`HOST:PORT`, `HOST` (port 53) or `[IPv6]:PORT` -> (ip, port).

    Raises ValueError when HOST is not an IP address or PORT is not 1-65535.
    """
    text = value.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"nameserver must be HOST:PORT (got {value!r})")
            port = rest[1:]
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    try:
        ip = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(
            f"nameserver must be an IP address with an optional :PORT (got {value!r})"
        ) from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"nameserver port must be 1-65535 (got {value!r})")
    return ip, int(port)


class Dns:
    """TXT, MX and address look-ups through one resolver, within one time budget."""

    def __init__(
        self,
        nameserver: str = "",
        *,
        timeout: float = DEFAULT_TIMEOUT,
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        """`nameserver`: `HOST:PORT` (ValueError when malformed), empty = the system's."""
        if nameserver:
            ip, port = parse_nameserver(nameserver)
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers = [ip]
            self.resolver.port = port
        else:
            try:
                self.resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                self.resolver = dns.resolver.Resolver(configure=False)  # every query: DnsError
        self.timeout = timeout
        self.deadline = time.monotonic() + budget
        self.budget = budget

    def _query(self, name: str, rdtype: str) -> dns.resolver.Answer | None:
        """The answer, or None when the name or the type does not exist."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DnsError(f"the DNS time budget of {self.budget:g}s ran out before {name}")
        try:
            return self.resolver.resolve(
                name, rdtype, lifetime=min(self.timeout, remaining), search=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.exception.Timeout:
            raise DnsError(
                f"{rdtype} {name}: no answer within {min(self.timeout, remaining):g}s"
            ) from None
        except dns.resolver.NoNameservers:
            raise DnsError(f"{rdtype} {name}: the nameservers failed (SERVFAIL)") from None
        except dns.exception.DNSException as exc:
            raise DnsError(f"{rdtype} {name}: {exc}") from None

    def txt(self, name: str) -> list[str]:
        """Each TXT record at `name` as one string (its character-strings joined, RFC 7208 3.3);
        [] when the name or the type does not exist.

        Raises DnsError on a timeout, SERVFAIL, another resolver error, or when the budget has
        run out.
        """
        answer = self._query(name, "TXT")
        if answer is None:
            return []
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]

    def txt_bytes(self, name: str) -> bytes | None:
        """The first TXT record at `name` as bytes, for dkimpy's `dnsfunc`; None if none.
        Raises DnsError as txt does.
        """
        records = self.txt(name)
        return records[0].encode("utf-8") if records else None

    def mx(self, name: str) -> list[tuple[int, str]]:
        """(preference, exchange without the final dot) per MX record at `name`, sorted; [] if
        none. Raises DnsError as txt does.
        """
        answer = self._query(name, "MX")
        if answer is None:
            return []
        return sorted(
            (record.preference, record.exchange.to_text(omit_final_dot=True)) for record in answer
        )
