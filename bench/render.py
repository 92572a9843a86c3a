"""Render and personalise throughput for the seed issue.

Run: .venv/bin/python bench/render.py [--renders N] [--recipients N]

Prints human-readable lines, then one JSON line. The target: personalising one
message costs at most a tenth of one full render (MJML + CSS inlining), so a send
renders once per content variant and then only substitutes bytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from newsletter.mail.message import MessageTemplate, Recipient
from newsletter.render import render_issue
from newsletter.render.placeholders import PATTERN
from newsletter.render.sample import SAMPLE_BRANDING, sample_issue

REPO = Path(__file__).resolve().parent.parent

SEED = REPO / "tests" / "render" / "data" / "seed_posts.txt"
TARGET_RATIO = 10.0


def recipients(n: int) -> list[Recipient]:
    base = SAMPLE_BRANDING.base_url
    names = ["Ana Lima", "Zoë Ångström", "", "李雷", "Bob O'Neil"]
    return [
        Recipient(
            email=f"reader{i}@example.com",
            name=names[i % len(names)],
            message_id=f"<d{i}.i1.{i:08x}@news.example.org>",
            unsubscribe_url=f"{base}/unsubscribe/{i:032x}",
            preferences_url=f"{base}/preferences/{i:032x}",
            open_pixel_url=f"{base}/o/{i:032x}.gif" if i % 2 else "",
        )
        for i in range(n)
    ]


def stdlib_message(rendered_text: str, rendered_html: str, r: Recipient) -> bytes:
    """The baseline: the same message built with the stdlib email package."""
    values = {"name": r.name, "unsubscribe_url": r.unsubscribe_url, "open_pixel": ""}
    values["preferences_url"] = r.preferences_url

    def fill(m):  # type: ignore[no-untyped-def]
        return values.get(m.group(1)) or m.group(2) or ""

    msg = EmailMessage()
    msg["From"] = SAMPLE_BRANDING.from_address
    msg["To"] = formataddr((r.name, r.email))
    msg["Subject"] = "Cranes on the horizon: China’s AI labs in February"
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = r.message_id
    msg["List-Unsubscribe"] = f"<{r.unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(PATTERN.sub(fill, rendered_text), cte="quoted-printable")
    msg.add_alternative(PATTERN.sub(fill, rendered_html), subtype="html", cte="quoted-printable")
    return msg.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--baseline", type=int, default=300, help="stdlib messages to build")
    args = parser.parse_args()

    content = sample_issue(SEED.read_text(encoding="utf-8"))
    rendered = render_issue(content, SAMPLE_BRANDING)  # warm-up: templates compiled
    start = time.perf_counter()
    for _ in range(args.renders):
        rendered = render_issue(content, SAMPLE_BRANDING)
    render_s = (time.perf_counter() - start) / args.renders

    start = time.perf_counter()
    template = MessageTemplate.build(
        rendered,
        from_address=SAMPLE_BRANDING.from_address,
        list_id="Cranes on the Horizon <cranes.news.example.org>",
        feedback_id="i1:newsletter:news.example.org",
        unsubscribe_mailto="unsubscribe@news.example.org",
    )
    build_s = time.perf_counter() - start

    people = recipients(args.recipients)
    total_bytes = 0
    start = time.perf_counter()
    for person in people:
        total_bytes += len(template.personalise(person))
    personalise_s = (time.perf_counter() - start) / len(people)

    start = time.perf_counter()
    for person in people[: args.baseline]:
        stdlib_message(rendered.text, rendered.html, person)
    stdlib_s = (time.perf_counter() - start) / min(args.baseline, len(people))

    ratio = render_s / personalise_s
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    passed = ratio >= TARGET_RATIO
    print(
        f"seed issue: {len(content.posts)} posts, full mode; HTML {len(rendered.html.encode())} B"
    )
    print(
        f"full render (Jinja -> MJML -> css-inline + text): {render_s * 1e3:.2f} ms "
        f"= {1 / render_s:,.0f} renders/s over {args.renders}"
    )
    print(f"MessageTemplate.build: {build_s * 1e3:.2f} ms (once per variant)")
    print(
        f"personalise: {personalise_s * 1e6:.1f} us/message = {1 / personalise_s:,.0f} "
        f"messages/s over {len(people)} recipients, avg {total_bytes // len(people)} B"
    )
    print(
        f"stdlib email.message.EmailMessage baseline: {stdlib_s * 1e3:.2f} ms/message "
        f"({stdlib_s / personalise_s:,.0f}x slower than personalise)"
    )
    print(
        f"ratio render/personalise: {ratio:,.0f}x (target >= {TARGET_RATIO:.0f}x): "
        f"{'PASS' if passed else 'FAIL'}"
    )
    print(f"peak RSS: {peak_rss_mb:.1f} MB")
    print(
        json.dumps(
            {
                "bench": "render",
                "html_bytes": len(rendered.html.encode()),
                "render_ms": round(render_s * 1e3, 3),
                "renders_per_s": round(1 / render_s, 1),
                "build_ms": round(build_s * 1e3, 3),
                "personalise_us": round(personalise_s * 1e6, 2),
                "messages_per_s": round(1 / personalise_s),
                "stdlib_email_ms": round(stdlib_s * 1e3, 3),
                "ratio": round(ratio, 1),
                "target_ratio": TARGET_RATIO,
                "pass": passed,
                "peak_rss_mb": round(peak_rss_mb, 1),
            }
        )
    )
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
