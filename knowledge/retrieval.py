"""Finding the cards (and ingested passages) that fit a review or a seller's question."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.errors import EmptyTextError
from knowledge.ingest import card_document, collect_files, read_document

if TYPE_CHECKING:
    from collections.abc import Sequence

    from knowledge.cards import Card
    from knowledge.index import Hit, KnowledgeIndex, SyncReport

# Chunks fetched per query before they are grouped into cards: every card has nine chunks, so this
# leaves room for the best chunk of many different cards.
CANDIDATE_CHUNKS = 90


@dataclass(frozen=True)
class ScoredCard:
    card: Card
    score: float


@dataclass(frozen=True)
class SearchResult:
    id: str
    title: str
    article: str
    score: float
    text: str

    def as_dict(self) -> dict[str, str | float]:
        return {
            "id": self.id,
            "title": self.title,
            "article": self.article,
            "score": round(self.score, 4),
            "text": self.text,
        }


def _require_text(text: str, what: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise EmptyTextError(f"the {what} is empty; give some text to search for")
    return stripped


def _best_per_card(hits: Sequence[Hit]) -> dict[str, float]:
    best: dict[str, float] = {}
    for hit in hits:
        card_id = str(hit.metadata["card_id"])
        best[card_id] = max(best.get(card_id, -1.0), hit.score)
    return best


class KnowledgeBase:
    """The playbook cards plus the seller's ingested documents, over one persistent index."""

    def __init__(self, index: KnowledgeIndex, cards: Sequence[Card]) -> None:
        self.index = index
        self.cards = {card.id: card for card in cards}
        self._cards_ready = False

    def ensure_cards(self) -> SyncReport:
        """Index the curated cards the first time they are needed, and again when they change."""
        report = self.index.sync(
            [card_document(card) for card in self.cards.values()], kind="card", prune=["card:"]
        )
        self._cards_ready = True
        return report

    def _ready(self) -> None:
        if not self._cards_ready:
            self.ensure_cards()

    def retrieve_cards(self, text: str, k: int = 4) -> list[ScoredCard]:
        """The ``k`` cards whose cues, phrasings or principle best match ``text``."""
        query = _require_text(text, "review")
        self._ready()
        best = _best_per_card(self.index.query(query, CANDIDATE_CHUNKS, kind="card"))
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return [
            ScoredCard(self.cards[card_id], score)
            for card_id, score in ranked[:k]
            if card_id in self.cards
        ]

    def search(self, text: str, k: int = 5) -> list[SearchResult]:
        """Cards and ingested passages together, best first; each card appears once."""
        query = _require_text(text, "query")
        self._ready()
        results = [
            SearchResult(card_id, card.title, card.article, score, card.principle)
            for card_id, score in _best_per_card(
                self.index.query(query, CANDIDATE_CHUNKS, kind="card")
            ).items()
            if (card := self.cards.get(card_id))
        ]
        results += [
            SearchResult(
                id=f"{hit.metadata['file_name']}#{hit.metadata['position']}",
                title=str(hit.metadata["title"]),
                article=str(hit.metadata["file_name"]),
                score=hit.score,
                text=hit.text,
            )
            for hit in self.index.query(query, k, kind="document")
        ]
        results.sort(key=lambda result: (-result.score, result.id))
        return results[:k]

    def ingest(self, paths: Sequence[Path]) -> SyncReport:
        """Index files (or every supported file under directories).

        Every file is read and checked before anything is written, so one bad file leaves the
        index exactly as it was.
        """
        files = collect_files(paths)
        documents = [read_document(path) for path in files]
        directories = [f"file:{path.resolve()}/" for path in paths if path.is_dir()]
        return self.index.sync(documents, kind="document", prune=directories)

    def rebuild(self) -> tuple[SyncReport, list[str]]:
        """Start the index afresh: the cards, then every ingested file that still exists.

        Returns the report and the paths that could not be re-ingested (moved or deleted).
        """
        remembered = self.index.ingested_paths()
        self.index.wipe()
        report = self.ensure_cards()
        present = [Path(path) for path in remembered.values() if Path(path).exists()]
        missing = [path for path in remembered.values() if not Path(path).exists()]
        if present:
            documents = [read_document(path) for path in present]
            files_report = self.index.sync(documents, kind="document")
            report.added += files_report.added
        return report, missing
