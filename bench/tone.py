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

from bench.common import LANGUAGES, build_engine, tone_rows  # noqa: E402
from bot.engine.quality import evaluate_tone  # noqa: E402
from bot.engine.service import CoachEngine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--languages", nargs="+", default=list(LANGUAGES))
    args = parser.parse_args()
    rows = [row for row in tone_rows() if row[0].split("-")[1] in args.languages]
    with tempfile.TemporaryDirectory() as workdir:
        engine: CoachEngine = build_engine(Path(workdir), "hash")
        result = asyncio.run(evaluate_tone(engine, rows))
    print(f"Tone check on {len(rows)} labelled seller replies ({result.good_replies} good ones)")
    print("| kind | precision | recall | labelled |")
    print("|---|---|---|---|")
    for kind, score in sorted(result.kinds.items()):
        labelled = score.true_positive + score.false_negative
        print(f"| {kind} | {score.precision:.2f} | {score.recall:.2f} | {labelled} |")
    print(f"Good replies passing untouched: {result.good_pass_rate:.2f}")
    if args.show_misses:
        for row_id, kinds in result.false_alarms:
            print("false alarm", row_id, kinds)


if __name__ == "__main__":
    main()
