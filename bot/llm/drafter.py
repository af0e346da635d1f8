"""Drafting with an LLM through langchain: one structured call, checked by the same guard as the
offline engine. Any failure is reported as LLMUnavailableError so the engine can fall back.

Works with OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio).
Token counts come from the server's `usage`, never from a local tokenizer (tiktoken downloads its
vocabulary on first use, which fails offline).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import openai
from pydantic import BaseModel, Field, ValidationError

from bot.errors import LLMUnavailableError
from prompts.loader import render_prompt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from langchain_core.language_models import BaseChatModel

    from bot.engine.models import Review, SellerProfile
    from knowledge.cards import Card

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]
LANGUAGE_NAMES = {"en": "English", "el": "Greek", "ru": "Russian", "pl": "Polish"}


class LLMTakePrivate(BaseModel):
    recommended: bool
    reason: str
    channel: str


class LLMCoachingNote(BaseModel):
    card: str = Field(description="the id of one of the playbook cards given")
    advice: str


class LLMDraftOutput(BaseModel):
    """What the model returns: the same fields as the offline engine's draft."""

    public_reply: str
    private_message: str
    take_private: LLMTakePrivate
    coaching: list[LLMCoachingNote]


@dataclass(frozen=True)
class LLMResult:
    output: LLMDraftOutput
    prompt_tokens: int
    completion_tokens: int


def _cards_text(cards: Sequence[Card]) -> str:
    return "\n".join(f"- {card.id}: {card.title}. {card.principle}" for card in cards)


def build_messages(
    review: Review, cards: Sequence[Card], profile: SellerProfile, channel: str
) -> list[tuple[str, str]]:
    language = LANGUAGE_NAMES[review.reply_language]
    human = render_prompt(
        "draft",
        shop=profile.shop or "(not given)",
        signature=profile.signature or profile.shop or "the shop team",
        platform="(not given)",
        channel=channel,
        offers=", ".join(profile.offers) or "none",
        tone="warm",
        length="normal",
        cards=_cards_text(cards),
        review=review.text,
    )
    return [("system", render_prompt("system", language_name=language)), ("human", human)]


class LLMDrafter:
    def __init__(self, model: BaseChatModel, method: StructuredMethod = "json_schema") -> None:
        self.model = model
        self.method = method

    async def draft(
        self, review: Review, cards: Sequence[Card], profile: SellerProfile, channel: str
    ) -> LLMResult:
        structured = self.model.with_structured_output(
            LLMDraftOutput, method=self.method, include_raw=True
        )
        try:
            result: dict[str, Any] = await structured.ainvoke(
                build_messages(review, cards, profile, channel)
            )  # type: ignore[assignment]
        except (openai.OpenAIError, ValidationError, ValueError) as error:
            raise LLMUnavailableError(
                f"the AI service did not answer ({type(error).__name__})"
            ) from error
        parsed = result.get("parsed")
        if not isinstance(parsed, LLMDraftOutput):
            raise LLMUnavailableError("the AI service's answer could not be read")
        usage = getattr(result.get("raw"), "usage_metadata", None) or {}
        return LLMResult(parsed, usage.get("input_tokens", 0), usage.get("output_tokens", 0))


def build_chat_model(
    *,
    model: str,
    api_key: str | None,
    base_url: str | None,
    timeout: float = 30.0,
    max_retries: int = 2,
) -> BaseChatModel:
    """ChatOpenAI with a per-call timeout and bounded retries (the openai client backs off on
    429, 5xx and connection errors)."""
    from langchain_openai import ChatOpenAI  # noqa: PLC0415 - heavy, only on the LLM path

    return ChatOpenAI(
        model=model,
        api_key=api_key or "not-needed",  # type: ignore[arg-type] - local servers take any key
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        temperature=0.4,
    )
