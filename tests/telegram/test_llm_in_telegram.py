"""The LLM path in Telegram: the reply grows on screen as the fake model streams it, then the
finished draft arrives with its buttons; when the model fails, the offline draft says so."""

from __future__ import annotations

import html

import pytest

from bot.engine.service import CoachEngine
from bot.llm.drafter import LLMDrafter, build_chat_model
from bot.telegram.drafting import TYPING_AFTER
from bot.telegram.workload import STREAMING_LIMIT
from tests.fake_openai import FakeOpenAI, ServerThread
from tests.fake_telegram import FakeTelegram
from tests.telegram.conftest import BotProcess
from tests.test_llm import GOOD


@pytest.fixture
def model_server():
    server = FakeOpenAI(chunk_size=12, chunk_delay=0.04)
    thread = ServerThread(server)
    thread.start()
    yield server
    thread.stop()


@pytest.fixture
async def llm_bot(telegram, engine, model_server, isolated_env):
    model = build_chat_model(
        model="fake-model", api_key="sk-test", base_url=model_server.base_url, timeout=5.0
    )
    coach = CoachEngine(engine.knowledge, engine.packs, LLMDrafter(model))
    process = BotProcess(telegram, coach, isolated_env)
    await process.start()
    yield telegram
    await process.stop()
    await coach.aclose()


async def test_the_reply_streams_as_drafts_then_the_final_message_has_the_buttons(
    llm_bot, model_server
):
    model_server.answer(GOOD)
    llm_bot.user_sends("My mug arrived smashed and nobody answers my messages.")
    (final,) = await llm_bot.wait_for_messages(1)
    reply = GOOD["public_reply"]
    assert html.escape(reply, quote=False) in final["text"]
    assert FakeTelegram.buttons(final)
    previews = llm_bot.drafts
    assert len(previews) >= 2, "the reply was shown growing, not only at the end"
    assert len({preview["draft_id"] for preview in previews}) == 1
    shown = [html.unescape(p["text"].split("<pre>")[1].split("</pre>")[0]) for p in previews]
    assert all(reply.startswith(text) for text in shown)
    assert len(shown[-1]) > len(shown[0])


async def test_a_slow_model_shows_typing_before_the_draft(llm_bot, model_server):
    model_server.answer(GOOD, delay=TYPING_AFTER + 0.5)
    llm_bot.user_sends("My mug arrived smashed and nobody answers my messages.")
    await llm_bot.wait_for_messages(1)
    calls = llm_bot.calls
    assert "sendChatAction" in calls
    assert calls.index("sendChatAction") < calls.index("sendMessage")


async def test_when_the_model_fails_the_offline_draft_arrives_with_a_note(llm_bot, model_server):
    model_server.fail(500, times=4)
    llm_bot.user_sends("My mug arrived smashed and nobody answers my messages.")
    (final,) = await llm_bot.wait_for_messages(1)
    assert "<pre>" in final["text"]
    assert "offline draft" in final["text"]
    assert FakeTelegram.buttons(final)


async def test_under_a_burst_drafts_come_whole_and_sooner_without_the_live_preview(
    llm_bot, model_server
):
    """A streamed answer costs about ten times the CPU of a whole one: when many sellers write
    at once, each gets the finished draft, with no preview."""
    sellers = STREAMING_LIMIT + 4
    for _ in range(sellers):
        model_server.answer(GOOD)
    for user_id in range(1, sellers + 1):
        llm_bot.user_sends(
            "My mug arrived smashed and nobody answers my messages.", user_id=user_id
        )
    finals = await llm_bot.wait_for_messages(sellers)
    assert {int(final["chat_id"]) for final in finals} == set(range(1, sellers + 1))
    assert all(html.escape(GOOD["public_reply"], quote=False) in f["text"] for f in finals)
    previewed = {int(preview["chat_id"]) for preview in llm_bot.drafts}
    assert len(previewed) <= STREAMING_LIMIT


async def test_under_a_burst_slow_drafts_send_no_typing_action_each(llm_bot, model_server):
    """Two hundred "typing" actions in one second would be two hundred Bot API calls when the
    drafts themselves are waiting to go out; the quiet case is the test above."""
    sellers = STREAMING_LIMIT + 4
    for _ in range(sellers):
        model_server.answer(GOOD, delay=TYPING_AFTER + 0.3)
    for user_id in range(1, sellers + 1):
        llm_bot.user_sends(
            "My mug arrived smashed and nobody answers my messages.", user_id=user_id
        )
    await llm_bot.wait_for_messages(sellers)
    assert llm_bot.calls.count("sendChatAction") <= STREAMING_LIMIT
