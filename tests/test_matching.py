"""The lexicon matcher's compact pattern against the plain alternation it stands for.

The plain one (every entry's pattern joined by ``|``, in sorted order) is the rule the lexicon
README states; the compact one must find exactly the same words in what sellers paste, since
every complaint type, risk and tone finding depends on it.
"""

from __future__ import annotations

import asyncio
import random
import re

import pytest

from bot.engine.language_pack import LanguagePacks
from bot.engine.matching import PhraseMatcher, entry_pieces
from knowledge.cards import LANGUAGES
from knowledge.textfold import fold


def plain_matcher(folded_entries: list[str]) -> re.Pattern[str]:
    """Every entry's pattern joined by ``|``, in the order given (the matcher's sorted list)."""
    alternatives = "|".join("".join(entry_pieces(entry)) for entry in folded_entries)
    return re.compile(r"(?<!\w)(?:" + alternatives + ")")


def every_entry_list(packs: LanguagePacks) -> list[list[str]]:
    lists = []
    for language in LANGUAGES:
        pack = packs[language]
        for group in ("aspects", "flags", "situations"):
            lists += [e for e in (pack.lexicon.get(group) or {}).values() if isinstance(e, list)]
        lists += [entries for entries in pack.tone.values() if isinstance(entries, list)]
    return lists


def made_up_texts(entries: list[str], count: int) -> list[str]:
    """Texts stitched from entries, cut short or extended, joined by spaces, punctuation and
    underscores: the places where a compact pattern could part ways with the plain one."""
    rng = random.Random(7)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 6)):
            entry = rng.choice(entries)
            if rng.random() < 0.3:
                entry = entry[: rng.randint(1, len(entry))]
            if rng.random() < 0.3:
                entry += rng.choice(["ing", "ами", "ός", "s", "-x", "!"])
            parts.append(entry)
        texts.append(rng.choice([" ", ", ", "-", "!! ", " % ", "...", "\n"]).join(parts))
    return texts


@pytest.fixture(scope="module")
def entry_lists() -> list[list[str]]:
    return every_entry_list(LanguagePacks())


def test_the_matcher_finds_what_the_plain_alternation_finds(entry_lists, dev_reviews):
    all_entries = [entry for entries in entry_lists for entry in entries]
    texts = [row["text"] for row in dev_reviews.values()]
    texts += made_up_texts(all_entries, 1000)
    differences = []
    for entries in entry_lists:
        compact = PhraseMatcher(entries)
        plain = plain_matcher(compact.entries)
        for text in texts:
            folded = fold(text)
            found = [match.entry for match in compact.find(text)]
            expected = [hit.group(0) for hit in plain.finditer(folded) if hit.group(0)]
            if found != expected:
                differences.append((entries[:3], text[:80], found, expected))
    assert differences == [], differences[:5]


def test_an_entry_that_is_a_prefix_of_another_still_wins_first():
    matcher = PhraseMatcher(["посылк", "посылк не пришл", "late", "late again"])
    assert [m.entry for m in matcher.find("Посылка не пришла, late again")] == ["посылка", "late"]


async def test_the_bots_background_compiling_leaves_the_event_loop_free_between_matchers():
    """The bot compiles every language's matchers after it starts answering; reviews arriving
    meanwhile must get turns of the event loop, not wait half a second."""
    packs = LanguagePacks()
    turns_given = 0

    async def another_review() -> None:
        nonlocal turns_given
        while True:
            turns_given += 1
            await asyncio.sleep(0)

    other = asyncio.create_task(another_review())
    await asyncio.sleep(0)
    await packs.compile_matchers_in_turns()
    other.cancel()
    names = {
        language: [
            f"{group}:{name}"
            for group, group_names in packs[language].matcher_groups.items()
            for name in group_names
        ]
        for language in LANGUAGES
    }
    for language, pack_names in names.items():
        compiled = packs[language]._matchers  # what is compiled so far
        assert set(pack_names) <= compiled.keys()
    assert turns_given >= sum(len(pack_names) for pack_names in names.values())
