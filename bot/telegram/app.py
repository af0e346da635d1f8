"""Building the bot and its dispatcher from settings, and running it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand, ErrorEvent

from bot.errors import ConfigError
from bot.telegram.access import AccessMiddleware, RateLimiter
from bot.telegram.flood import RetryAfterMiddleware
from bot.telegram.handlers import build_router
from bot.telegram.joiner import ReviewJoiner
from bot.telegram.render import plain
from bot.telegram.texts import LANGUAGES, Texts

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bot.config import Settings
    from bot.engine.service import CoachEngine

logger = logging.getLogger(__name__)

NO_TOKEN = (
    "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), then "
    "run: TELEGRAM_BOT_TOKEN=<token> complaint-coach run. To try it without Telegram: "
    'complaint-coach draft "the review text"'
)


def build_bot(token: str, api_base: str | None = None) -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    )
    session.middleware(RetryAfterMiddleware())
    return Bot(
        token=token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


def build_dispatcher(
    engine: CoachEngine,
    texts: Texts,
    *,
    allowed_users: Iterable[int] = (),
    limiter: RateLimiter | None = None,
) -> Dispatcher:
    """Dependencies reach handlers as workflow data; routers are made for this dispatcher."""
    dispatcher = Dispatcher(engine=engine, texts=texts, joiner=ReviewJoiner())
    dispatcher.update.outer_middleware(
        AccessMiddleware(allowed_users, limiter or RateLimiter(per_minute=10, per_day=200))
    )
    dispatcher.include_router(build_router())
    dispatcher.errors.register(_on_error)
    return dispatcher


async def _on_error(event: ErrorEvent, texts: Texts) -> bool:
    """The one place unexpected errors end: logged with the update id (never the review text),
    and the seller told in one sentence."""
    logger.error("update %s failed: %s", event.update.update_id, type(event.exception).__name__)
    message = event.update.message
    if message is not None:
        language = message.from_user.language_code if message.from_user else None
        await message.answer(plain(texts.get(language, "problem")))
    return True


async def set_commands(bot: Bot, texts: Texts) -> None:
    for language in LANGUAGES:
        commands = texts.get(language, "commands")
        await bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in commands.items()],
            language_code=None if language == "en" else language,
        )


async def run_polling(settings: Settings, engine: CoachEngine) -> None:
    token = settings.telegram.bot_token
    if token is None:
        raise ConfigError(NO_TOKEN)
    bot = build_bot(token.get_secret_value(), settings.telegram.api_base)
    texts = Texts()
    await set_commands(bot, texts)
    coach = settings.coach
    limiter = RateLimiter(per_minute=coach.rate_per_minute, per_day=coach.rate_per_day)
    dispatcher = build_dispatcher(engine, texts, allowed_users=coach.allowed_users, limiter=limiter)
    await dispatcher.start_polling(bot)
