"""Builds the long-lived objects from settings, once, for whichever face is running."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.engine.service import CoachEngine
    from bot.llm.drafter import LLMDrafter
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


def build_engine(settings: Settings, *, use_llm: bool = True) -> CoachEngine:
    """The coaching engine over the knowledge base and the per-language content, with the LLM
    drafter when one is configured (and wanted)."""
    from bot.engine.language_pack import LanguagePacks  # noqa: PLC0415
    from bot.engine.service import CoachEngine  # noqa: PLC0415

    drafter = build_llm_drafter(settings) if use_llm and settings.llm.configured else None
    return CoachEngine(build_knowledge_base(settings), LanguagePacks(), drafter)


def build_llm_drafter(settings: Settings) -> LLMDrafter:
    from bot.llm.drafter import LLMDrafter, build_chat_model  # noqa: PLC0415 - langchain-openai

    llm = settings.llm
    model = build_chat_model(
        model=llm.model,
        api_key=llm.api_key.get_secret_value() if llm.api_key else None,
        base_url=llm.base_url,
        timeout=llm.timeout,
        max_retries=llm.max_retries,
    )
    return LLMDrafter(model, llm.structured_method, deadline=llm.timeout)
