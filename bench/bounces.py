"""Bounce classifier accuracy and speed over the labelled corpus, next to flufl.bounce.

Run: .venv/bin/python bench/bounces.py [--samples DIR] [--misses]

Corpus: tests/data/bounces (sisimai's set-of-emails, labels from rb-sisimai; see its
README). Figures, each over the rows of expected.csv:
- kind right: per file, our kind equals the expected kind;
- recipient found and right: the expected address is among our recipients (for the
  redacted ARF placeholder address, right when we name nobody);
- hard/soft right: the recipient is found and our `hard` equals the label (a missed
  recipient counts as wrong);
- raised: samples whose classification raised (must be 0);
- time per message (ms).
Baseline in the same run: flufl.bounce 6.0.0 `all_failures()` alone, over the bounce
rows, the way the corpus README measures it (found = among temporary or permanent;
hard right = permanent iff hard, among found rows).
Prints readable lines, then one JSON line. Target: each of ours >= 95%, raised = 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from email import message_from_bytes
from pathlib import Path

from newsletter.bounces.classify import Classification, classify

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "bounces"
REDACTED = "undisclosed-recipient-in-headers@libsisimai.org.invalid"
TARGET = 95.0


def load(corpus: Path) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (corpus / "expected.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            rows[row["file"]].append(row)
    return rows


def score(corpus: Path, show_misses: bool) -> dict[str, float]:
    rows = load(corpus)
    files = sorted(rows)
    kind_ok = rcpt_ok = hard_ok = n_rows = raised = 0
    hard_ok_found = 0
    elapsed = 0.0
    base_found = base_hard = base_rows = base_raised = 0
    base_elapsed = 0.0
    for name in files:
        raw = (corpus / "samples" / name).read_bytes()
        start = time.perf_counter()
        try:
            result = classify(raw)
        except Exception as exc:
            raised += 1
            print(f"RAISED {name}: {exc!r}", file=sys.stderr)
            result = Classification(kind="not-bounce")
        elapsed += time.perf_counter() - start
        expected = rows[name]
        if result.kind == expected[0]["kind"]:
            kind_ok += 1
        elif show_misses:
            print(f"kind  {name}: {result.kind} != {expected[0]['kind']}")
        ours = {r.address: r for r in result.recipients}
        for row in expected:
            n_rows += 1
            want = row["recipient"]
            if want in ("", REDACTED):
                found = not ours or want == ""
                got = None
            else:
                got = ours.get(want)
                found = got is not None
            rcpt_ok += found
            right_hard = found and (got is None or got.hard == (row["hard"] == "1"))
            hard_ok += right_hard
            hard_ok_found += found and right_hard
            if show_misses and not found:
                print(f"rcpt  {name}: want {want!r}, got {sorted(ours)}")
            elif show_misses and not right_hard and got is not None:
                print(
                    f"hard  {name}: {want} want hard={row['hard']} ({row['status']} {row['reason']}),"
                    f" got {got.status} {got.reason} [{got.diagnostic[:150]}]"
                )
        # Baseline: flufl.bounce alone.
        start = time.perf_counter()
        try:
            from flufl.bounce import all_failures

            temporary, permanent = all_failures(message_from_bytes(raw))
        except Exception:
            base_raised += 1
            temporary, permanent = frozenset(), frozenset()
        base_elapsed += time.perf_counter() - start
        temp = {a.decode("ascii", "replace").lower() for a in temporary}
        perm = {a.decode("ascii", "replace").lower() for a in permanent}
        for row in expected:
            if row["kind"] != "bounce":
                continue
            base_rows += 1
            if row["recipient"] in temp | perm:
                base_found += 1
                base_hard += (row["recipient"] in perm) == (row["hard"] == "1")
    return {
        "files": len(files),
        "rows": n_rows,
        "kind_right_pct": round(100 * kind_ok / len(files), 1),
        "recipient_right_pct": round(100 * rcpt_ok / n_rows, 1),
        "hard_soft_right_pct": round(100 * hard_ok / n_rows, 1),
        "hard_soft_right_of_found_pct": round(100 * hard_ok_found / max(rcpt_ok, 1), 1),
        "raised": raised,
        "ms_per_message": round(1000 * elapsed / len(files), 2),
        "flufl_recipient_found_pct": round(100 * base_found / base_rows, 1),
        "flufl_hard_soft_right_of_found_pct": round(100 * base_hard / max(base_found, 1), 1),
        "flufl_raised": base_raised,
        "flufl_ms_per_message": round(1000 * base_elapsed / len(files), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=CORPUS, help="corpus folder")
    parser.add_argument("--misses", action="store_true", help="print every miss")
    args = parser.parse_args()
    r = score(args.samples, args.misses)
    print(f"corpus: {r['files']} files, {r['rows']} expected rows")
    print(
        f"ours:  kind right {r['kind_right_pct']}%  recipient found and right "
        f"{r['recipient_right_pct']}%  hard/soft right {r['hard_soft_right_pct']}%  "
        f"raised {r['raised']}  {r['ms_per_message']} ms/message"
    )
    print(
        f"flufl.bounce alone (bounce rows): recipient found {r['flufl_recipient_found_pct']}%  "
        f"hard/soft right where found {r['flufl_hard_soft_right_of_found_pct']}%  "
        f"raised {r['flufl_raised']}  {r['flufl_ms_per_message']} ms/message"
    )
    ok = min(r["kind_right_pct"], r["recipient_right_pct"], r["hard_soft_right_pct"]) >= TARGET
    ok = ok and r["raised"] == 0
    print(f"target: each of ours >= {TARGET:.0f}%, raised 0: {'PASS' if ok else 'FAIL'}")
    print(json.dumps(r))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
