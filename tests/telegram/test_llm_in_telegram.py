"""The LLM path in Telegram: the reply grows on screen as the fake model streams it, then the
finished draft arrives with its buttons; when the model fails, the offline draft says so."""

from __future__ import annotations

import html

import pytest

from bot.engine.service import CoachEngine
from bot.llm.drafter import LLMDrafter, build_chat_model
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


async def test_when_the_model_fails_the_offline_draft_arrives_with_a_note(llm_bot, model_server):
    model_server.fail(500, times=4)
    llm_bot.user_sends("My mug arrived smashed and nobody answers my messages.")
    (final,) = await llm_bot.wait_for_messages(1)
    assert "<pre>" in final["text"]
    assert "offline draft" in final["text"]
    assert FakeTelegram.buttons(final)
