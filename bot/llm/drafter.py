"""Drafting with an LLM through langchain: one structured call, checked by the same guard as the
offline engine. Any failure is reported as LLMUnavailableError so the engine can fall back.

Works with OpenAI and any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio).
Token counts come from the server's `usage`, never from a local tokenizer (tiktoken downloads its
vocabulary on first use, which fails offline).
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import openai
from pydantic import BaseModel, Field, ValidationError

from bot.errors import LLMUnavailableError
from bot.llm.streaming import PublicReplyStream
from prompts.loader import render_prompt

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Sequence

    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

    from bot.engine.models import Review, SellerProfile
    from knowledge.cards import Card

Model = TypeVar("Model", bound=BaseModel)
StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]
LANGUAGE_NAMES = {"en": "English", "el": "Greek", "ru": "Russian", "pl": "Polish"}
LENGTHS = {"short": "short (40 to 60 words)", "normal": "normal (60 to 110 words)"}
logger = logging.getLogger(__name__)


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


class LLMExplanation(BaseModel):
    kind: str = Field(description="the problem's kind, as listed")
    explanation: str


class LLMExplanations(BaseModel):
    explanations: list[LLMExplanation]


class LLMRewriteOutput(BaseModel):
    """The seller's reply improved, and each problem explained in plain words."""

    rewrite: str
    explanations: list[LLMExplanation]


@dataclass(frozen=True)
class LLMResult:
    output: LLMDraftOutput
    prompt_tokens: int
    completion_tokens: int
    # The conversation that produced it, so a repair can continue it.
    messages: list[tuple[str, str]]

    @property
    def instructions(self) -> str:
        return self.messages[0][1]


def _cards_text(cards: Sequence[Card]) -> str:
    return "\n".join(f"- {card.id}: {card.title}. {card.principle}" for card in cards)


def _fenced(text: str) -> str:
    """The review with look-alikes of our fence neutralised, so it cannot close the fence early
    and pose as instructions."""
    for marker, harmless in (("</review>", "</ review>"), ("<review>", "< review>")):
        text = re.sub(re.escape(marker), harmless, text, flags=re.IGNORECASE)
    return text


PLATFORM_NAMES = {
    "google": "Google reviews",
    "etsy": "Etsy",
    "amazon": "Amazon",
    "facebook": "Facebook",
    "own_shop": "the seller's own web shop",
    "other": "another marketplace",
}


def build_messages(
    review: Review,
    cards: Sequence[Card],
    profile: SellerProfile,
    channel: str,
    variant: int = 0,
) -> list[tuple[str, str]]:
    language = LANGUAGE_NAMES[review.reply_language]
    human = render_prompt(
        "draft",
        shop=profile.shop or "(not given)",
        signature=profile.signature or profile.shop or "the shop team",
        platform=PLATFORM_NAMES[profile.platform] if profile.platform else "(not given)",
        channel=channel,
        offers=", ".join(profile.offers) or "none",
        tone=profile.tone,
        length=LENGTHS[profile.length],
        variant=(
            f" This is take {variant + 1}: open, apologise and phrase the next step differently "
            "from an ordinary first take."
            if variant
            else ""
        ),
        cards=_cards_text(cards),
        review=_fenced(review.text),
    )
    return [("system", render_prompt("system", language_name=language)), ("human", human)]


_RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "LLMDraftOutput", "schema": LLMDraftOutput.model_json_schema()},
}


def _logged_result(
    output: LLMDraftOutput, usage: dict[str, Any], messages: list[tuple[str, str]]
) -> LLMResult:
    """The result with the token counts the server reported, which are also logged."""
    prompt_tokens, completion_tokens = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    logger.info(
        "llm call: %d prompt tokens, %d completion tokens", prompt_tokens, completion_tokens
    )
    return LLMResult(output, prompt_tokens, completion_tokens, messages)


@contextmanager
def _service_errors() -> Iterator[None]:
    """Every way the service or its answer can fail, as LLMUnavailableError. A 400 passes
    through: the caller may answer it by switching to function calling."""
    try:
        yield
    except openai.BadRequestError:
        raise
    except (openai.OpenAIError, ValidationError, ValueError, TypeError) as error:
        name = type(error).__name__
        raise LLMUnavailableError(f"the AI service did not answer ({name})") from error


def _chunk_text(chunk: Any) -> str:
    """The JSON text a streamed chunk adds: message content, or a tool call's arguments."""
    tool_chunks = getattr(chunk, "tool_call_chunks", None)
    if tool_chunks:
        return tool_chunks[0].get("args") or ""
    content = chunk.content
    return content if isinstance(content, str) else ""


class LLMDrafter:
    def __init__(
        self,
        model: BaseChatModel,
        method: StructuredMethod = "json_schema",
        deadline: float | None = None,
    ) -> None:
        self.model = model
        self.method = method
        # Seconds the whole LLM path of one draft may take (calls, retries, the repair): after
        # that the seller gets the offline draft. None: only the per-call timeout applies.
        self.deadline = deadline
        # Building a structured runnable converts the schema each time: build each one once.
        self._structured: dict[tuple[type[BaseModel], str, bool], Runnable[Any, Any]] = {}

    def _structured_runnable(self, schema: type[BaseModel], *, include_raw: bool) -> Runnable:
        key = (schema, self.method, include_raw)
        if key not in self._structured:
            self._structured[key] = self.model.with_structured_output(
                schema, method=self.method, include_raw=include_raw
            )
        return self._structured[key]

    async def _call(self, messages: list[tuple[str, str]]) -> LLMResult:
        if self.method == "json_schema":
            try:
                return await self._json_schema_call(messages)
            except openai.BadRequestError as error:
                self._switch_to_tools(error)
        result = await self._structured_call(messages)
        parsed = result.get("parsed")
        if not isinstance(parsed, LLMDraftOutput):
            raise LLMUnavailableError("the AI service's answer could not be read")
        usage = getattr(result.get("raw"), "usage_metadata", None) or {}
        return _logged_result(parsed, usage, messages)

    def _switch_to_tools(
        self, error: openai.BadRequestError, *, already_shown: bool = False
    ) -> None:
        """Many local servers reject response_format json_schema: use function calling from now
        on. Any other refusal (or one after text was shown) ends the LLM attempt."""
        if self.method != "json_schema" or already_shown:
            raise LLMUnavailableError("the AI service refused the request") from error
        logger.info("structured output via json_schema refused; using function_calling")
        self.method = "function_calling"

    async def _json_schema_call(self, messages: list[tuple[str, str]]) -> LLMResult:
        """The same request as with_structured_output's, parsed here: langchain would send it
        through openai's beta parse helper, about 10 ms of CPU per answer (bench/bot.py: a
        burst of 200 drafts spent seconds in it)."""
        with _service_errors():
            message = await self.model.ainvoke(
                messages, extra_body={"response_format": _RESPONSE_FORMAT}
            )
            content = message.content if isinstance(message.content, str) else ""
            output = LLMDraftOutput.model_validate_json(content or "{}")
        usage = getattr(message, "usage_metadata", None) or {}
        return _logged_result(output, usage, messages)

    async def _structured_call(self, messages: list[tuple[str, str]]) -> dict[str, Any]:
        structured = self._structured_runnable(LLMDraftOutput, include_raw=True)
        with _service_errors():
            return await structured.ainvoke(messages)  # type: ignore[return-value]

    async def draft(
        self,
        review: Review,
        cards: Sequence[Card],
        profile: SellerProfile,
        channel: str,
        variant: int = 0,
    ) -> LLMResult:
        """One call, answer in one piece: for the CLI and batches, where nobody watches it grow
        (streaming costs a millisecond or so per chunk in transport and parsing)."""
        return await self._call(build_messages(review, cards, profile, channel, variant))

    async def stream(
        self,
        review: Review,
        cards: Sequence[Card],
        profile: SellerProfile,
        channel: str,
        variant: int = 0,
    ) -> AsyncIterator[str | LLMResult]:
        """The public reply's text as it is written (str pieces), then the whole LLMResult."""
        messages = build_messages(review, cards, profile, channel, variant)
        emitted = False
        try:
            async for item in self._stream(messages):
                emitted = emitted or isinstance(item, str)
                yield item
        except openai.BadRequestError as error:
            # Only before anything was shown, so nothing is repeated to the seller.
            self._switch_to_tools(error, already_shown=emitted)
            async for item in self._stream(messages):
                yield item

    async def _stream(self, messages: list[tuple[str, str]]) -> AsyncIterator[str | LLMResult]:
        if self.method == "function_calling":
            runnable = self.model.bind_tools([LLMDraftOutput], tool_choice="LLMDraftOutput")
            options: dict[str, Any] = {}
        else:
            runnable = self.model
            # The schema as plain JSON: with the pydantic class, langchain parses each chunk
            # into it too and warns while serialising; we parse the finished answer ourselves.
            # Sent in extra_body (the same request body): a top-level response_format makes
            # langchain stream through openai's beta helper, which rebuilds the whole answer
            # so far at every chunk, about 1 ms a chunk (bench/bot.py: 200 users at once waited
            # 30 s behind it, where the plain stream takes a fraction of that).
            options = {"extra_body": {"response_format": _RESPONSE_FORMAT}, "stream_usage": True}
        reply = PublicReplyStream()
        # The answer's text is gathered by hand: adding langchain message chunks together costs
        # about a millisecond a chunk, more than everything else we do per chunk.
        text = ""
        usage: dict[str, int] = {}
        with _service_errors():
            async for chunk in runnable.astream(messages, **options):
                text += _chunk_text(chunk)
                usage = getattr(chunk, "usage_metadata", None) or usage
                if delta := reply.feed(text):
                    yield delta
            output = LLMDraftOutput.model_validate_json(text or "{}")
        yield _logged_result(output, usage, messages)

    async def aclose(self) -> None:
        """Close the connections to the model server, in the event loop that opened them (an
        aiohttp session left open is warned about when it is collected)."""
        client = getattr(self.model, "http_async_client", None)
        if client is not None:
            await client.aclose()

    async def rewrite(
        self, reply: str, review: Review, findings: Sequence[tuple[str, str]]
    ) -> LLMRewriteOutput:
        """The seller's own reply improved, keeping their facts; findings are (kind, excerpt)."""
        return await self._about_seller_reply(
            "rewrite",
            LLMRewriteOutput,
            reply,
            review.reply_language,
            findings,
            review=_fenced(review.text),
        )

    async def explain(
        self, reply: str, language: str, findings: Sequence[tuple[str, str]]
    ) -> LLMExplanations:
        """Each finding of the seller's reply explained in plain words (no review given)."""
        return await self._about_seller_reply("check", LLMExplanations, reply, language, findings)

    async def _about_seller_reply(
        self,
        prompt: str,
        schema: type[Model],
        reply: str,
        language: str,
        findings: Sequence[tuple[str, str]],
        **extra: str,
    ) -> Model:
        language_name = LANGUAGE_NAMES.get(language, "English")
        human = render_prompt(
            prompt,
            findings="\n".join(f"- {kind}: '{excerpt}'" for kind, excerpt in findings),
            language_name=language_name,
            reply=_fenced(reply).replace("</seller_reply>", "</ seller_reply>"),
            **extra,
        )
        system = render_prompt("system", language_name=language_name)
        return await self._structured_answer(schema, [("system", system), ("human", human)])

    async def _structured_answer(
        self, schema: type[Model], messages: list[tuple[str, str]]
    ) -> Model:
        structured = self._structured_runnable(schema, include_raw=False)
        try:
            with _service_errors():
                result = await structured.ainvoke(messages)
        except openai.BadRequestError as error:
            raise LLMUnavailableError("the AI service refused the request") from error
        if not isinstance(result, schema):
            raise LLMUnavailableError("the AI service's answer could not be read")
        return result

    async def repair(
        self, previous: LLMResult, problems: Sequence[str], language: str
    ) -> LLMResult:
        """One more call with the first answer and what is wrong with it."""
        feedback = render_prompt(
            "repair",
            language_name=LANGUAGE_NAMES[language],
            problems="\n".join(f"- {problem}" for problem in problems),
        )
        messages = [
            *previous.messages,
            ("ai", previous.output.model_dump_json()),
            ("human", feedback),
        ]
        return await self._call(messages)


def build_chat_model(
    *,
    model: str,
    api_key: str | None,
    base_url: str | None,
    timeout: float = 30.0,
    max_retries: int = 2,
) -> BaseChatModel:
    """ChatOpenAI with a per-call timeout and bounded retries (the openai client backs off on
    429, 5xx and connection errors), over aiohttp: httpx's connection pool walks every open
    connection for each request, which a burst of 200 drafts (200 connections) turned into
    seconds of CPU (bench/bot.py)."""
    from bot.llm.chat_model import LeanChatOpenAI  # noqa: PLC0415 - heavy, only on the LLM path

    return LeanChatOpenAI(
        http_async_client=openai.DefaultAioHttpClient(timeout=timeout),
        model=model,
        api_key=api_key or "not-needed",  # type: ignore[arg-type] - local servers take any key
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        temperature=0.4,
    )
