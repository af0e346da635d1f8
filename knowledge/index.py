"""The persistent knowledge index: chroma under the data directory, seen through langchain.

Cards and the seller's ingested files live in two collections per embedding backend, side by
side in one chroma directory. Every write goes through :meth:`KnowledgeIndex.sync`, which
compares fingerprints, so re-indexing unchanged sources costs one metadata read and no embedding.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.errors import IndexUnavailableError
from knowledge.ingest import card_id_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    from knowledge.embeddings import TextEmbedder
    from knowledge.ingest import SourceDocument

# Written next to chroma's files: which files were ingested, so `kb rebuild` can index them again.
MANIFEST_NAME = "ingested-sources.json"


@dataclass
class SyncReport:
    """Counts of chunks: new or replaced ones added, untouched ones, and deleted ones."""

    added: int = 0
    unchanged: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "unchanged": self.unchanged, "removed": self.removed}


@dataclass(frozen=True)
class Hit:
    """One chunk found for a query, with its cosine similarity (1 is identical)."""

    text: str
    metadata: dict[str, Any]
    score: float


@contextmanager
def _index_errors(directory: Path) -> Iterator[None]:
    """Turn the storage layer's many failure types into one sentence for the seller."""
    from chromadb.errors import ChromaError  # noqa: PLC0415 - chroma only where it is used

    try:
        yield
    except (ChromaError, sqlite3.Error, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise IndexUnavailableError(
            f"the knowledge index in {directory} cannot be used ({reason}); "
            "if it is damaged, run `complaint-coach kb rebuild`"
        ) from error


@dataclass(frozen=True)
class CardVectors:
    """The card chunks' unit vectors, grouped by card."""

    ids: list[str]  # card ids
    matrix: np.ndarray  # one unit row per chunk
    rows: np.ndarray  # per card, its chunks' row numbers, padded with len(matrix)
    counts: np.ndarray  # chunks per card

    @classmethod
    def of(cls, chunk_ids: list[str], vectors: Any) -> CardVectors:
        """From each chunk's id and vector (any length; they are made unit length here)."""
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(chunk_ids), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0, 1.0, norms)
        members: dict[str, list[int]] = {}
        for row, chunk_id in enumerate(chunk_ids):
            members.setdefault(card_id_of(chunk_id), []).append(row)
        width = max((len(rows) for rows in members.values()), default=0)
        rows = np.full((len(members), width), len(chunk_ids), dtype=np.intp)
        for position, card_rows in enumerate(members.values()):
            rows[position, : len(card_rows)] = card_rows
        counts = np.array([len(card_rows) for card_rows in members.values()], dtype=np.float64)
        return cls(list(members), matrix, rows, counts)


class KnowledgeIndex:
    """One chroma collection (cards, or the seller's documents) for one embedding backend, under
    the data directory, exposed as a langchain vector store."""

    def __init__(self, directory: Path, embedder: TextEmbedder, kind: str = "card") -> None:
        self.directory = directory
        self.embedder = embedder
        self.kind = kind
        self.collection_name = f"{kind}s-{embedder.backend}"
        self._client: ClientAPI | None = None
        self._store: Chroma | None = None
        # Chunks in the card collection, counted once and after each write: asking chroma costs
        # half a millisecond, a tenth of a whole retrieval. Only this process writes the cards;
        # documents may be ingested by another process, so they are counted every time.
        self._size: int | None = None
        # The card vectors, unit length, with their ids: the per-review query is a matrix
        # product over a few hundred rows (microseconds) instead of a chroma query (3 ms, most of
        # a draft's time). Read back from chroma on first use, or given by ``keep_vectors``;
        # dropped after every write.
        self._matrix: CardVectors | None = None
        # Retrievals with e5 or openai embeddings run in worker threads, so the first burst of
        # reviews opens the index from several threads at once; chroma's client set-up is not
        # safe for that ("could not connect to tenant"), nor is loading the matrix twice useful.
        self._opening = threading.RLock()

    # -- opening ---------------------------------------------------------------------------------
    def _open(self) -> Chroma:
        if self._store is not None:
            return self._store
        with self._opening:
            return self._store if self._store is not None else self._open_store()

    def _open_store(self) -> Chroma:
        from knowledge.chroma_store import open_store  # noqa: PLC0415 - imports chromadb (~1 s)

        with _index_errors(self.directory):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._client, self._store = open_store(
                self.directory, self.collection_name, self.embedder
            )
        return self._store

    @property
    def vectorstore(self) -> Chroma:
        """The langchain view of the index, e.g. for ``as_retriever()`` in an LLM chain."""
        return self._open()

    @property
    def collection(self) -> Collection:
        return self._open()._collection

    # -- writing ---------------------------------------------------------------------------------
    def fingerprints(self) -> dict[str, str]:
        """source key -> fingerprint of every source already indexed."""
        with _index_errors(self.directory):
            stored = self.collection.get(include=["metadatas"])
        return {
            str(meta["source_key"]): str(meta["fingerprint"])
            for meta in stored["metadatas"] or []
            if meta
        }

    def sync(
        self, documents: Sequence[SourceDocument], *, prune: Sequence[str] | None = None
    ) -> SyncReport:
        """Add new sources, replace changed ones, keep unchanged ones.

        ``prune`` names key prefixes this call is authoritative for: indexed sources under one of
        them that are not in ``documents`` any more are removed.
        """
        report = SyncReport()
        known = self.fingerprints()
        stale = [
            doc.key for doc in documents if doc.key in known and known[doc.key] != doc.fingerprint
        ]
        wanted = {doc.key for doc in documents}
        gone = [
            key
            for key in known
            if key not in wanted and any(key.startswith(prefix) for prefix in prune or ())
        ]
        fresh = [doc for doc in documents if known.get(doc.key) != doc.fingerprint]
        with _index_errors(self.directory):
            for key in stale + gone:
                report.removed += self._delete_source(key)
            chunks = [chunk for doc in fresh for chunk in doc.chunks]
            if chunks:
                self.vectorstore.add_texts(
                    texts=[chunk.text for chunk in chunks],
                    metadatas=[chunk.metadata for chunk in chunks],
                    ids=[chunk.id for chunk in chunks],
                )
        self._size = None
        self._matrix = None
        report.added = len(chunks)
        report.unchanged = sum(len(doc.chunks) for doc in documents if doc not in fresh)
        if self.kind == "document":
            self._remember_sources(documents, gone)
        return report

    def _delete_source(self, key: str) -> int:
        existing = self.collection.get(where={"source_key": key}, include=[])
        if existing["ids"]:
            self.collection.delete(ids=existing["ids"])
        return len(existing["ids"])

    def _remember_sources(self, documents: Sequence[SourceDocument], gone: Sequence[str]) -> None:
        manifest = self.ingested_paths()
        manifest.update({doc.key: doc.path for doc in documents if doc.path})
        for key in gone:
            manifest.pop(key, None)
        (self.directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), "utf-8")

    def ingested_paths(self) -> dict[str, str]:
        path = self.directory / MANIFEST_NAME
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}

    # -- reading ---------------------------------------------------------------------------------
    def count(self) -> int:
        if self._size is None or self.kind != "card":
            with _index_errors(self.directory):
                self._size = self.collection.count()
        return self._size

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)

    def query(self, vector: list[float], n: int) -> list[Hit]:
        """The ``n`` chunks closest to a query vector, with their text and metadata, best first."""
        available = self.count()
        if available == 0:
            return []
        with _index_errors(self.directory):
            results: list[tuple[Document, float]] = (
                self.vectorstore.similarity_search_by_vector_with_relevance_scores(
                    vector, k=min(n, available)
                )
            )
        # In a cosine collection chroma returns the distance 1 - cos; we report the similarity.
        return [
            Hit(text=doc.page_content, metadata=dict(doc.metadata), score=1.0 - distance)
            for doc, distance in results
        ]

    def load_vectors(self) -> None:
        """The card vectors in memory now rather than at the first query."""
        self._card_vectors()

    def _card_vectors(self) -> CardVectors:
        matrix = self._matrix
        if matrix is not None:
            return matrix
        with self._opening:
            if self._matrix is None:
                self._matrix = self._load_card_vectors()
            return self._matrix

    def _load_card_vectors(self) -> CardVectors:
        with _index_errors(self.directory):
            stored = self.collection.get(include=["embeddings"])
        return CardVectors.of(list(stored["ids"]), stored["embeddings"])

    def keep_vectors(self, chunk_ids: list[str], vectors: Sequence[Sequence[float]]) -> None:
        """Card vectors made by the caller rather than read back from chroma: for the hash
        embeddings, computing them costs less than importing chroma to open the index. They
        are dropped, like those read back, after the next write."""
        self._matrix = CardVectors.of(chunk_ids, vectors)

    @property
    def has_vectors(self) -> bool:
        return self._matrix is not None

    def similarity_by_card(self, vector: list[float], closest: int) -> dict[str, float]:
        """card id -> mean cosine similarity of its ``closest`` chunks most like the vector (all
        of them, for a card with fewer): one lucky example is weaker evidence than several that
        resemble the review. Cards (written only by this process) are searched exactly, in
        memory, in a few array operations: grouping a few hundred chunks in Python was most of
        a retrieval's time."""
        cards = self._card_vectors()
        if not cards.ids:
            return {}
        query = np.asarray(vector, dtype=np.float32)
        similarities = cards.matrix @ (query / (np.linalg.norm(query) or 1.0))
        grouped = np.append(similarities, -np.inf)[cards.rows]  # padding reads -inf
        best = -np.sort(-grouped, axis=1)[:, :closest]
        totals = np.where(np.isfinite(best), best, 0.0).sum(axis=1, dtype=np.float64)
        means = totals / np.minimum(cards.counts, closest)
        return dict(zip(cards.ids, means.tolist(), strict=True))

    # -- repair ----------------------------------------------------------------------------------
    def close(self) -> None:
        """Forget the open client; the next use opens the directory afresh."""
        self._store = None
        self._client = None
        self._size = None
        self._matrix = None

    def wipe(self) -> None:
        """Delete everything on disk (every collection in the directory); the caller re-indexes.
        Used by `kb rebuild`; close any other index over the same directory first."""
        from chromadb.api.client import SharedSystemClient  # noqa: PLC0415
        from chromadb.errors import ChromaError  # noqa: PLC0415

        manifest = self.ingested_paths()
        if self._client is not None:
            # A corrupt store may refuse even a reset; the directory is removed below anyway.
            with suppress(ChromaError, sqlite3.Error, OSError):
                self._client.reset()
        self.close()
        # chroma keeps one system per path for the whole process, even after a failed open; a
        # stale one would keep pointing at the deleted files.
        SharedSystemClient.clear_system_cache()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        (self.directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1), "utf-8")
