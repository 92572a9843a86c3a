"""repair_mojibake: undo UTF-8-read-as-cp874 damage and nothing else."""

from __future__ import annotations

import pytest

from newsletter.posts.mojibake import repair_mojibake


def break_like_the_scraper(text: str) -> str:
    """The seed's damage: UTF-8 bytes decoded as cp874, cp1252 for what cp874 lacks."""
    out = []
    for byte in text.encode("utf-8"):
        raw = bytes([byte])
        for codec in ("cp874", "cp1252"):
            try:
                out.append(raw.decode(codec))
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(chr(byte))
    return "".join(out)


@pytest.mark.parametrize(
    ("broken", "fixed"),
    [
        ("architectureโ€”it", "architecture—it"),
        ("Whatโ€™s new", "What’s new"),
        ("Alibaba โ†’ Qwen", "Alibaba → Qwen"),
        ("5โ€“20ร— less", "5–20× less"),
        ("โ€ข US Strategy", "• US Strategy"),
    ],
)
def test_repairs_the_seed_sequences(broken: str, fixed: str) -> None:
    assert repair_mojibake(broken) == fixed


@pytest.mark.parametrize(
    "text",
    [
        "Curly “quotes” and ‘single’ ones, wasn’t it — yes – no… ™ • †",
        "café, naïve, über, résumé, ÿ, Ü",
        "ภาษาไทย เป็นภาษาราชการ ประเทศไทย",
        "Thai words that happen to be valid UTF-8 bytes: แกง เขต โกง รก สก",
        "ประเทศ” and “ไทย” with quotes",
        "中文 and 日本語 and emoji 😀 stay",
        "",
        "plain ASCII",
    ],
)
def test_leaves_correct_text_alone(text: str) -> None:
    assert repair_mojibake(text) == text


@pytest.mark.parametrize(
    "original",
    [
        "em—dash, it’s → 5–20× “quoted” • bullet … ellipsis",
        "naïve résumé Ελληνικά русский ½ © ® °",
        "中文 😀 and a joiner\u200d here",
        "ภาษาไทย ok",
        "mixed: แกง and an arrow →",
    ],
)
def test_round_trip(original: str) -> None:
    assert repair_mojibake(break_like_the_scraper(original)) == original


def test_mixed_correct_and_broken_in_one_run() -> None:
    # The seed has correct ’ right next to broken sequences.
    assert repair_mojibake("wasn’tโ€”it") == "wasn’t—it"
    assert repair_mojibake("’โ€”’") == "’—’"


def test_is_idempotent_on_the_seed(data_dir) -> None:
    seed = (data_dir / "seed.txt").read_text(encoding="utf-8")
    once = repair_mojibake(seed)
    assert "โ€" not in once and "โ†" not in once
    assert repair_mojibake(once) == once
