"""MessageTemplate: per-recipient messages that real parsers read back exactly."""

from __future__ import annotations

import email
import email.policy
import re
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr
from html import escape
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.render import RenderedEmail, render_issue, render_transactional
from newsletter.render.placeholders import PATTERN
from newsletter.render.sample import SAMPLE_BRANDING, sample_issue

SEED = Path(__file__).parents[1] / "render" / "data" / "seed_posts.txt"
BASE = "https://news.example.org"


@pytest.fixture(scope="module")
def rendered() -> RenderedEmail:
    return render_issue(sample_issue(SEED.read_text(encoding="utf-8")), SAMPLE_BRANDING)


@pytest.fixture(scope="module")
def template(rendered: RenderedEmail) -> MessageTemplate:
    return build(rendered)


def build(rendered: RenderedEmail, **kwargs: object) -> MessageTemplate:
    options: dict[str, object] = {
        "from_address": SAMPLE_BRANDING.from_address,
        "list_id": "Cranes on the Horizon <cranes.news.example.org>",
        "feedback_id": "i4:newsletter:news.example.org",
        "unsubscribe_mailto": "unsubscribe@news.example.org",
    }
    options.update(kwargs)
    return MessageTemplate.build(rendered, **options)  # type: ignore[arg-type]


def recipient(n: int = 1, **changes: str) -> Recipient:
    fields = {
        "email": f"reader{n}@example.com",
        "name": f"Reader {n}",
        "message_id": f"<d{n}.i4.x7@news.example.org>",
        "unsubscribe_url": f"{BASE}/unsubscribe/TOKEN{n}",
        "preferences_url": f"{BASE}/preferences/TOKEN{n}",
        "open_pixel_url": f"{BASE}/o/PIXEL{n}.gif",
        "return_path": f"bounces+{n}@bounces.example.org",
    }
    fields.update(changes)
    return Recipient(**fields)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    # Quoted-printable keeps the CRLF line ends of the wire format; compare by lines.
    return (
        text.get_content().replace("\r\n", "\n"),
        html.get_content().replace("\r\n", "\n"),
    )


def header_block(raw: bytes) -> str:
    return raw.split(b"\r\n\r\n", 1)[0].decode("ascii")


def expected_body(source: str, values: dict[str, str]) -> str:
    """What the part must decode to: placeholders replaced the naive way."""

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1)) or match.group(2) or ""

    return PATTERN.sub(fill, source).replace("\r\n", "\n").rstrip("\n")


def test_structure_and_decoded_parts(rendered, template):
    r = recipient()
    msg = parse(template.personalise(r, date="Tue, 10 Feb 2026 08:00:00 +0000"))
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    for part in msg.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] == "quoted-printable"
    text, html = parts(msg)
    assert "Hi Reader 1," in text and "Hi Reader 1," in html
    assert f"Unsubscribe: {BASE}/unsubscribe/TOKEN1" in text
    assert f'href="{BASE}/unsubscribe/TOKEN1"' in html
    assert f'<img src="{BASE}/o/PIXEL1.gif" width="1" height="1" alt=""' in html
    # Byte-exact against a naive substitution: soft line breaks vanish on decoding.
    url_values = {"unsubscribe_url": r.unsubscribe_url, "preferences_url": r.preferences_url}
    assert text.rstrip("\n") == expected_body(rendered.text, {"name": r.name, **url_values})
    pixel = (
        f'<img src="{BASE}/o/PIXEL1.gif" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0;">'
    )
    assert html.rstrip("\n") == expected_body(
        rendered.html, {"name": r.name, "open_pixel": pixel, **url_values}
    )
    assert "%%nl~" not in text and "%%nl~" not in html


def test_headers(template):
    raw = template.personalise(recipient(), date="Tue, 10 Feb 2026 08:00:00 +0000")
    msg = parse(raw)
    assert msg["MIME-Version"] == "1.0"
    assert msg["From"] == SAMPLE_BRANDING.from_address
    assert msg["To"] == "Reader 1 <reader1@example.com>"
    assert msg["Subject"] == "Cranes on the horizon: China’s AI labs in February"
    assert msg["Date"] == "Tue, 10 Feb 2026 08:00:00 +0000"
    assert msg["Message-ID"] == "<d1.i4.x7@news.example.org>"
    assert msg["List-Id"] == "Cranes on the Horizon <cranes.news.example.org>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Feedback-ID"] == "i4:newsletter:news.example.org"
    assert msg["Precedence"] == "bulk"
    assert msg["Return-Path"] is None and "bounces+" not in header_block(raw)
    assert "Auto-Submitted" not in header_block(raw)


def test_list_unsubscribe_is_one_unfolded_line(template):
    raw = template.personalise(recipient())
    lines = header_block(raw).split("\r\n")
    [line] = [x for x in lines if x.startswith("List-Unsubscribe:")]
    following = lines[lines.index(line) + 1]
    assert not following[:1].isspace()  # no continuation line
    assert line == (
        f"List-Unsubscribe: <{BASE}/unsubscribe/TOKEN1>, <mailto:unsubscribe@news.example.org>"
    )


def test_long_unsubscribe_url_drops_mailto_then_fails(template):
    long_url = f"{BASE}/unsubscribe/" + "t" * 930
    raw = template.personalise(recipient(unsubscribe_url=long_url))
    [line] = [x for x in header_block(raw).split("\r\n") if x.startswith("List-Unsubscribe:")]
    assert line == f"List-Unsubscribe: <{long_url}>" and len(line) <= 998
    with pytest.raises(ValueError, match="too long"):
        template.personalise(recipient(unsubscribe_url=long_url + "t" * 100))


def test_every_line_is_crlf_and_short(template):
    raw = template.personalise(recipient(name="Ünïcödé " * 20))
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert raw.isascii()


def test_non_ascii_name_and_subject_round_trip(rendered):
    subject_rendered = RenderedEmail(
        subject="Ünïcode subject — 第2号, with a long tail " * 3, html=rendered.html, text="x"
    )
    template = build(subject_rendered, from_address="Zoë’s Notes <news@news.example.org>")
    raw = template.personalise(recipient(name="Zoë Ångström-Łukasiewicz", email="zoe@例え.jp"))
    msg = parse(raw)
    assert msg["Subject"] == " ".join(subject_rendered.subject.split())
    assert msg["From"].addresses[0].display_name == "Zoë’s Notes"
    assert msg["To"].addresses[0].display_name == "Zoë Ångström-Łukasiewicz"
    assert msg["To"].addresses[0].addr_spec == "zoe@xn--r8jz45g.jp"
    assert "=?utf-8?b?" in header_block(raw)
    assert all(len(line) <= 78 for line in header_block(raw).split("\r\n")[:4])
    _, html = parts(msg)
    assert "Hi Zoë Ångström-Łukasiewicz," in html


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029\x85"),
        max_size=80,
    )
)
def test_any_printable_name_round_trips(template, name):
    raw = template.personalise(recipient(name=name))
    msg = parse(raw)
    expected = " ".join(name.split())
    # RFC 2047 decoding proper (email.policy's address parser wrongly keeps the
    # folding space between two encoded words, even for messages it wrote itself).
    to = email.message_from_bytes(raw, policy=email.policy.compat32)["To"]
    if to.startswith("=?utf-8?b?"):
        words, address = to.rsplit("<", 1)  # base64 words never hold "<"
        assert address == "reader1@example.com>"
        assert str(make_header(decode_header(words))).strip() == expected
    else:
        assert parseaddr(to) == (expected, "reader1@example.com")
    assert msg["To"].addresses[0].addr_spec == "reader1@example.com"
    text, html = parts(msg)
    assert f"Hi {expected or 'there'}," in text
    assert f"Hi {escape(expected) or 'there'}," in html


def test_name_is_escaped_in_html_and_plain_in_text(template):
    text, html = parts(parse(template.personalise(recipient(name='<b>Bo & "Al"</b>'))))
    assert "Hi &lt;b&gt;Bo &amp; &quot;Al&quot;&lt;/b&gt;," in html
    assert "<b>Bo" not in html
    assert 'Hi <b>Bo & "Al"</b>,' in text


def test_urls_are_escaped_in_attributes(template):
    url = f"{BASE}/unsubscribe/T?a=1&b=2"
    text, html = parts(parse(template.personalise(recipient(unsubscribe_url=url))))
    assert 'href="https://news.example.org/unsubscribe/T?a=1&amp;b=2"' in html
    assert f"Unsubscribe: {url}" in text
    with pytest.raises(ValueError):
        template.personalise(recipient(unsubscribe_url=f'{BASE}/u/x" onclick="alert(1)'))
    with pytest.raises(ValueError):
        template.personalise(recipient(preferences_url="javascript:alert(1)"))


def test_empty_name_gets_fallback_and_no_pixel_without_url(template):
    raw = template.personalise(recipient(name="  ", open_pixel_url=""))
    text, html = parts(parse(raw))
    assert "Hi there," in text and "Hi there," in html
    assert "/o/" not in html and 'width="1" height="1"' not in html


@pytest.mark.parametrize(
    "field",
    ["name", "email", "message_id", "unsubscribe_url", "preferences_url", "open_pixel_url"],
)
@pytest.mark.parametrize("evil", ["\r\nBcc: victim@example.net", "\nX: y", "\rX: y", "a\x00b"])
def test_header_injection_is_rejected(template, field, evil):
    base = getattr(recipient(), field)
    with pytest.raises(ValueError):
        template.personalise(recipient(**{field: base + evil}))


def test_injection_at_build_time_is_rejected(rendered):
    with pytest.raises(ValueError):
        build(RenderedEmail("Hello\r\nBcc: x@example.net", rendered.html, rendered.text))
    with pytest.raises(ValueError):
        build(rendered, from_address="News <news@example.org>\r\nBcc: x@example.net")
    with pytest.raises(ValueError):
        build(rendered, list_id="x\r\nBcc: y")
    with pytest.raises(ValueError):
        build(rendered, feedback_id="x\ny")
    with pytest.raises(ValueError):
        build(rendered, extra_headers={"X-Campaign": "4\r\nBcc: y"})
    with pytest.raises(ValueError):
        build(rendered, extra_headers={"Bad Name": "x"})
    with pytest.raises(ValueError):
        build(rendered, extra_headers={"Subject": "override"})
    with pytest.raises(ValueError):
        template = build(rendered)
        template.personalise(recipient(), date="Tue\r\nBcc: x")


def test_two_recipients_no_cross_contamination(template):
    one, two = template.personalise(recipient(1)), template.personalise(recipient(2))
    m1, m2 = parse(one), parse(two)
    assert m1["Message-ID"] != m2["Message-ID"]
    for raw, other in ((one, 2), (two, 1)):
        decoded = "\n".join(parts(parse(raw))) + header_block(raw)
        assert f"TOKEN{other}" not in decoded
        assert f"Reader {other}" not in decoded and f"PIXEL{other}" not in decoded
        assert f"reader{other}@" not in decoded
    # The shared bytes are shared: same boundary, same subject.
    assert m1.get_boundary() == m2.get_boundary() == template.boundary
    assert m1["Subject"] == m2["Subject"]


def test_boundary_is_random_per_template(rendered):
    assert build(rendered).boundary != build(rendered).boundary


def test_extra_headers_and_transactional(rendered):
    confirm = render_transactional(
        "confirm", {"confirm_url": f"{BASE}/confirm/T", "name": "Ann"}, SAMPLE_BRANDING
    )
    template = build(confirm, bulk=False, extra_headers={"X-Newsletter-Kind": "confirm"})
    raw = template.personalise(recipient(unsubscribe_url="", preferences_url="", open_pixel_url=""))
    msg = parse(raw)
    assert msg["X-Newsletter-Kind"] == "confirm"
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None
    assert msg["Precedence"] is None
    text, html = parts(msg)
    assert f"{BASE}/confirm/T" in text and "Hi Ann," in html


def test_placeholders_in_subject_or_unknown_keys_are_rejected(rendered):
    with pytest.raises(ValueError, match="subject"):
        build(RenderedEmail("Hi %%nl~name~%%", rendered.html, rendered.text))
    with pytest.raises(ValueError, match="unknown placeholder"):
        build(RenderedEmail("s", rendered.html + "%%nl~password~%%", rendered.text))


def test_malformed_addresses(template):
    for bad in ("no-at-sign", "a@", "@b.org", "a b@c.org", "a@b.org>", "a@-x-.ü", "a@ü..org"):
        with pytest.raises(ValueError):
            template.personalise(recipient(email=bad))
    with pytest.raises(ValueError):
        template.personalise(recipient(message_id="no-brackets@example.org"))


@pytest.mark.parametrize(
    ("address", "wire"),
    [
        ("zoe@bücher.example", "zoe@xn--bcher-kva.example"),
        ("ann@straße.example", "ann@xn--strae-oqa.example"),  # IDNA 2008: ß is kept
        ("jürgen@example.org", "jürgen@example.org"),
        ("δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp"),
    ],
)
def test_international_addresses_in_the_to_header(template, address, wire):
    raw = template.personalise(recipient(email=address))
    head = raw.split(b"\r\n\r\n", 1)[0]
    # The domain always as its A-label; only a non-ASCII local part makes the header UTF-8.
    assert f"<{wire}>".encode() in head
    assert head.isascii() == address.split("@")[0].isascii()
    utf8 = email.message_from_string(raw.decode(), policy=email.policy.default)
    assert utf8["To"].addresses[0].addr_spec == wire


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from([".", "..", "a", " ", "\t", "\r\n", "é", "=", "xyz", ".mj-column {"]),
        max_size=120,
    ).map("".join)
)
def test_quoted_printable_never_starts_a_line_with_a_period(text):
    # RFC 2049 section 3: a leading "." is written "=2E", so SMTP dot-stuffing has
    # nothing to do; the text still decodes exactly, and every line stays within 76
    # characters (RFC 2045 6.7), even where binascii alone writes 77.
    import quopri

    from newsletter.mail.message import _qp

    data = text.encode("utf-8")
    encoded = _qp(data)
    for line in encoded.split(b"\r\n"):
        assert not line.startswith(b".")
        assert len(line) <= 76
    assert quopri.decodestring(encoded) == data


def test_a_message_has_no_line_starting_with_a_period():
    dotted = RenderedEmail(
        subject="Dots",
        html=(
            "<style>\n.mj-column-per-100 { width:100% }\n.x{}\n</style>\n"
            + ".%%nl~name|friend~%%\n" * 3
            + "." * 200
            + "\n"
        ),
        text=".leading\n..two\n." + "a" * 80 + "\n.%%nl~unsubscribe_url~%%\n",
    )
    template = MessageTemplate.build(
        dotted,
        from_address="News <news@example.org>",
        list_id="news.example.org",
        feedback_id="1:issue:news",
    )
    r = recipient(name=".dotted " + "." * 90)
    raw = template.personalise(r)
    assert b"\n." not in raw
    text, html = parts(parse(raw))
    assert ".mj-column-per-100 { width:100% }" in html
    assert text.startswith(".leading\n..two\n.")
    assert escape(r.name) in html
