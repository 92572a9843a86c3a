"""`newsletter bounces classify`: the DESIGN.md shape, no settings or database needed."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.live import run_cli

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "bounces" / "samples"


def bare_environment(tmp_path: Path) -> dict[str, str]:
    """No NEWSLETTER_* settings at all: the command must not build the app. The
    instance folder points at a fresh directory so any database file would show."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    env["NEWSLETTER_INSTANCE_PATH"] = str(tmp_path / "instance")
    return env


def test_json_gives_one_object_per_file_in_the_design_shape(tmp_path):
    files = [SAMPLES / "lhost-postfix-01.eml", SAMPLES / "arf-02.eml", SAMPLES / "rfc3834-02.eml"]
    result = run_cli(bare_environment(tmp_path), "bounces", "classify", "--json", *map(str, files))
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["file"] for o in objects] == [str(f) for f in files]
    assert [o["kind"] for o in objects] == ["bounce", "complaint", "autoreply"]
    for o in objects:
        assert set(o) == {"file", "kind", "recipients"}
        for r in o["recipients"]:
            assert set(r) == {"address", "status", "reason", "hard"}
            assert r["address"] == r["address"].lower()
    assert objects[1]["recipients"][0]["address"] == (
        "this-local-part-does-not-exist-on-yahoo@yahoo.com"
    )
    assert not (tmp_path / "instance").exists() or not any((tmp_path / "instance").iterdir())


def test_text_output_is_one_line_per_recipient(tmp_path):
    sample = SAMPLES / "lhost-postfix-02.eml"
    result = run_cli(bare_environment(tmp_path), "bounces", "classify", str(sample))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{sample}: bounce ") for line in lines)
    assert any("userunknown@example.co.jp 5.1.1 userunknown hard" in line for line in lines)


def test_a_missing_file_exits_non_zero_with_one_line(tmp_path):
    missing = tmp_path / "nope.eml"
    result = run_cli(
        bare_environment(tmp_path), "bounces", "classify", str(SAMPLES / "arf-02.eml"), str(missing)
    )
    assert result.returncode != 0
    assert result.stderr.strip() == f"error: no such file: {missing}"
    assert result.stdout == ""


def test_garbage_is_classified_not_bounce(tmp_path):
    junk = tmp_path / "junk.eml"
    junk.write_bytes(b"\x00\xff" * 5000)
    result = run_cli(bare_environment(tmp_path), "bounces", "classify", "--json", str(junk))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"file": str(junk), "kind": "not-bounce", "recipients": []}
