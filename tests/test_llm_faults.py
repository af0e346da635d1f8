"""Every way the LLM service fails, injected: the seller always gets the offline draft with a
note, and never waits longer than the configured time budget (plus 2 s of slack)."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from bot.engine.models import Draft
from bot.engine.service import CoachEngine, ReplyPiece
from bot.llm.drafter import LLMDrafter, build_chat_model
from tests.fake_openai import FakeOpenAI
from tests.test_llm import GOOD, REVIEW, fake  # noqa: F401 - the fake server fixture

BUDGET = 2.0


def coach(engine: CoachEngine, base_url: str) -> CoachEngine:
    model = build_chat_model(
        model="fake-model", api_key="sk-test", base_url=base_url, timeout=BUDGET, max_retries=2
    )
    return CoachEngine(engine.knowledge, engine.packs, LLMDrafter(model, deadline=BUDGET))


async def streamed(engine: CoachEngine) -> tuple[list[ReplyPiece], Draft, float]:
    started = time.monotonic()
    pieces, final = [], None
    try:
        async for item in engine.stream_draft(REVIEW):
            if isinstance(item, Draft):
                final = item
            else:
                pieces.append(item)
    finally:
        await engine.aclose()
    assert final is not None
    return pieces, final, time.monotonic() - started


def assert_offline_in_time(draft: Draft, elapsed: float) -> None:
    assert draft.engine == "offline"
    assert draft.tone.verdict == "ok"
    assert any("offline draft" in note for note in draft.notes)
    assert elapsed <= BUDGET + 2.0, f"the seller waited {elapsed:.1f} s"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def test_a_server_that_refuses_connections(engine):
    _, draft, elapsed = asyncio.run(streamed(coach(engine, f"http://127.0.0.1:{closed_port()}/v1")))
    assert_offline_in_time(draft, elapsed)


@pytest.mark.parametrize(
    "fault",
    ["answers_after_the_timeout", "429", "429_retry_after_30s", "500", "invalid_json"],
)
def test_a_failing_server(engine, fake, fault):  # noqa: F811 - pytest fixture by name
    if fault == "answers_after_the_timeout":
        for _ in range(3):
            fake.answer(GOOD, delay=BUDGET + 5)
    elif fault == "429":
        fake.fail(429, times=3)
    elif fault == "429_retry_after_30s":
        fake.fail(429, times=3, retry_after=30)
    elif fault == "500":
        fake.fail(500, times=3)
    else:
        fake.answer("{'public_reply': unterminated")
    _, draft, elapsed = asyncio.run(streamed(coach(engine, fake.base_url)))
    assert_offline_in_time(draft, elapsed)


def test_a_stream_dropped_halfway(engine, fake: FakeOpenAI):  # noqa: F811
    fake.chunk_size = 10
    fake.drop_stream_after = 60
    fake.answer(GOOD)
    pieces, draft, elapsed = asyncio.run(streamed(coach(engine, fake.base_url)))
    assert pieces, "the first part of the reply was shown before the connection dropped"
    assert_offline_in_time(draft, elapsed)


def test_a_budget_long_enough_lets_a_slow_good_answer_through(engine, fake):  # noqa: F811
    fake.answer(GOOD, delay=BUDGET / 2)
    _, draft, _ = asyncio.run(streamed(coach(engine, fake.base_url)))
    assert draft.engine == "llm"
