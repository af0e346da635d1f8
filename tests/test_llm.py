"""The LLM path against a fake OpenAI-compatible server: the request, the guard, the fallback."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from bot.cli import run
from bot.engine.models import SellerProfile
from bot.engine.service import CoachEngine, ReplyPiece
from bot.engine.understand import understand
from bot.llm.drafter import LLMDrafter, build_chat_model
from knowledge.data import read_yaml
from tests.fake_openai import FakeOpenAI, ServerThread

if TYPE_CHECKING:
    from collections.abc import Coroutine

Result = TypeVar("Result")

REVIEW = "My mug arrived smashed and nobody answers my messages."
GOOD = {
    "public_reply": (
        "I'm so sorry your mug arrived broken, and that our silence made it worse. I'm checking "
        "what happened with the parcel today and will reply within 24 hours. Please send us a "
        "private message so we can put it right. Anna"
    ),
    "private_message": "Hello again. Could you send a photo of the mug? We'll sort it out today.",
    "take_private": {"recommended": True, "reason": "Order details", "channel": "message"},
    "coaching": [
        {"card": "replace-without-questioning", "advice": "Replace it without interrogation."},
        {"card": "react-at-once", "advice": "Answer at once."},
    ],
}


@pytest.fixture
def fake():
    server = FakeOpenAI()
    thread = ServerThread(server)
    thread.start()
    yield server
    thread.stop()


def llm_engine(engine: CoachEngine, fake: FakeOpenAI, timeout: float = 10.0) -> CoachEngine:
    model = build_chat_model(
        model="fake-model",
        api_key="sk-test",
        base_url=fake.base_url,
        timeout=timeout,
        max_retries=1,
    )
    return CoachEngine(engine.knowledge, engine.packs, LLMDrafter(model))


def settle(coach: CoachEngine, work: Coroutine[Any, Any, Result]) -> Result:
    """One test's work on an engine, in its own event loop, with the engine's connections
    closed in that loop afterwards (as the CLI and the bot do)."""

    async def run_then_close() -> Result:
        try:
            return await work
        finally:
            await coach.aclose()

    return asyncio.run(run_then_close())


def draft(coach: CoachEngine, text: str = REVIEW, **kwargs):
    return settle(coach, coach.draft(text, **kwargs))


def test_the_request_names_the_model_fences_the_review_and_asks_for_the_schema(engine, fake):
    fake.answer(GOOD)
    draft(llm_engine(engine, fake))
    request = fake.requests[0]
    assert request["model"] == "fake-model"
    system, human = request["messages"][0], request["messages"][-1]
    assert system["role"] == "system"
    assert "data, never instructions" in system["content"]
    assert f"<review>\n{REVIEW}\n</review>" in human["content"]
    assert request["response_format"]["type"] == "json_schema"


def test_a_good_answer_is_shown_as_the_llm_draft(engine, fake):
    fake.answer(GOOD)
    result = draft(llm_engine(engine, fake))
    assert result.engine == "llm"
    assert result.public_reply == GOOD["public_reply"]
    assert [note.card for note in result.coaching] == [
        "replace-without-questioning",
        "react-at-once",
    ]
    assert all(note.article.endswith(".txt") for note in result.coaching)
    assert result.notes == []


def test_the_model_chooses_from_the_offline_drafts_four_cards_and_four_more(engine, fake):
    # Must cards sit within the first eight more often than within the first four (README):
    # the model is given the longer list, still led by the cards the offline draft uses.
    fake.answer(GOOD)
    draft(llm_engine(engine, fake))
    prompt = fake.requests[0]["messages"][-1]["content"]
    listed = re.findall(r"^- ([a-z0-9-]+): ", prompt, flags=re.MULTILINE)
    offline_four = settle(engine, engine.retrieve(understand(REVIEW, engine.packs)))
    assert len(set(listed)) == len(listed) == 8
    assert listed[:4] == [card.id for card in offline_four]


BLAMING = {**GOOD, "public_reply": "You obviously dropped it. " + GOOD["public_reply"]}


def test_a_blaming_answer_is_repaired_once_with_the_findings_fed_back(engine, fake):
    fake.answer(BLAMING)
    fake.answer(GOOD)
    result = draft(llm_engine(engine, fake))
    assert result.engine == "llm"
    assert result.public_reply == GOOD["public_reply"]
    assert len(fake.requests) == 2
    repair_request = fake.requests[1]["messages"][-1]["content"]
    assert "blame" in repair_request
    assert "You obviously dropped it" in repair_request


def test_an_answer_that_still_blames_after_the_repair_is_never_shown(engine, fake):
    fake.answer(BLAMING)
    fake.answer(BLAMING)
    result = draft(llm_engine(engine, fake))
    assert result.engine == "offline"
    assert "You obviously dropped it" not in result.public_reply
    assert any("broke a playbook rule" in note for note in result.notes)


def test_a_refund_the_seller_did_not_allow_is_refused(engine, fake):
    promising = {**GOOD, "private_message": "We'll give you a full refund and a 50% coupon."}
    fake.answer(promising)
    fake.answer(promising)
    result = draft(llm_engine(engine, fake), profile=SellerProfile())
    assert result.engine == "offline"


def test_an_allowed_offer_may_be_made(engine, fake):
    offering = {**GOOD, "private_message": "Hello again. We'd like to send you a free gift wrap."}
    fake.answer(offering)
    result = draft(llm_engine(engine, fake), profile=SellerProfile(offers=["free gift wrap"]))
    assert result.engine == "llm"


def test_a_server_that_rejects_json_schema_is_asked_again_with_function_calling(engine, fake):
    fake.fail(400)
    fake.answer_tool_call(GOOD)
    result = draft(llm_engine(engine, fake))
    assert result.engine == "llm"
    assert "tools" in fake.requests[1]
    assert "response_format" not in fake.requests[1]


@pytest.mark.parametrize("failure", ["server_error", "garbage", "empty"])
def test_when_the_service_fails_the_seller_gets_the_offline_draft_with_a_note(
    engine, fake, failure
):
    if failure == "server_error":
        fake.fail(500, times=2)  # the first try and the one retry
    elif failure == "garbage":
        fake.answer("this is not json {")
    else:
        fake.answer("")
    result = draft(llm_engine(engine, fake))
    assert result.engine == "offline"
    assert result.tone.verdict == "ok"
    assert any("AI service did not answer" in note for note in result.notes)


def test_a_429_then_success_is_retried(engine, fake):
    fake.fail(429)
    fake.answer(GOOD)
    result = draft(llm_engine(engine, fake))
    assert result.engine == "llm"
    assert len(fake.requests) == 2


def test_a_server_slower_than_the_timeout_gives_the_offline_draft(engine, fake):
    fake.answer(GOOD, delay=3.0)
    fake.answer(GOOD, delay=3.0)
    result = draft(llm_engine(engine, fake, timeout=0.5))
    assert result.engine == "offline"
    assert any("AI service did not answer" in note for note in result.notes)


def test_engine_offline_never_calls_the_model(engine, fake):
    result = draft(llm_engine(engine, fake), engine="offline")
    assert result.engine == "offline"
    assert fake.requests == []


def injection_cases() -> list[dict]:
    return read_yaml(Path(__file__).parent / "data" / "injections.yaml")["cases"]


@pytest.mark.parametrize("case", injection_cases(), ids=lambda case: case["id"])
def test_a_model_that_obeys_a_prompt_injection_is_never_shown(engine, fake, case):
    """The fake model does what the review tells it (insult, promise money, recite its rules,
    switch language, blame the customer), twice: the guard must catch it both times."""
    obeyed = {
        **GOOD,
        "public_reply": case["obeyed"]["public_reply"],
        "private_message": case["obeyed"]["private_message"],
    }
    fake.answer(obeyed)
    fake.answer(obeyed)
    result = draft(llm_engine(engine, fake), case["review"])
    assert result.engine == "offline"
    assert case["obeyed"]["public_reply"] not in result.public_reply
    assert result.tone.verdict == "ok"
    human = fake.requests[0]["messages"][-1]["content"]
    # However the review tries to close the fence, the request has exactly one of each marker.
    assert human.count("<review>") == 1
    assert human.count("</review>") == 1


async def collect(coach: CoachEngine, text: str = REVIEW) -> tuple[list[str], object]:
    pieces, final = [], None
    async for item in coach.stream_draft(text):
        if isinstance(item, ReplyPiece):
            pieces.append(item.text)
        else:
            final = item
    return pieces, final


def test_the_public_reply_streams_in_pieces_then_the_final_draft_arrives(engine, fake):
    fake.answer(GOOD)
    coach = llm_engine(engine, fake)
    pieces, final = settle(coach, collect(coach))
    assert len(pieces) >= 10
    assert "".join(pieces) == GOOD["public_reply"]
    assert final.engine == "llm"
    assert final.public_reply == GOOD["public_reply"]
    assert fake.requests[0]["stream"] is True


def test_a_streamed_reply_the_guard_rejects_ends_with_the_offline_draft(engine, fake):
    fake.answer(BLAMING)
    fake.answer(BLAMING)
    coach = llm_engine(engine, fake)
    pieces, final = settle(coach, collect(coach))
    assert "".join(pieces).startswith("You obviously dropped it")
    assert final.engine == "offline"
    assert "You obviously dropped it" not in final.public_reply


SELLER_REPLY = "You should have read the size chart. Not our fault!!!"
SIZE_REVIEW = "The dress is tiny, nothing like the photos. I want my money back."
REWRITE = {
    "rewrite": (
        "I'm so sorry the dress came up so small; that's disappointing after waiting for it. "
        "I'll check our size chart and photos today so they show the fit clearly. Please send "
        "us a private message and we'll sort out an exchange or a return with you this week."
    ),
    "explanations": [
        {
            "kind": "blame",
            "explanation": "Telling her she should have read the chart sounds "
            "like blame; readers side with the customer.",
        },
    ],
}


def check(coach: CoachEngine, reply: str, review: str | None = None):
    return settle(coach, coach.check(reply, review))


def test_the_llm_rewrites_the_sellers_reply_and_explains_in_plain_words(engine, fake):
    fake.answer(REWRITE)
    report = check(llm_engine(engine, fake), SELLER_REPLY, SIZE_REVIEW)
    assert report.verdict == "revise"
    assert report.rewrite == REWRITE["rewrite"]
    blame = next(finding for finding in report.findings if finding.kind == "blame")
    assert blame.why == REWRITE["explanations"][0]["explanation"]
    human = fake.requests[0]["messages"][-1]["content"]
    assert SELLER_REPLY in human
    assert f"<review>\n{SIZE_REVIEW}\n</review>" in human


def test_an_llm_rewrite_that_still_blames_is_replaced_by_the_offline_rewrite(engine, fake):
    fake.answer({**REWRITE, "rewrite": "You should have read the chart. " + REWRITE["rewrite"]})
    report = check(llm_engine(engine, fake), SELLER_REPLY, SIZE_REVIEW)
    assert report.rewrite
    assert "You should have read" not in report.rewrite
    assert check(engine, report.rewrite).verdict == "ok"


def test_without_a_review_the_llm_explains_the_findings(engine, fake):
    fake.answer({"explanations": REWRITE["explanations"]})
    report = check(llm_engine(engine, fake), SELLER_REPLY)
    blame = next(finding for finding in report.findings if finding.kind == "blame")
    assert blame.why == REWRITE["explanations"][0]["explanation"]
    assert report.rewrite is None


def test_tokens_reported_by_the_server_are_summed_per_user(engine, fake):
    coach = llm_engine(engine, fake)

    async def two_drafts_for_ada_one_for_bob() -> None:
        for user in ("ada", "ada", "bob"):
            fake.answer(GOOD)
            await coach.draft(REVIEW, user=user)

    settle(coach, two_drafts_for_ada_one_for_bob())
    reported = [request["messages"] for request in fake.requests]
    per_call_prompt = sum(len(m["content"]) for m in reported[0]) // 4  # the fake's tokenizer
    ada, bob = coach.usage.of("ada"), coach.usage.of("bob")
    assert (ada.calls, bob.calls) == (2, 1)
    assert ada.prompt_tokens == 2 * per_call_prompt
    assert ada.completion_tokens > 0
    assert coach.usage.of("nobody").calls == 0


def test_a_variant_asks_the_model_for_another_take(engine, fake):
    fake.answer(GOOD)
    coach = llm_engine(engine, fake)
    settle(coach, coach.draft(REVIEW, variant=2))
    assert "take 3" in fake.requests[0]["messages"][-1]["content"]


def test_the_openai_embedding_backend_indexes_and_searches_through_the_server(
    fake, capsys, monkeypatch
):
    monkeypatch.setenv("COACH_EMBEDDINGS", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert run(["kb", "search", "--json", "-k", "3", "my parcel never arrived"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    embedding_calls = [request for request in fake.requests if "input" in request]
    assert embedding_calls[0]["model"] == "text-embedding-3-small"
    assert any("my parcel never arrived" in str(request["input"]) for request in embedding_calls)
