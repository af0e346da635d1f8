"""The coaching engine: understand -> retrieve -> compose -> guard, and the tone check.

Plain async Python: no aiogram, no environment. Both faces (CLI, Telegram) call these methods.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal
from weakref import WeakKeyDictionary

from bot.engine.advise import Advisor
from bot.engine.compose import MAX_WORDS, Chooser, compose, signature, word_count
from bot.engine.models import (
    CoachingNote,
    Draft,
    Finding,
    SellerProfile,
    TakePrivate,
    ToneReport,
    ToneSummary,
)
from bot.engine.tone import check_reply, find_problems
from bot.engine.understand import understand
from bot.errors import CoachError, InputError, LLMUnavailableError
from bot.llm.guard import output_problems, public_reply_problems
from bot.llm.usage import UsageLedger
from knowledge.errors import IndexUnavailableError
from knowledge.textfold import replace_surrogates

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from bot.engine.language_pack import LanguagePacks
    from bot.engine.models import Channel, Review
    from bot.llm.drafter import LLMDrafter, LLMDraftOutput, LLMExplanation
    from knowledge.cards import Card
    from knowledge.retrieval import KnowledgeBase, ScoredCard

logger = logging.getLogger(__name__)

RETRIEVED_CARDS = 4
# A language model is handed a longer shortlist to choose from, because choosing is what it adds:
# the cards a coach insists on are within the first four for 0.56 of the benchmark's reviews and
# within the first eight for 0.67 (README, "Retrieval quality": how deep the must cards sit).
LLM_SHORTLIST = 8
# Fresh compositions tried when the guard rejects one; the phrasing data is tested to pass, so
# this only matters for a seller's unusual sign-off or shop name.
GUARD_ATTEMPTS = 6
_SENTENCE = re.compile(r"[^.!?…\n]+[.!?…]*")


@dataclass(frozen=True)
class ReplyPiece:
    """A piece of the public reply as the LLM writes it (for showing it grow)."""

    text: str


def _use_explanations(findings: list[Finding], explanations: list[LLMExplanation]) -> None:
    explained = {item.kind: item.explanation.strip() for item in explanations}
    for finding in findings:
        if explained.get(finding.kind):
            finding.why = explained[finding.kind]


async def _within(
    seconds: float | None, pieces: AsyncIterator[ReplyPiece | Draft]
) -> AsyncIterator[ReplyPiece | Draft]:
    """The pieces, as long as the LLM path is inside its time budget in all (retries and the
    repair included); past it, LLMUnavailableError, so the offline draft follows at once.

    The budget covers only the waits for the model, never the consumer's work between pieces:
    a timeout must not fire inside the caller's code (e.g. while Telegram shows a piece)."""
    if seconds is None:
        async for item in pieces:
            yield item
        return
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await anext(pieces)
            except StopAsyncIteration:
                return
            except TimeoutError as error:
                raise LLMUnavailableError("the AI service took too long") from error
            yield item
    finally:
        await pieces.aclose()  # type: ignore[attr-defined]


class DraftRejectedError(CoachError):
    """No composition passed the tone check; never shown to the seller as a draft."""


class PerLoopLock:
    """An asyncio lock for whichever event loop is running. An engine outlives its loop (the
    tests run one per test; the CLI one per command), and a plain lock stays bound to the first
    loop that waited on it: in any other, it raises instead of locking."""

    def __init__(self) -> None:
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary()
        )

    def __call__(self) -> asyncio.Lock:
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def search_cards(
    knowledge: KnowledgeBase, review: Review, k: int = RETRIEVED_CARDS
) -> list[ScoredCard]:
    """The review's ``k`` best cards, by its text and everything understood of it: the one
    place that hands a review's reading to retrieval (drafts, benchmarks and tests alike)."""
    return knowledge.retrieve_cards(
        review.text,
        k,
        aspects=review.aspects,
        flags=review.flags,
        situations=review.situations,
        language=review.language,
    )


class CoachEngine:
    def __init__(
        self, knowledge: KnowledgeBase, packs: LanguagePacks, drafter: LLMDrafter | None = None
    ) -> None:
        self.knowledge = knowledge
        self.packs = packs
        self.advisor = Advisor(knowledge.cards)
        # The LLM path, when one is configured; the offline composer is always there behind it.
        self.drafter = drafter
        self.usage = UsageLedger()
        self._rebuilding = PerLoopLock()
        self._turns = PerLoopLock()
        self._compiling: asyncio.Task[None] | None = None

    async def aclose(self) -> None:
        """Release the LLM client's connections; the engine is not used after this."""
        if self.drafter is not None:
            await self.drafter.aclose()

    def start_compiling_matchers(self) -> None:
        """For a bot that is already answering: the matchers compile in the background, one per
        turn of the event loop (`LanguagePacks.compile_matchers_in_turns`)."""
        if self._compiling is None or self._compiling.get_loop() is not asyncio.get_running_loop():
            self._compiling = asyncio.create_task(self.packs.compile_matchers_in_turns())

    @contextmanager
    def preparing(self) -> Iterator[None]:
        """The body run while the cards get ready to search in a thread and the language models
        load in another, so the first review waits on neither, nor does every review in flight
        with it.

        With hash embeddings the cards' vectors are computed in memory (0.1 s); with e5 or
        OpenAI the cards are indexed (on a fresh data directory, mostly chromadb's Rust code,
        which releases the GIL) and their vectors read back. The matchers are left out:
        compiling is Python through and through and would only take turns with the body (the
        bot compiles them once it answers, with ``start_compiling_matchers``). An error in the
        thread (a corrupt index) is raised here."""
        self.packs.detector.load_models_in_background()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="knowledge") as pool:
            knowledge_ready = pool.submit(self.knowledge.prepare)
            yield
            knowledge_ready.result()

    async def _read(self, text: str) -> tuple[Review, list[Card]]:
        """The review understood and its cards found, one review at a time in order of arrival,
        each in its own turn of the event loop.

        This is the CPU-bound part of a draft (a few milliseconds). Without turns, a burst of
        reviews all did it in the same turn of the loop before any of them could take the next
        step of its model call, so every call left at the end of the burst and every answer
        came back at once. Taking turns lets the first reviews' calls leave while later ones
        are still being read: answers arrive spread out and the first seller is answered first
        (bench/bot.py, 200 LLM drafts at once).
        """
        async with self._turns():
            await asyncio.sleep(0)  # the turn of its own: those ahead take their next step now
            review = understand(text, self.packs)
            if self.knowledge.quick:
                return review, await self.retrieve(review, self._shortlist)
        # In a thread: no need to hold the turn.
        return review, await self.retrieve(review, self._shortlist)

    @property
    def _shortlist(self) -> int:
        return RETRIEVED_CARDS if self.drafter is None else LLM_SHORTLIST

    async def retrieve(self, review: Review, k: int = RETRIEVED_CARDS) -> list[Card]:
        search = partial(search_cards, self.knowledge, review, k)
        try:
            # A model or a network call blocks: a worker thread keeps the event loop free. Hash
            # embeddings take half a millisecond of Python, which a thread would only slow down
            # (a burst of 200 reviews fought the event loop for the GIL).
            scored = search() if self.knowledge.quick else await asyncio.to_thread(search)
        except IndexUnavailableError:
            scored = await self._rebuild_then(search)
        return [item.card for item in scored]

    async def _rebuild_then(self, search: Callable[[], list[ScoredCard]]) -> list[ScoredCard]:
        """A damaged index is rebuilt from the shipped cards (once, however many drafts are
        waiting), then searched again: the seller still gets a draft."""
        async with self._rebuilding():
            try:
                return await asyncio.to_thread(search)  # another draft may have rebuilt it
            except IndexUnavailableError as error:
                # Recovered here, so a warning: the seller is not affected.
                logger.warning("rebuilding the knowledge index from the cards: %s", error)
                await asyncio.to_thread(self.knowledge.rebuild)
                return await asyncio.to_thread(search)

    async def draft(
        self,
        text: str,
        profile: SellerProfile | None = None,
        *,
        variant: int = 0,
        prior_replies: int = 0,
        engine: Literal["auto", "offline", "llm"] = "auto",
        user: str = "cli",
    ) -> Draft:
        """The finished draft (see stream_draft for the reply as it is written)."""
        pieces = self.stream_draft(
            text,
            profile,
            variant=variant,
            prior_replies=prior_replies,
            engine=engine,
            stream=False,
            user=user,
        )
        async for item in pieces:
            if isinstance(item, Draft):
                return item
        raise DraftRejectedError("no draft could be made for this review")

    async def stream_draft(
        self,
        text: str,
        profile: SellerProfile | None = None,
        *,
        variant: int = 0,
        prior_replies: int = 0,
        engine: Literal["auto", "offline", "llm"] = "auto",
        stream: bool = True,
        user: str = "cli",
    ) -> AsyncIterator[ReplyPiece | Draft]:
        """With an LLM: pieces of the public reply as the model writes them, then the final
        Draft (which may differ: a reply the guard rejects is repaired or replaced by the
        offline draft). Offline: the Draft alone."""
        profile = profile or SellerProfile()
        review, shortlist = await self._read(text)
        # The offline draft, and what a draft shows as its sources, keep to the best four.
        cards = shortlist[:RETRIEVED_CARDS]
        take_private, channel = self.advisor.take_private(review, profile, prior_replies)
        note = None
        if self.drafter is not None and engine != "offline":
            accepted: Draft | None = None
            llm_pieces = self._llm_draft(
                self.drafter,
                review,
                shortlist,
                profile,
                take_private,
                stream=stream,
                user=user,
                variant=variant,
            )
            try:
                async for item in _within(self.drafter.deadline, llm_pieces):
                    if isinstance(item, Draft):
                        accepted = item
                    else:
                        yield item
            except LLMUnavailableError:
                note = "The AI service did not answer, so this is the offline draft."
            else:
                if accepted is not None:
                    yield accepted
                    return
                note = "The AI draft broke a playbook rule twice, so this is the offline draft."
        offline = self._offline(
            review,
            cards=cards,
            profile=profile,
            take_private=take_private,
            channel=channel,
            variant=variant,
        )
        if note:
            offline.notes.append(note)
        yield offline

    async def _llm_draft(
        self,
        drafter: LLMDrafter,
        review: Review,
        shortlist: list[Card],
        profile: SellerProfile,
        take_private: TakePrivate,
        *,
        stream: bool,
        user: str,
        variant: int,
    ) -> AsyncIterator[ReplyPiece | Draft]:
        """The LLM's reply as it streams (when ``stream``), then its Draft, repaired once if the
        guard objects; no Draft at all if it still objects."""
        result = None
        if not stream:
            result = await drafter.draft(review, shortlist, profile, take_private.channel, variant)
        else:
            stream_of = drafter.stream(review, shortlist, profile, take_private.channel, variant)
            async for item in stream_of:
                if isinstance(item, str):
                    yield ReplyPiece(item)
                else:
                    result = item
        if result is None:
            return
        self.usage.add(user, result.prompt_tokens, result.completion_tokens)
        problems = output_problems(result.output, review, profile, self.packs, result.instructions)
        if problems:
            result = await drafter.repair(result, problems, review.reply_language)
            self.usage.add(user, result.prompt_tokens, result.completion_tokens)
            if output_problems(result.output, review, profile, self.packs, result.instructions):
                return
        yield self._as_draft(result.output, review, shortlist[:RETRIEVED_CARDS])

    def _as_draft(self, output: LLMDraftOutput, review: Review, cards: list[Card]) -> Draft:
        public, private = output.public_reply.strip(), output.private_message.strip()
        known = self.knowledge.cards
        notes = [
            CoachingNote(card=note.card, advice=note.advice, article=known[note.card].article)
            for note in output.coaching
            if note.card in known
        ][:4]
        if len(notes) < 2:
            notes = self.advisor.coaching(review, cards)
        return Draft(
            language=review.language,
            aspects=review.aspects,
            flags=review.flags,
            public_reply=public,
            private_message=private,
            take_private=TakePrivate(
                recommended=output.take_private.recommended,
                reason=output.take_private.reason,
                channel=output.take_private.channel,
            ),
            coaching=notes,
            sources=self.advisor.sources(notes, cards),
            engine="llm",
            tone=ToneSummary(verdict="ok", findings=[]),
        )

    def _offline(
        self,
        review: Review,
        *,
        cards: list[Card],
        profile: SellerProfile,
        take_private: TakePrivate,
        channel: Channel,
        variant: int,
    ) -> Draft:
        pack = self.packs[review.reply_language]
        for attempt in range(GUARD_ATTEMPTS):
            composition = compose(review, profile, pack, channel, variant=variant, attempt=attempt)
            findings = check_reply(
                composition.public_reply, review.reply_language, self.packs, review.personal_data
            )
            if not findings:
                break
        else:
            raise DraftRejectedError(
                "no draft passed the tone check for this review; try another --variant"
            )
        coaching = self.advisor.coaching(review, cards)
        return Draft(
            language=review.language,
            aspects=review.aspects,
            flags=review.flags,
            public_reply=composition.public_reply,
            private_message=composition.private_message,
            take_private=take_private,
            coaching=coaching,
            sources=self.advisor.sources(coaching, cards),
            engine="offline",
            tone=ToneSummary(verdict="ok", findings=[]),
        )

    async def check(
        self,
        reply: str,
        review_text: str | None = None,
        engine: Literal["auto", "offline", "llm"] = "auto",
    ) -> ToneReport:
        # Cleaned like a review: a lone surrogate (a JSON escape) would break hashing later, and
        # a reply of only invisible characters or emoji is as empty as no reply at all.
        reply = replace_surrogates(reply).strip()
        if not any(character.isalpha() for character in reply):
            raise InputError("the reply to check is empty; paste the reply you plan to post")
        language = self.packs.detector.detect(reply)
        review = understand(review_text, self.packs) if review_text else None
        personal = review.personal_data if review else []
        findings = check_reply(reply, language, self.packs, personal)
        rewrite = None
        drafter = self.drafter if engine != "offline" else None
        if review is not None and findings:
            if drafter is not None:
                rewrite = await self._llm_rewrite(drafter, reply, review, findings)
            rewrite = rewrite or self._rewrite(reply, review)
        elif findings and drafter is not None:
            await self._llm_explain(drafter, reply, language, findings)
        return ToneReport(
            language=language,
            verdict="revise" if findings else "ok",
            findings=findings,
            rewrite=rewrite,
        )

    async def _llm_rewrite(
        self, drafter: LLMDrafter, reply: str, review: Review, findings: list[Finding]
    ) -> str | None:
        """The LLM's rewrite of the seller's reply, if it passes the check; the findings' reasons
        become the LLM's plain-words explanations. None: use the offline rewrite."""
        try:
            async with asyncio.timeout(drafter.deadline):
                output = await drafter.rewrite(
                    reply, review, [(f.kind, f.excerpt) for f in findings]
                )
        except (LLMUnavailableError, TimeoutError):
            return None
        rewrite = output.rewrite.strip()
        if public_reply_problems(rewrite, review, self.packs):
            return None
        _use_explanations(findings, output.explanations)
        return rewrite

    async def _llm_explain(
        self, drafter: LLMDrafter, reply: str, language: str, findings: list[Finding]
    ) -> None:
        """The findings' reasons in the LLM's plain words; the card's reason stays otherwise."""
        try:
            async with asyncio.timeout(drafter.deadline):
                output = await drafter.explain(
                    reply, language, [(f.kind, f.excerpt) for f in findings]
                )
        except (LLMUnavailableError, TimeoutError):
            return
        _use_explanations(findings, output.explanations)

    def _rewrite(self, reply: str, review: Review) -> str:
        """The seller's clean sentences (their facts) in a reply that has every part it needs."""
        language = review.reply_language
        pack = self.packs[language]
        public = pack.phrasing["public"]
        aspect = review.aspects[0]
        kept = [
            sentence.strip()
            for sentence in _SENTENCE.findall(reply)
            if word_count(sentence) >= 4
            and not find_problems(sentence, pack, review.personal_data).keys()
            - {"no_apology", "no_solution"}
        ]
        for attempt in range(GUARD_ATTEMPTS):
            chooser = Chooser(review.text, reply, attempt)
            facts = kept[: max(0, 2 - attempt // 2)]
            parts = [
                chooser.pick("opening", public["openings"][aspect]),
                chooser.pick("apology", public["apologies"]),
                *facts,
                chooser.pick("next_step", public["next_steps"][aspect]),
                chooser.pick("invitation", public["invitations"]["message"]),
            ]
            closing = chooser.pick("signoff", public["signoffs"]).format(
                signature=signature(pack, SellerProfile())
            )
            candidate = " ".join(parts) + "\n" + closing
            if word_count(candidate) <= MAX_WORDS and not check_reply(
                candidate, language, self.packs, review.personal_data
            ):
                return candidate
        return candidate
