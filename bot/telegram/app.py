"""Building the bot and its dispatcher from settings, and running it (long polling or webhooks)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, Chat, ErrorEvent, User

from bot.desk import CoachingDesk
from bot.errors import CoachError, MissingTokenError
from bot.storage.database import Storage
from bot.telegram.access import AllowlistMiddleware, RateLimiter, RateLimitMiddleware
from bot.telegram.handlers import build_router
from bot.telegram.inbox import REPLICA_LEASE_SECONDS, Inbox
from bot.telegram.joiner import ReviewJoiner
from bot.telegram.render import plain
from bot.telegram.session import build_session
from bot.telegram.texts import LANGUAGES, Texts
from bot.telegram.workload import Workload

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from aiogram.fsm.storage.base import BaseStorage

    from bot.config import Settings
    from bot.engine.service import CoachEngine

logger = logging.getLogger(__name__)

DATABASE_FILE = "bot.sqlite3"
# Updates handled at once. Above the largest burst of LLM drafts worth waiting on together (a
# lower cap would queue model calls behind each other), below the point where a flood of queued
# reviews would all be held in memory at once.
MAX_UPDATES_IN_FLIGHT = 256
# Seconds after start-up at which every language's matchers start compiling in the background.
COMPILE_MATCHERS_AFTER = 1.0


def build_bot(token: str, api_base: str | None = None) -> Bot:
    return Bot(
        token=token,
        session=build_session(api_base),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_fsm_storage(redis_url: str | None) -> BaseStorage:
    """Conversation state (/check, /profile answers): in memory for one process; in Redis when
    several replicas share the work, so a reply may reach any of them."""
    if redis_url is None:
        return MemoryStorage()
    from aiogram.fsm.storage.redis import RedisStorage  # noqa: PLC0415 - only with REDIS_URL

    return RedisStorage.from_url(redis_url)


def build_dispatcher(
    desk: CoachingDesk,
    texts: Texts,
    *,
    allowed_users: Iterable[int] = (),
    limiter: RateLimiter | None = None,
    fsm_storage: BaseStorage | None = None,
    replica_lease: float | None = None,
) -> Dispatcher:
    """Dependencies reach handlers as workflow data; routers are made for this dispatcher.
    ``replica_lease``: set when replicas share the database (webhooks), see bot.telegram.inbox."""
    workload = Workload()
    dispatcher = Dispatcher(
        storage=fsm_storage or MemoryStorage(),
        desk=desk,
        texts=texts,
        joiner=ReviewJoiner(),
        workload=workload,
    )
    dispatcher.update.outer_middleware(workload)
    dispatcher.update.outer_middleware(AllowlistMiddleware(allowed_users))
    inbox = Inbox(desk.storage, replica_lease)
    dispatcher.update.outer_middleware(inbox)
    dispatcher.startup.register(inbox.redeliver)
    dispatcher.shutdown.register(inbox.stop)
    dispatcher.startup.register(_start_compiling_matchers)
    rate_limit = RateLimitMiddleware(limiter or RateLimiter(per_minute=10, per_day=200))
    dispatcher.message.middleware(rate_limit)
    dispatcher.callback_query.middleware(rate_limit)
    dispatcher.include_router(build_router())
    dispatcher.errors.register(_on_error)
    return dispatcher


async def _start_compiling_matchers(desk: CoachingDesk) -> None:
    """The matchers compile in the background from a moment after start, rather than before
    the bot polls; the first answer compiles only its own language's (0.15 s of the half
    second): 4.65 -> 4.52 s median from start to the first answer over five interleaved starts,
    5.04 -> 4.52 s at worst. Started at once, they compiled in the turns of start-up's own Bot
    API calls and delayed the first poll by as much."""
    loop = asyncio.get_running_loop()
    loop.call_later(COMPILE_MATCHERS_AFTER, desk.engine.start_compiling_matchers)


async def _on_error(
    event: ErrorEvent,
    bot: Bot,
    texts: Texts,
    event_chat: Chat | None = None,
    event_from_user: User | None = None,
) -> bool:
    """The one place errors end. A CoachError carries a sentence for the seller (an empty
    review, a draft that is gone); anything else is logged with the update id, never the
    review text, and the seller gets a one-line apology. aiogram's user context says where
    the update came from, whatever its type."""
    update = event.update
    error = event.exception
    if isinstance(error, CoachError):
        sentence = str(error)
        logger.info("update %s: %s", update.update_id, type(error).__name__)
    else:
        logger.error("update %s failed: %s", update.update_id, type(error).__name__, exc_info=error)
        sentence = None
    if event_chat is None or event_from_user is None:
        return True
    try:
        await bot.send_message(
            event_chat.id, plain(sentence or texts.get(event_from_user.language_code, "problem"))
        )
    except TelegramAPIError as send_error:
        # Telegram itself is failing; the next update may fare better. Logged, not raised.
        logger.warning(
            "update %s: could not tell the user: %s", update.update_id, type(send_error).__name__
        )
    return True


async def set_commands(bot: Bot, texts: Texts) -> None:
    for language in LANGUAGES:
        commands = texts.get(language, "commands")
        await bot.set_my_commands(
            [BotCommand(command=name, description=text) for name, text in commands.items()],
            language_code=None if language == "en" else language,
        )


@asynccontextmanager
async def running_bot(
    settings: Settings, engine: CoachEngine, *, replica_lease: float | None = None
) -> AsyncIterator[tuple[Bot, Dispatcher]]:
    """The bot, its dispatcher and its database, closed again on the way out."""
    token = settings.telegram.bot_token
    if token is None:
        raise MissingTokenError
    coach = settings.coach
    storage = await Storage.open(coach.data_dir / DATABASE_FILE)
    bot = build_bot(token.get_secret_value(), settings.telegram.api_base)
    redis_url = coach.redis_url.get_secret_value() if coach.redis_url else None
    fsm_storage = build_fsm_storage(redis_url)
    try:
        texts = Texts()
        dispatcher = build_dispatcher(
            CoachingDesk(engine, storage),
            texts,
            allowed_users=coach.allowed_users,
            limiter=RateLimiter(per_minute=coach.rate_per_minute, per_day=coach.rate_per_day),
            fsm_storage=fsm_storage,
            replica_lease=replica_lease,
        )
        await set_commands(bot, texts)
        yield bot, dispatcher
    finally:
        await fsm_storage.close()
        await bot.session.close()
        await storage.close()
        await engine.aclose()


async def run_polling(settings: Settings, engine: CoachEngine) -> None:
    async with running_bot(settings, engine) as (bot, dispatcher):
        await dispatcher.start_polling(
            bot, close_bot_session=False, tasks_concurrency_limit=MAX_UPDATES_IN_FLIGHT
        )


async def run_webhook(settings: Settings, engine: CoachEngine, url: str, listen: str) -> None:
    """Serve Telegram's webhook calls at ``url``'s path on ``listen`` (host:port), behind a
    TLS-terminating proxy or load balancer; several replicas can share one bot this way."""
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application  # noqa: PLC0415
    from aiohttp import web  # noqa: PLC0415

    host, _, port = listen.rpartition(":")
    secret = settings.telegram.webhook_secret
    secret_token = secret.get_secret_value() if secret else None
    # Replicas may share the database: held updates are taken over only past their lease.
    async with running_bot(settings, engine, replica_lease=REPLICA_LEASE_SECONDS) as (
        bot,
        dispatcher,
    ):
        application = web.Application()
        handler = SimpleRequestHandler(dispatcher, bot, secret_token=secret_token)
        handler.register(application, path=urlsplit(url).path or "/")
        setup_application(application, dispatcher, bot=bot)
        runner = web.AppRunner(application)
        await runner.setup()
        try:
            # Listening first, then telling Telegram: an update sent the moment the webhook is
            # set would otherwise find nothing listening yet.
            await web.TCPSite(runner, host or "0.0.0.0", int(port)).start()
            await bot.set_webhook(
                url,
                secret_token=secret_token,
                allowed_updates=dispatcher.resolve_used_update_types(),
            )
            logger.info("webhook server listening on %s for %s", listen, urlsplit(url).netloc)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
