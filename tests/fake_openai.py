"""A scripted OpenAI-compatible server on 127.0.0.1 for the tests (real HTTP, no internet).

Each test queues answers; every request is recorded so the test can look at what was sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from knowledge.embeddings import HashEmbedder

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


@dataclass
class Answer:
    status: int = 200
    content: dict[str, Any] | str | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeOpenAI:
    answers: deque[Answer] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    # Answers every request the queue does not cover (benchmarks: a well-behaved model).
    responder: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]] | None = None
    latency: float = 0.0
    chunk_size: int = 8
    chunk_delay: float = 0.0
    # Streams are cut (the connection dropped) after this many characters of the answer.
    drop_stream_after: int | None = None
    # perf_counter() when each streamed answer's first piece of text was sent (for benchmarks).
    first_token_sent: list[float] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def answer(
        self, content: dict[str, Any] | str, *, status: int = 200, delay: float = 0.0
    ) -> None:
        self.answers.append(Answer(status, content, delay))

    def answer_tool_call(self, arguments: dict[str, Any]) -> None:
        """Answer the way a server does for function calling: a tool call with JSON arguments."""
        self.answers.append(Answer(200, {"__tool_call__": arguments}))

    def fail(self, status: int, times: int = 1, *, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        for _ in range(times):
            error = {"error": {"message": "scripted failure"}}
            self.answers.append(Answer(status, error, headers=headers))

    async def _chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.answers:
            answer = self.answers.popleft()
        elif self.responder is not None:
            answer = Answer(200, await self.responder(body), self.latency)
        else:
            answer = Answer(500, "no answer scripted")
        if answer.delay:
            await asyncio.sleep(answer.delay)
        if answer.status != 200:
            return web.json_response(answer.content, status=answer.status, headers=answer.headers)
        message: dict[str, Any]
        if isinstance(answer.content, dict) and "__tool_call__" in answer.content:
            tool = body["tools"][0]["function"]["name"]
            text = json.dumps(answer.content["__tool_call__"])
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": tool, "arguments": text},
                    }
                ],
            }
        else:
            text = answer.content if isinstance(answer.content, str) else json.dumps(answer.content)
            message = {"role": "assistant", "content": text}
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        usage = {
            "prompt_tokens": prompt_chars // 4,
            "completion_tokens": len(text) // 4,
            "total_tokens": (prompt_chars + len(text)) // 4,
        }
        if body.get("stream"):
            return await self._stream(request, body, message, text, usage)
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                # Reported like a tokenizer would, roughly four characters a token.
                "usage": {
                    "prompt_tokens": prompt_chars // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": (prompt_chars + len(text)) // 4,
                },
            }
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        message: dict[str, Any],
        text: str,
        usage: dict[str, int],
    ) -> web.StreamResponse:
        """Server-sent events, a few characters a chunk, as OpenAI streams them."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        async def send(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            chunk = {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        self.first_token_sent.append(time.perf_counter())
        for start in range(0, len(text), self.chunk_size):
            piece = text[start : start + self.chunk_size]
            if "tool_calls" in message:
                call = message["tool_calls"][0]
                tool_delta: dict[str, Any] = {"index": 0, "function": {"arguments": piece}}
                if start == 0:
                    tool_delta |= {"id": call["id"], "type": "function"}
                    tool_delta["function"]["name"] = call["function"]["name"]
                await send({"tool_calls": [tool_delta]})
            else:
                await send({"content": piece})
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            if self.drop_stream_after is not None and start >= self.drop_stream_after:
                request.transport.close()  # type: ignore[union-attr]  # mid-answer, no [DONE]
                return response
        await send({}, "stop")
        if body.get("stream_options", {}).get("include_usage"):
            chunk = {"id": "u", "object": "chat.completion.chunk", "created": 0, "choices": []}
            await response.write(f"data: {json.dumps({**chunk, 'usage': usage})}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        """Deterministic vectors (our hash embedding): same text, same vector, across runs."""
        body = await request.json()
        self.requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        embedder = HashEmbedder(64)
        data = [
            {"object": "embedding", "index": i, "embedding": embedder.embed_query(str(text))}
            for i, text in enumerate(texts)
        ]
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/v1/chat/completions", self._chat)
        application.router.add_post("/v1/embeddings", self._embeddings)
        return application


class ServerThread:
    """Runs the fake in its own event loop, so synchronous tests can call asyncio.run freely."""

    def __init__(self, fake: FakeOpenAI) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.fake.app(), shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.fake.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self.runner is not None:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
