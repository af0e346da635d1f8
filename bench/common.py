"""What the benchmarks share: the labelled sets joined with the dev texts, and engine builders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.engine.language_pack import LanguagePacks
    from bot.engine.service import CoachEngine
    from knowledge.retrieval import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
DEV = REPO.parent / "shared" / "datasets" / "negative-reviews" / "dev"
LABELS = REPO / "bench" / "labels"


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def dev_reviews() -> dict[str, dict]:
    return {row["id"]: row for path in sorted(DEV.glob("*.jsonl")) for row in read_jsonl(path)}


def tone_split(row_id: str) -> str:
    """Half of the tone set ("tune") may be looked at while improving the lexicons; the other
    half ("test") never is, so its figures show how the checker does on replies it has not seen."""
    return "tune" if int(hashlib.sha1(row_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


def tone_rows(name: str = "tone.jsonl") -> list[tuple[str, str, str | None, set[str]]]:
    """(id, reply, review, expected kinds); real business replies are read from dev by id."""
    reviews = dev_reviews()
    rows = []
    for row in read_jsonl(LABELS / name):
        if "source_id" in row:
            reply = reviews[row["source_id"]]["reply"]
            review = reviews[row["review_id"]]["text"]
        else:
            reply, review = row["reply"], row.get("review")
        rows.append((row["id"], reply, review, set(row["kinds"])))
    return rows


def build_engine(workdir: Path, backend: str = "hash") -> CoachEngine:
    from bot.engine.language_pack import LanguagePacks  # noqa: PLC0415
    from bot.engine.service import CoachEngine  # noqa: PLC0415
    from knowledge.embeddings import make_embedder  # noqa: PLC0415
    from knowledge.retrieval import open_knowledge_base  # noqa: PLC0415

    knowledge = open_knowledge_base(workdir / backend, make_embedder(backend))  # type: ignore[arg-type]
    return CoachEngine(knowledge, LanguagePacks())


def card_ranker(
    knowledge: KnowledgeBase, packs: LanguagePacks, k: int = 10
) -> Callable[[str], list[str]]:
    """review text -> the ids of its ``k`` best cards, read and retrieved as a draft does."""
    from bot.engine.service import search_cards  # noqa: PLC0415
    from bot.engine.understand import understand  # noqa: PLC0415

    def ranked(text: str) -> list[str]:
        return [scored.card.id for scored in search_cards(knowledge, understand(text, packs), k)]

    return ranked
