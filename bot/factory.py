"""Builds the long-lived objects from settings, once, for whichever face is running."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine.service import CoachEngine
    from knowledge.retrieval import KnowledgeBase


def build_knowledge_base(settings: Settings) -> KnowledgeBase:
    """The card index under the data directory, with the configured embedding backend."""
    from knowledge.embeddings import make_embedder  # noqa: PLC0415 - keeps `--help` instant
    from knowledge.retrieval import open_knowledge_base  # noqa: PLC0415 - imports chromadb (~1 s)

    backend = settings.coach.embeddings
    api_key = settings.llm.api_key
    if backend == "openai" and api_key is None and settings.llm.base_url is None:
        raise ConfigError("COACH_EMBEDDINGS=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL)")
    embedder = make_embedder(
        backend,
        openai_api_key=api_key.get_secret_value() if api_key else None,
        openai_base_url=settings.llm.base_url,
        openai_model=settings.llm.embedding_model,
    )
    return open_knowledge_base(settings.coach.data_dir / "index", embedder)


def build_engine(settings: Settings) -> CoachEngine:
    """The coaching engine over the knowledge base and the per-language content."""
    from bot.engine.language_pack import LanguagePacks  # noqa: PLC0415
    from bot.engine.service import CoachEngine  # noqa: PLC0415

    return CoachEngine(build_knowledge_base(settings), LanguagePacks())
