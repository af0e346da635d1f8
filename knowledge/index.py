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
from chromadb import PersistentClient
from chromadb.api.client import SharedSystemClient
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings as LangchainEmbeddings

from knowledge.embeddings import make_embedder
from knowledge.errors import IndexUnavailableError
from knowledge.ingest import card_id_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_core.documents import Document

    from knowledge.embeddings import TextEmbedder
    from knowledge.ingest import SourceDocument

# Written next to chroma's files: which files were ingested, so `kb rebuild` can index them again.
MANIFEST_NAME = "ingested-sources.json"


@register_embedding_function
class CoachEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedders as a chroma embedding function.

    Registered by name, with a config chroma persists beside the collection: a new process that
    opens the index gets the same embedder back instead of chroma's default, which would try to
    download a model.
    """

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:
        return self.embedder.embed_passages(list(input))  # type: ignore[return-value]

    def embed_query(self, input: Documents) -> Embeddings:
        return [self.embedder.embed_query(text) for text in input]  # type: ignore[misc]

    @staticmethod
    def name() -> str:
        return "complaint-coach"

    def get_config(self) -> dict[str, Any]:
        return self.embedder.config()

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CoachEmbeddingFunction:
        options = {key: value for key, value in config.items() if key != "backend"}
        if config["backend"] == "hash":
            return CoachEmbeddingFunction(
                make_embedder("hash", hash_dimension=options["dimension"])
            )
        if config["backend"] == "openai":
            import os  # noqa: PLC0415 - chroma's own OpenAI function also reads the key here

            return CoachEmbeddingFunction(
                make_embedder(
                    "openai",
                    openai_api_key=os.environ.get("OPENAI_API_KEY"),
                    openai_base_url=options.get("base_url"),
                    openai_model=options["model"],
                )
            )
        return CoachEmbeddingFunction(make_embedder(config["backend"]))

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


class LangchainEmbedderAdapter(LangchainEmbeddings):
    """The same embedders as a langchain ``Embeddings``, for the langchain-chroma vector store."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


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
    try:
        yield
    except (ChromaError, sqlite3.Error, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise IndexUnavailableError(
            f"the knowledge index in {directory} cannot be used ({reason}); "
            "if it is damaged, run `complaint-coach kb rebuild`"
        ) from error


def _persistent_client(directory: Path) -> ClientAPI:
    try:
        return PersistentClient(
            path=str(directory),
            settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True),
        )
    except AttributeError as error:
        # On a directory whose files are garbage, chroma's Rust backend fails to start and its
        # own cleanup then raises AttributeError, hiding the real failure: the index is damaged.
        raise ChromaError(f"the index files are damaged ({error})") from error


@dataclass(frozen=True)
class CardVectors:
    """The card chunks' unit vectors, grouped by card."""

    ids: list[str]  # card ids
    matrix: np.ndarray  # one unit row per chunk
    rows: np.ndarray  # per card, its chunks' row numbers, padded with len(matrix)
    counts: np.ndarray  # chunks per card

    @classmethod
    def of(cls, chunk_ids: list[str], matrix: np.ndarray) -> CardVectors:
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
        # a draft's time). Loaded from chroma on first use and dropped after every write.
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
        with _index_errors(self.directory):
            self.directory.mkdir(parents=True, exist_ok=True)
            self._client = _persistent_client(self.directory)
            self._client.get_or_create_collection(
                self.collection_name,
                embedding_function=CoachEmbeddingFunction(self.embedder),  # type: ignore[arg-type]
                configuration={"hnsw": {"space": "cosine"}},
            )
            self._store = Chroma(
                client=self._client,
                collection_name=self.collection_name,
                embedding_function=LangchainEmbedderAdapter(self.embedder),
                create_collection_if_not_exists=False,
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
        ids = list(stored["ids"])
        vectors = np.asarray(stored["embeddings"], dtype=np.float32).reshape(len(ids), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return CardVectors.of(ids, vectors / np.where(norms == 0, 1.0, norms))

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
