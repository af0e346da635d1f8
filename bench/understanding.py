"""How well the lexicons understand real reviews: language, complaint types (aspects), risks
(flags), on the labelled dev sample bench/labels/understanding.jsonl.

Run: python bench/understanding.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import LABELS, dev_reviews, read_jsonl  # noqa: E402
from bot.engine.language_pack import LanguagePacks  # noqa: E402
from bot.engine.understand import understand  # noqa: E402
from knowledge.cards import LANGUAGES  # noqa: E402


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def measure() -> dict[str, dict[str, float]]:
    reviews = dev_reviews()
    packs = LanguagePacks()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in read_jsonl(LABELS / "understanding.jsonl"):
        found = understand(reviews[row["id"]]["text"], packs)
        for key in (row["lang"], "all"):
            c = counts[key]
            c["rows"] += 1
            c["language"] += int(found.language == row["lang"])
            expected, got = set(row["aspects"]), set(found.aspects)
            c["aspect_tp"] += len(expected & got)
            c["aspect_fp"] += len(got - expected)
            c["aspect_fn"] += len(expected - got)
            c["aspect_main"] += int(found.aspects[0] in expected)
            expected_flags, got_flags = set(row["flags"]), set(found.flags)
            c["flag_tp"] += len(expected_flags & got_flags)
            c["flag_fp"] += len(got_flags - expected_flags)
            c["flag_fn"] += len(expected_flags - got_flags)
            c["flags_exact"] += int(expected_flags == got_flags)
    report = {}
    for key, c in counts.items():
        ap, ar, af = f1(c["aspect_tp"], c["aspect_fp"], c["aspect_fn"])
        fp_, fr, _ = f1(c["flag_tp"], c["flag_fp"], c["flag_fn"])
        report[key] = {
            "rows": c["rows"],
            "language": c["language"] / c["rows"],
            "aspect_precision": ap,
            "aspect_recall": ar,
            "aspect_f1": af,
            "main_aspect_right": c["aspect_main"] / c["rows"],
            "flag_precision": fp_,
            "flag_recall": fr,
            "flags_exact": c["flags_exact"] / c["rows"],
        }
    return report


def main() -> None:
    report = measure()
    print("Understanding on the labelled dev sample (lexicons written without seeing it)")
    print(
        "| language | rows | language ok | aspect P | aspect R | aspect F1 | main aspect ok "
        "| flag P | flag R | flags exact |"
    )
    print("|---" * 10 + "|")
    for key in (*LANGUAGES, "all"):
        r = report[key]
        print(
            f"| {key} | {r['rows']} | {r['language']:.2f} | {r['aspect_precision']:.2f} | "
            f"{r['aspect_recall']:.2f} | {r['aspect_f1']:.2f} | {r['main_aspect_right']:.2f} | "
            f"{r['flag_precision']:.2f} | {r['flag_recall']:.2f} | {r['flags_exact']:.2f} |"
        )


if __name__ == "__main__":
    main()
