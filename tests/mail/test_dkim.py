"""DKIM signatures made with a real RSA key verify, and cover the one-click headers."""

from __future__ import annotations

import base64
import re
import subprocess

import dkim
import pytest

from newsletter.mail.dkim import DkimError, DkimSigner, get_signer
from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.render.content import RenderedEmail


@pytest.fixture(scope="module")
def keys(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("dkim")
    private = folder / "private.pem"
    subprocess.run(
        ["openssl", "genrsa", "-out", str(private), "2048"], check=True, capture_output=True
    )
    public_der = subprocess.run(
        ["openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return private, base64.b64encode(public_der)


def message() -> bytes:
    rendered = RenderedEmail(subject="Weekly: ünïcode", html="<p>Hi {{name}}</p>", text="Hi")
    template = MessageTemplate.build(
        rendered,
        from_address="Newsletter <news@example.org>",
        list_id="newsletter.example.org",
        feedback_id="1:issue:newsletter",
        unsubscribe_mailto="mailto:unsubscribe@example.org",
    )
    return template.personalise(
        Recipient(
            email="reader@example.org",
            name="Zoë",
            message_id="<1.2.abc@example.org>",
            unsubscribe_url="https://news.example.org/unsubscribe/tok",
            preferences_url="https://news.example.org/preferences/tok",
        )
    )


def test_a_signed_message_verifies_and_covers_list_unsubscribe(keys):
    private, public = keys
    signer = DkimSigner.from_file(selector="news", domain="example.org", path=str(private))
    signed = signer.sign(message())
    assert signed.startswith(b"DKIM-Signature:")
    header = signed.split(b"\r\n\r\n", 1)[0].decode()
    signed_names = re.search(r"h=([^;]+);", header.replace("\r\n", "").replace(" ", "")).group(1)
    for name in ("from", "to", "subject", "date", "message-id", "list-unsubscribe",
                 "list-unsubscribe-post"):  # fmt: skip
        assert name in signed_names.lower().split(":")

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"news._domainkey.example.org."
        return b"v=DKIM1; k=rsa; p=" + public

    assert dkim.verify(signed, dnsfunc=dns)
    tampered = signed.replace(b"Hi", b"Ho", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_no_settings_no_signer_and_a_missing_key_is_a_clear_error(tmp_path):
    assert get_signer(selector="", domain="example.org", path="") is None
    with pytest.raises(DkimError, match="cannot read the DKIM key"):
        get_signer(selector="s", domain="example.org", path=str(tmp_path / "nope.pem"))
