"""Finding the cards (and ingested passages) that fit a review or a seller's question."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.errors import EmptyTextError
from knowledge.ingest import card_document, collect_files, read_document
from knowledge.language import LanguageDetector

if TYPE_CHECKING:
    from collections.abc import Sequence

    from knowledge.cards import Card, Routes
    from knowledge.index import Hit, KnowledgeIndex, SyncReport

# Chunks fetched per query before they are grouped into cards (each card has five chunks): enough
# for the best chunk of nearly every card.
CANDIDATE_CHUNKS = 120
# Only the opening of a long review is embedded: its first lines say what went wrong, and e5's
# cost grows with length (a 1,500-character review takes ten times a tweet's time).
QUERY_CHARS = 600
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|&(?:[a-z]+|#\d+);")

# How the hybrid score is made (measured on bench/labels/retrieval.jsonl, see README):
# similarity, z-scored across cards so it is comparable between backends, is a tie-breaker next
# to the playbook routes of the complaint's detected type and risks.
SIMILARITY_WEIGHT = 0.3
ROUTE_POSITION_WEIGHTS = (1.0, 0.6, 0.4, 0.3)
SECONDARY_ASPECT_FACTOR = 0.5
FLAG_FACTOR = 1.2


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

    def __init__(
        self, index: KnowledgeIndex, cards: Sequence[Card], routes: Routes | None = None
    ) -> None:
        self.index = index
        self.cards = {card.id: card for card in cards}
        self.routes = routes
        self.detector = LanguageDetector()
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

    def _similarities(self, text: str) -> dict[str, float]:
        """card id -> similarity of its best chunk to the text, for every card found."""
        query = _NOISE.sub(" ", text)[:QUERY_CHARS].strip() or text[:QUERY_CHARS]
        return _best_per_card(self.index.query(query, CANDIDATE_CHUNKS, kind="card"))

    def _route_boosts(self, aspects: Sequence[str], flags: Sequence[str]) -> dict[str, float]:
        boosts: dict[str, float] = {}
        if self.routes is None:
            return boosts
        weighted = [
            (self.routes.aspects.get(aspect, []), 1.0 if rank == 0 else SECONDARY_ASPECT_FACTOR)
            for rank, aspect in enumerate(aspects)
        ] + [(self.routes.flags.get(flag, []), FLAG_FACTOR) for flag in flags]  # type: ignore[call-overload]
        for route, factor in weighted:
            for position, card_id in enumerate(route[: len(ROUTE_POSITION_WEIGHTS)]):
                boost = factor * ROUTE_POSITION_WEIGHTS[position]
                boosts[card_id] = boosts.get(card_id, 0.0) + boost
        return boosts

    def retrieve_cards(
        self,
        text: str,
        k: int = 4,
        *,
        aspects: Sequence[str] = (),
        flags: Sequence[str] = (),
    ) -> list[ScoredCard]:
        """The ``k`` cards that fit ``text`` best.

        With the review's detected complaint types (``aspects``, main one first) and risks
        (``flags``), the playbook's first advice for them leads and similarity orders the rest;
        without them, similarity alone decides.
        """
        _require_text(text, "review")
        self._ready()
        similarity = self._similarities(text)
        values = list(similarity.values()) or [0.0]
        mean, spread = statistics.fmean(values), statistics.pstdev(values) or 1.0
        floor = min(values)
        scores = {
            card_id: SIMILARITY_WEIGHT * (similarity.get(card_id, floor) - mean) / spread
            for card_id in self.cards
        }
        for card_id, boost in self._route_boosts(aspects, flags).items():
            if card_id in scores:
                scores[card_id] += boost
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [ScoredCard(self.cards[card_id], score) for card_id, score in ranked[:k]]

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
        documents = [read_document(path, self.detector) for path in files]
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
            documents = [read_document(path, self.detector) for path in present]
            files_report = self.index.sync(documents, kind="document")
            report.added += files_report.added
        return report, missing
