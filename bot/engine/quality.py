"""Draft quality over a dataset: the figures `complaint-coach eval` prints and the tests hold."""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.engine.compose import word_count
from bot.engine.personal_data import find_personal_data, leaked
from bot.engine.understand import understand
from bot.errors import CoachError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.engine.service import CoachEngine


@dataclass
class LanguageReport:
    drafts: int = 0
    errors: int = 0
    language_match: int = 0
    tone_pass: int = 0
    leaks: int = 0
    words: list[int] = field(default_factory=list)
    replies: Counter[str] = field(default_factory=Counter)
    openings: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        drafts = max(self.drafts, 1)
        return {
            "drafts": self.drafts,
            "errors": self.errors,
            "language_match": round(self.language_match / drafts, 4),
            "tone_pass": round(self.tone_pass / drafts, 4),
            "words_min": min(self.words, default=0),
            "words_median": statistics.median(self.words) if self.words else 0,
            "words_max": max(self.words, default=0),
            "unique_replies": round(len(self.replies) / drafts, 4),
            "top_opening_share": round(
                (self.openings.most_common(1)[0][1] / drafts) if self.openings else 0.0, 4
            ),
            "personal_data_leaks": self.leaks,
        }


def _opening(reply: str) -> str:
    first = reply.split("\n", 1)[0]
    for mark in ".!?":
        if mark in first:
            first = first.split(mark)[0]
    return first.strip()


async def evaluate_drafts(
    engine: CoachEngine, rows: Iterable[dict[str, object]]
) -> dict[str, object]:
    """Draft every row ({"text", "lang"?}); report quality per language and overall."""
    reports: dict[str, LanguageReport] = defaultdict(LanguageReport)
    started = time.perf_counter()
    total = 0
    for row in rows:
        text = str(row.get("text", ""))
        expected = str(row.get("lang") or "")
        total += 1
        try:
            draft = await engine.draft(text)
        except CoachError:
            for key in (expected or "unlabelled", "all"):
                reports[key].errors += 1
            continue
        review = understand(text, engine.packs)
        pack = engine.packs[review.reply_language]
        words = pack.personal_data_words
        leak = bool(
            leaked(draft.public_reply, review.personal_data)
            or find_personal_data(draft.public_reply, words["order"], words["address"])
        )
        for key in (expected or "unlabelled", "all"):
            report = reports[key]
            report.drafts += 1
            report.language_match += int(not expected or draft.language == expected)
            report.tone_pass += int(draft.tone.verdict == "ok")
            report.leaks += int(leak)
            report.words.append(word_count(draft.public_reply))
            report.replies[draft.public_reply] += 1
            report.openings[_opening(draft.public_reply)] += 1
    elapsed = time.perf_counter() - started
    return {
        "languages": {key: report.as_dict() for key, report in sorted(reports.items())},
        "reviews": total,
        "drafts_per_second": round(total / elapsed, 1) if elapsed else None,
    }
