"""chromadb and langchain-chroma, imported only where the index is opened: together they take
about a second to import, which a draft from the hash embeddings (searched in memory) never
needs to pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chromadb import PersistentClient
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings as LangchainEmbeddings

from knowledge.embeddings import make_embedder

if TYPE_CHECKING:
    from pathlib import Path

    from chromadb.api import ClientAPI

    from knowledge.embeddings import TextEmbedder


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


def open_store(
    directory: Path, collection_name: str, embedder: TextEmbedder
) -> tuple[ClientAPI, Chroma]:
    """The chroma client over the directory, and the collection as a langchain vector store
    (created with our embedding function and cosine distance if it is new)."""
    client = _persistent_client(directory)
    client.get_or_create_collection(
        collection_name,
        embedding_function=CoachEmbeddingFunction(embedder),  # type: ignore[arg-type]
        configuration={"hnsw": {"space": "cosine"}},
    )
    store = Chroma(
        client=client,
        collection_name=collection_name,
        embedding_function=LangchainEmbedderAdapter(embedder),
        create_collection_if_not_exists=False,
    )
    return client, store
