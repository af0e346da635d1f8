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

    from bot.engine.models import SellerProfile
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
    engine: CoachEngine,
    rows: Iterable[dict[str, object]],
    profile: SellerProfile | None = None,
) -> dict[str, object]:
    """Draft every row ({"text", "lang"?}) for the seller's profile (its tone and length; the
    default when None); report quality per language and overall."""
    reports: dict[str, LanguageReport] = defaultdict(LanguageReport)
    started = time.perf_counter()
    total = 0
    for row in rows:
        text = str(row.get("text", ""))
        expected = str(row.get("lang") or "")
        total += 1
        try:
            draft = await engine.draft(text, profile)
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


@dataclass
class KindScore:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0

    @property
    def precision(self) -> float:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0


@dataclass
class ToneEvaluation:
    kinds: dict[str, KindScore]
    good_replies: int
    good_passed: int
    false_alarms: list[tuple[str, list[str]]]  # (row id, kinds flagged on a good reply)

    @property
    def good_pass_rate(self) -> float:
        return self.good_passed / self.good_replies if self.good_replies else 1.0


async def evaluate_tone(
    engine: CoachEngine, rows: Iterable[tuple[str, str, str | None, set[str]]]
) -> ToneEvaluation:
    """rows: (id, reply, review or None, expected kinds). Scores each finding kind."""
    kinds: dict[str, KindScore] = defaultdict(KindScore)
    good = passed = 0
    false_alarms = []
    for row_id, reply, review, expected in rows:
        report = await engine.check(reply, review)
        found = {finding.kind for finding in report.findings}
        for kind in found | expected:
            score = kinds[kind]
            if kind in found and kind in expected:
                score.true_positive += 1
            elif kind in found:
                score.false_positive += 1
            else:
                score.false_negative += 1
        if not expected:
            good += 1
            passed += int(not found)
            if found:
                false_alarms.append((row_id, sorted(found)))
    return ToneEvaluation(dict(kinds), good, passed, false_alarms)
