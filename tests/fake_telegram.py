"""A fake Telegram Bot API on 127.0.0.1 that plays a user: it queues updates, answers getUpdates
with real long polling, records what the bot sends, and checks every text is valid Telegram HTML.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                "blockquote", "tg-spoiler", "span", "tg-emoji"}  # fmt: skip


class TelegramHTMLError(ValueError):
    pass


class _Validator(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in ALLOWED_TAGS:
            raise TelegramHTMLError(f"tag <{tag}> is not allowed")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise TelegramHTMLError(f"</{tag}> does not close the open tag")

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            raise TelegramHTMLError(f"entity &{name}; is not supported")

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise TelegramHTMLError("unescaped < or > in text")


def validate_html(text: str) -> None:
    validator = _Validator()
    validator.feed(text)
    validator.close()
    if validator.stack:
        raise TelegramHTMLError(f"unclosed tags: {validator.stack}")
    if "&" in text.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "").replace(
        "&quot;", ""
    ):
        raise TelegramHTMLError("unescaped &")


def _checked_text(data: dict[str, Any]) -> str:
    """What Telegram checks before accepting a text: its length and, in HTML mode, its markup."""
    text = str(data.get("text", ""))
    if data.get("parse_mode") == "HTML":
        validate_html(text)
    if len(text) > 4096:
        raise TelegramHTMLError("message is too long")
    return text


def _error(code: int, description: str) -> web.Response:
    """A Telegram-shaped error answer."""
    body = {"ok": False, "error_code": code, "description": description}
    return web.json_response(body, status=code)


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-TOKEN"
    sent: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # Updates not yet confirmed by the bot (getUpdates with a higher offset confirms them), as
    # Telegram keeps them: a poll that dies mid-way loses nothing.
    pending: list[dict[str, Any]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    # sendMessage answers 429 "retry after 1" this many times before accepting (flood control).
    flood_sends: int = 0
    # sendMessage answers 500 this many times (Telegram having a bad moment).
    failing_sends: int = 0
    # The connection is dropped without an answer this many times, on getUpdates / sendMessage.
    reset_polls: int = 0
    reset_sends: int = 0
    # Seconds sendMessage takes to answer.
    send_delay: float = 0.0
    # Streamed previews (sendMessageDraft), edits, and button-press answers, as the bot sent them.
    drafts: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    rejected: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def user_sends(
        self, text: str | None = None, *, user_id: int = 42, language: str = "en", **content: Any
    ) -> None:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Seller",
                "language_code": language,
            },
            **content,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._queue({"update_id": next(self._ids), "message": message})

    def user_presses(
        self,
        callback_data: str,
        *,
        user_id: int = 42,
        language: str = "en",
        chat_id: int | None = None,
        message_id: int = 1,
    ) -> None:
        """A press on an inline button under message ``message_id`` in ``chat_id`` (the user's
        private chat unless said otherwise: a forwarded message may sit in someone else's)."""
        user = {"id": user_id, "is_bot": False, "first_name": "Seller", "language_code": language}
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id or user_id, "type": "private"},
            "from": {"id": 123456, "is_bot": True, "first_name": "Coach"},
            "text": "(a draft)",
        }
        query = {
            "id": str(next(self._ids)),
            "from": user,
            "chat_instance": "1",
            "message": message,
            "data": callback_data,
        }
        self._queue({"update_id": next(self._ids), "callback_query": query})

    def _queue(self, update: dict[str, Any]) -> None:
        self.pending.append(update)
        self._arrived.set()

    @staticmethod
    def buttons(sent: dict[str, Any]) -> dict[str, str]:
        """Label -> callback data of the inline keyboard under a sent message."""
        markup = sent.get("reply_markup") or {}
        return {
            button["text"]: button["callback_data"]
            for row in markup.get("inline_keyboard", [])
            for button in row
        }

    async def wait_for_messages(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages, got {len(self.sent)}")
            await asyncio.sleep(0.02)
        return self.sent

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        data = (
            dict(await request.post())
            if request.content_type != "application/json"
            else (await request.json())
        )
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        if method == "sendMessage" and (flooded := await self._flood()) is not None:
            return flooded
        if method == "sendMessage" and self.failing_sends > 0:
            self.failing_sends -= 1
            return _error(500, "Internal Server Error")
        if self._should_reset(method):
            # A connection reset: the socket closes with no answer and nothing was done.
            request.transport.close()  # type: ignore[union-attr]
            raise ConnectionResetError
        if method == "sendMessage" and self.send_delay:
            await asyncio.sleep(self.send_delay)
        try:
            result = await handler(data)
        except TelegramHTMLError as error:
            # As Telegram does: the request is refused with 400; tests assert none were.
            self.rejected.append(f"{method}: {error}")
            return _error(400, f"Bad Request: can't parse entities: {error}")
        return web.json_response({"ok": True, "result": result})

    def _should_reset(self, method: str) -> bool:
        if method == "getUpdates" and self.reset_polls > 0:
            self.reset_polls -= 1
            return True
        if method == "sendMessage" and self.reset_sends > 0:
            self.reset_sends -= 1
            return True
        return False

    async def _getMe(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"id": 123456, "is_bot": True, "first_name": "Coach", "username": "coach_bot"}

    async def _deleteWebhook(self, data: dict[str, Any]) -> bool:
        return True

    async def _setMyCommands(self, data: dict[str, Any]) -> bool:
        return True

    async def _sendChatAction(self, data: dict[str, Any]) -> bool:
        return True

    async def _getUpdates(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(data.get("offset") or 0)
        limit = int(data.get("limit") or 100)
        deadline = time.monotonic() + max(float(data.get("timeout") or 0), 0.01)
        self.pending = [update for update in self.pending if update["update_id"] >= offset]
        while not self.pending:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
            except TimeoutError:
                return []
        return self.pending[:limit]

    async def _flood(self) -> web.Response | None:
        if self.flood_sends > 0:
            self.flood_sends -= 1
            body = {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            return web.json_response(body, status=429)
        return None

    async def _sendMessage(self, data: dict[str, Any]) -> dict[str, Any]:
        text = _checked_text(data)
        if isinstance(data.get("reply_markup"), str):
            data["reply_markup"] = json.loads(data["reply_markup"])
        self.sent.append(data)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": int(data["chat_id"]), "type": "private"},
            "text": text,
        }

    async def _sendMessageDraft(self, data: dict[str, Any]) -> bool:
        if int(data.get("draft_id", 0)) == 0:
            raise TelegramHTMLError("draft_id must be non-zero")
        _checked_text(data)
        self.drafts.append(data)
        return True

    async def _editMessageText(self, data: dict[str, Any]) -> dict[str, Any]:
        text = _checked_text(data)
        self.edits.append(data)
        return {
            "message_id": int(data["message_id"]),
            "date": int(time.time()),
            "chat": {"id": int(data["chat_id"]), "type": "private"},
            "text": text,
        }

    async def _answerCallbackQuery(self, data: dict[str, Any]) -> bool:
        self.callback_answers.append(data)
        return True

    async def _setWebhook(self, data: dict[str, Any]) -> bool:
        self.webhook = data
        return True

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/bot{token}/{method}", self._method)
        return application
