"""Finding the cards (and ingested passages) that fit a review or a seller's question."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from knowledge.cards import load_cards, load_examples, load_routes
from knowledge.errors import EmptyTextError
from knowledge.index import KnowledgeIndex
from knowledge.ingest import card_document, collect_files, read_document
from knowledge.language import LanguageDetector
from knowledge.reader import reader_for, understood_features

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from knowledge.cards import Card, Routes
    from knowledge.embeddings import TextEmbedder
    from knowledge.index import SyncReport
    from knowledge.ingest import SourceDocument
    from knowledge.reader import CardReader

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
# A situation is more specific than a complaint type, so its card comes first.
SITUATION_FACTOR = 1.5
# A card's similarity is the mean over its few closest chunks (examples, principle).
CLOSEST_CHUNKS = 3
# The learned reader's log-odds next to the routes: chosen on the tuning set's two labellers with
# a reader trained without them, never on the benchmark (bench/train_reader.py --validate).
READER_WEIGHT = 0.33


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


def query_text(review: str) -> str:
    """What of a review is embedded: links, handles and HTML entities out, the opening kept."""
    return _NOISE.sub(" ", review)[:QUERY_CHARS].strip() or review[:QUERY_CHARS]


def _require_text(text: str, what: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise EmptyTextError(f"the {what} is empty; give some text to search for")
    return stripped


class KnowledgeBase:
    """The playbook cards plus the seller's ingested documents, over one persistent directory."""

    def __init__(
        self,
        cards_index: KnowledgeIndex,
        documents_index: KnowledgeIndex,
        cards: Sequence[Card],
        routes: Routes | None = None,
        examples: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        *,
        reader: CardReader | None = None,
        reader_weight: float = READER_WEIGHT,
    ) -> None:
        self.cards_index = cards_index
        self.reader = reader
        self.reader_weight = reader_weight
        self.documents_index = documents_index
        self.cards = {card.id: card for card in cards}
        self.routes = routes
        self.examples = examples or {}
        self.detector = LanguageDetector()
        self._cards_ready = False
        self._preparing = threading.Lock()

    def _card_documents(self) -> list[SourceDocument]:
        return [card_document(card, self.examples.get(card.id)) for card in self.cards.values()]

    def ensure_cards(self) -> SyncReport:
        """Index the curated cards the first time they are needed, and again when they change."""
        report = self.cards_index.sync(self._card_documents(), prune=["card:"])
        self._cards_ready = True
        return report

    def prepare(self) -> None:
        """The cards ready to search, so no review waits: with quick (hash) embeddings their
        vectors are computed in memory and the index is not even opened (chroma alone takes a
        second to import); otherwise the cards are indexed and their vectors read back."""
        self._searchable()
        self.cards_index.load_vectors()

    def _searchable(self) -> None:
        if self.cards_index.has_vectors:
            return
        if self.quick:
            self._cards_in_memory()
        else:
            self._ready()

    def _cards_in_memory(self) -> None:
        """The card chunks embedded here, as the index would embed them (0.1 s with hash)."""
        with self._preparing:
            if self.cards_index.has_vectors:
                return
            chunks = [chunk for document in self._card_documents() for chunk in document.chunks]
            vectors = self.cards_index.embedder.embed_passages([chunk.text for chunk in chunks])
            self.cards_index.keep_vectors([chunk.id for chunk in chunks], vectors)

    @property
    def quick(self) -> bool:
        """Whether a retrieval is cheap enough for the event loop (once prepared): hash
        embeddings are; a model or a network call is not."""
        return self.cards_index.embedder.quick

    def _ready(self) -> None:
        if self._cards_ready:
            return
        with self._preparing:  # the first reviews of a burst arrive in several threads at once
            if not self._cards_ready:
                self.ensure_cards()

    def _route_boosts(
        self, aspects: Sequence[str], flags: Sequence[str], situations: Sequence[str]
    ) -> dict[str, float]:
        boosts: dict[str, float] = {}
        if self.routes is None:
            return boosts
        routes = self.routes
        weighted = [
            (routes.aspects.get(aspect, []), 1.0 if rank == 0 else SECONDARY_ASPECT_FACTOR)  # type: ignore[call-overload]
            for rank, aspect in enumerate(aspects)
        ]
        weighted += [(routes.flags.get(flag, []), FLAG_FACTOR) for flag in flags]  # type: ignore[call-overload]
        weighted += [(routes.situations.get(name, []), SITUATION_FACTOR) for name in situations]
        for route, factor in weighted:
            for position, card_id in enumerate(route[: len(ROUTE_POSITION_WEIGHTS)]):
                boosts[card_id] = (
                    boosts.get(card_id, 0.0) + factor * ROUTE_POSITION_WEIGHTS[position]
                )
        return boosts

    def retrieve_cards(
        self,
        text: str,
        k: int = 4,
        *,
        aspects: Sequence[str] = (),
        flags: Sequence[str] = (),
        situations: Sequence[str] = (),
        language: str | None = None,
    ) -> list[ScoredCard]:
        """The ``k`` cards that fit a review best.

        Similarity to the cards' example complaints and principles (z-scored across cards, so it
        means the same for every backend) is blended with the playbook's routes for what the
        review was understood to be about: complaint types (``aspects``, main one first), risks
        (``flags``) and situations (the customer was blamed, never told, it happened again...),
        and with the learned reader's view of the same (when one serves this embedder).
        """
        _require_text(text, "review")
        self._searchable()
        vector = self.cards_index.embed_query(query_text(text))
        similarity = self.cards_index.similarity_by_card(vector, CLOSEST_CHUNKS)
        values = list(similarity.values()) or [0.0]
        # numpy's population deviation: statistics.pstdev works in exact fractions, 0.2 ms here.
        mean, spread = float(np.mean(values)), float(np.std(values)) or 1.0
        floor = min(values)
        scores = {
            card_id: SIMILARITY_WEIGHT * (similarity.get(card_id, floor) - mean) / spread
            for card_id in self.cards
        }
        for card_id, boost in self._route_boosts(aspects, flags, situations).items():
            if card_id in scores:
                scores[card_id] += boost
        if self.reader is not None:
            understood = understood_features(aspects, flags, situations, language)
            read = self.reader.scores(vector, understood)
            for card_id, logit in zip(self.reader.card_ids, read.tolist(), strict=True):
                if card_id in scores:
                    scores[card_id] += self.reader_weight * logit
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [ScoredCard(self.cards[card_id], score) for card_id, score in ranked[:k]]

    def search(self, text: str, k: int = 5) -> list[SearchResult]:
        """Cards and ingested passages together, best first; each card appears once."""
        query = _require_text(text, "query")
        self._ready()
        vector = self.cards_index.embed_query(query)
        similarity = self.cards_index.similarity_by_card(vector, CLOSEST_CHUNKS)
        results = [
            SearchResult(card_id, card.title, card.article, score, card.principle)
            for card_id, score in similarity.items()
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
            for hit in self.documents_index.query(vector, k)
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
        return self.documents_index.sync(documents, prune=directories)

    def rebuild(self) -> tuple[SyncReport, list[str]]:
        """Start the index afresh: the cards, then every ingested file that still exists.

        Returns the report and the paths that could not be re-ingested (moved or deleted).
        """
        remembered = self.documents_index.ingested_paths()
        self.documents_index.close()
        self.cards_index.wipe()
        report = self.ensure_cards()
        present = [Path(path) for path in remembered.values() if Path(path).exists()]
        missing = [path for path in remembered.values() if not Path(path).exists()]
        if present:
            documents = [read_document(path, self.detector) for path in present]
            report.added += self.documents_index.sync(documents).added
        return report, missing


def open_knowledge_base(
    directory: Path, embedder: TextEmbedder, *, with_reader: bool = True
) -> KnowledgeBase:
    """The shipped cards, routes, examples and (for an embedder it was trained with) the learned
    reader, over an index directory (created on first use). ``with_reader=False`` leaves the
    reader out, to measure what it adds."""
    cards = load_cards()
    card_ids = {card.id for card in cards}
    return KnowledgeBase(
        KnowledgeIndex(directory, embedder, kind="card"),
        KnowledgeIndex(directory, embedder, kind="document"),
        cards,
        load_routes(card_ids=card_ids),
        load_examples(card_ids=card_ids),
        reader=reader_for(embedder.config()) if with_reader else None,
    )
