"""Tone-check quality on the labelled replies (bench/labels/tone.jsonl): precision and recall per
finding kind, and the share of good replies that pass untouched.

Run: python bench/tone.py [--show-misses]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import LABELS, build_engine, tone_rows, tone_split  # noqa: E402
from bot.engine.quality import evaluate_tone  # noqa: E402
from bot.engine.service import CoachEngine  # noqa: E402
from knowledge.cards import LANGUAGES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES))
    args = parser.parse_args()
    rows = [row for row in tone_rows() if row[0].split("-")[1] in args.languages]
    with tempfile.TemporaryDirectory() as workdir:
        engine: CoachEngine = build_engine(Path(workdir), "hash")
        results = {
            split: asyncio.run(
                evaluate_tone(engine, [row for row in rows if split in {"all", tone_split(row[0])}])
            )
            for split in ("all", "test")
        }
    print(f"Tone check on {len(rows)} labelled seller replies; 'test' = the half the lexicon")
    print("writers never saw (its last few misses were looked at once, see README)")
    print("| kind | precision (all) | recall (all) | labelled | precision (test) | recall (test) |")
    print("|---|---|---|---|---|---|")
    for kind, score in sorted(results["all"].kinds.items()):
        test = results["test"].kinds.get(kind)
        labelled = score.true_positive + score.false_negative
        test_cells = f"{test.precision:.2f} | {test.recall:.2f}" if test else "- | -"
        print(
            f"| {kind} | {score.precision:.2f} | {score.recall:.2f} | {labelled} | {test_cells} |"
        )
    for split, result in results.items():
        print(
            f"Good replies passing untouched ({split}): {result.good_pass_rate:.2f} "
            f"of {result.good_replies}"
        )
    fresh_path = LABELS / "tone_fresh.jsonl"
    if fresh_path.exists():
        fresh_rows = tone_rows(fresh_path.name)
        with tempfile.TemporaryDirectory() as workdir:
            fresh = asyncio.run(evaluate_tone(build_engine(Path(workdir), "hash"), fresh_rows))
        print()
        print(f"Fresh blind set ({len(fresh_rows)} replies written after the tuning, never used")
        print("for it): | kind | precision | recall | labelled |")
        for kind, score in sorted(fresh.kinds.items()):
            labelled = score.true_positive + score.false_negative
            print(f"| {kind} | {score.precision:.2f} | {score.recall:.2f} | {labelled} |")
        print(f"Good replies passing untouched (fresh): {fresh.good_pass_rate:.2f}")
        if args.show_misses:
            for row_id, kinds in fresh.false_alarms:
                print("fresh false alarm", row_id, kinds)
    if args.show_misses:
        for row_id, kinds in results["all"].false_alarms:
            print("false alarm", row_id, kinds)


if __name__ == "__main__":
    main()
