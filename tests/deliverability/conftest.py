"""Keys made here with `cryptography`, and a correctly set up zone for example.org."""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .dnszone import Zone

SELECTOR = "sel1"
FROM = "Cranes <news@example.org>"
RETURN_PATH_DOMAIN = "bounces.example.org"


def make_rsa(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # PKCS#1, what `openssl genrsa` writes
        serialization.NoEncryption(),
    )


def dkim_record(key: rsa.RSAPrivateKey) -> str:
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(spki).decode()}"


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return make_rsa()


@pytest.fixture(scope="session")
def other_key() -> rsa.RSAPrivateKey:
    return make_rsa()


@pytest.fixture
def key_path(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "dkim.pem"
    path.write_bytes(pem(rsa_key))
    return path


@pytest.fixture
def good_zone(rsa_key: rsa.RSAPrivateKey) -> Zone:
    """Everything Gmail and Yahoo ask for; tests break one thing in a copy."""
    return copy.deepcopy(
        {
            "example.org": {"TXT": ["v=spf1 ip4:192.0.2.10 -all", "google-site-verification=x"]},
            "bounces.example.org": {
                "TXT": ["v=spf1 ip4:192.0.2.10 -all"],
                "MX": [(10, "mx.example.org")],
            },
            "mx.example.org": {"A": ["192.0.2.25"]},
            f"{SELECTOR}._domainkey.example.org": {"TXT": [dkim_record(rsa_key)]},
            "_dmarc.example.org": {"TXT": ["v=DMARC1; p=quarantine; rua=mailto:d@example.org"]},
        }
    )


@pytest.fixture
def settings_for(tmp_path: Path, key_path: Path):  # type: ignore[no-untyped-def]
    """An app for these settings (defaults: the good set-up); yields its Settings in context."""
    from contextlib import contextmanager

    from tests.conftest import make_test_app

    @contextmanager
    def _make(**overrides: str):  # type: ignore[no-untyped-def]
        config = {
            "FROM_ADDRESS": FROM,
            "RETURN_PATH_DOMAIN": RETURN_PATH_DOMAIN,
            "BASE_URL": "https://news.example.org",
            "DKIM_SELECTOR": SELECTOR,
            "DKIM_PRIVATE_KEY_PATH": str(key_path),
            **overrides,
        }
        app = make_test_app(None, tmp_path, **config)
        with app.app_context():
            yield app.extensions["settings"]

    return _make
