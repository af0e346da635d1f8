"""The LLM path against the fake OpenAI-compatible server with a set latency: calls per draft,
prompt size, and the time our own code adds around the model.

Run: python bench/llm.py [--reviews 60] [--latency 0.2]
The fake answers like a well-behaved model: a draft for the fenced review, in its language.
Prompt tokens are what the fake reports, counted as its tokenizer would at 4 characters a token.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import build_engine, dev_reviews, percentile  # noqa: E402
from bot.engine.service import LLM_SHORTLIST, CoachEngine, ReplyPiece  # noqa: E402
from bot.llm.drafter import LLMDrafter, build_chat_model  # noqa: E402
from tests.fake_openai import FakeOpenAI, ServerThread  # noqa: E402

FENCE = re.compile(r"<review>\n(.*)\n</review>", re.DOTALL)


async def prepared_answers(offline: CoachEngine, texts: list[str]) -> dict[str, dict]:
    """A good answer for every review, made before timing starts, so the fake's own work does
    not count as our overhead."""
    answers = {}
    for text in texts:
        draft = await offline.draft(text, engine="offline")
        answers[text.strip()] = {
            "public_reply": draft.public_reply,
            "private_message": draft.private_message,
            "take_private": draft.take_private.model_dump(),
            "coaching": [{"card": n.card, "advice": n.advice} for n in draft.coaching],
        }
    return answers


def well_behaved(answers: dict[str, dict]):
    async def respond(body: dict) -> dict:
        review = FENCE.search(body["messages"][-1]["content"]).group(1)  # type: ignore[union-attr]
        return answers[review.strip()]

    return respond


async def run(engine: CoachEngine, texts: list[str], latency: float) -> list[float]:
    overheads = []
    for text in texts:
        started = time.perf_counter()
        draft = await engine.draft(text)
        if draft.engine != "llm":
            raise SystemExit(f"the well-behaved fake's draft was not shown for: {text[:80]!r}")
        overheads.append((time.perf_counter() - started - latency) * 1000)
    return overheads


async def measure(
    engine: CoachEngine, fake: FakeOpenAI, texts: list[str], long_review: str, latency: float
) -> tuple[list[float], int, int]:
    await run(engine, texts[:3], latency)  # warm-up
    fake.requests.clear()
    overheads = await run(engine, texts, latency)
    calls = len(fake.requests)
    fake.requests.clear()
    await engine.draft(long_review)
    prompt_chars = sum(len(message["content"]) for message in fake.requests[0]["messages"])
    return overheads, calls, prompt_chars


async def measure_all(
    engine: CoachEngine, fake: FakeOpenAI, texts: list[str], long_review: str, latency: float
) -> tuple[list[float], int, int, list[float]]:
    try:
        overheads, calls, prompt_chars = await measure(engine, fake, texts, long_review, latency)
        return overheads, calls, prompt_chars, await first_pieces(engine, fake, texts[:20])
    finally:
        await engine.aclose()


async def first_pieces(engine: CoachEngine, fake: FakeOpenAI, texts: list[str]) -> list[float]:
    """ms from the fake sending its first token to the caller holding the first reply piece.

    The reply's text starts after the JSON key, a chunk or two in, so this includes the model
    writing `{"public_reply": "`."""
    delays = []
    for text in texts:
        fake.first_token_sent.clear()
        first = None
        # Drained to the end, as a caller does: leaving a stream half-read leaves its HTTP
        # response to be closed later by the garbage collector.
        async for item in engine.stream_draft(text):
            if isinstance(item, ReplyPiece) and first is None:
                first = time.perf_counter()
        if first is None:
            raise SystemExit(f"nothing streamed for: {text[:80]!r}")
        delays.append((first - fake.first_token_sent[0]) * 1000)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reviews", type=int, default=60)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    rows = list(dev_reviews().values())
    texts = [row["text"] for row in rows[:: max(1, len(rows) // args.reviews)]][: args.reviews]
    long_review = next(row["text"] for row in rows if 900 <= len(row["text"]) <= 1100)
    fake = FakeOpenAI(latency=args.latency)
    server = ServerThread(fake)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            offline = build_engine(Path(workdir), "hash")
            answers = asyncio.run(prepared_answers(offline, [*texts, long_review]))
            fake.responder = well_behaved(answers)
            model = build_chat_model(
                model="fake", api_key="sk-bench", base_url=fake.base_url, timeout=10
            )
            engine = CoachEngine(offline.knowledge, offline.packs, LLMDrafter(model))
            # One event loop for everything: langchain-openai shares one HTTP client per server
            # address, and its connections belong to the loop that opened them.
            overheads, calls, prompt_chars, firsts = asyncio.run(
                measure_all(engine, fake, texts, long_review, args.latency)
            )
    finally:
        server.stop()
    print(f"LLM path against the fake server ({args.latency:.1f} s latency), {len(texts)} reviews")
    print("| measure | value |")
    print("|---|---|")
    print(f"| LLM calls per draft | {calls / len(texts):.2f} |")
    print(
        f"| prompt for a {len(long_review)}-character review with its {LLM_SHORTLIST} "
        f"shortlisted cards | {prompt_chars // 4} tokens ({prompt_chars} characters / 4) |"
    )
    print(
        f"| our overhead per draft (total minus model latency), median / p99 | "
        f"{statistics.median(overheads):.1f} / {percentile(overheads, 0.99):.1f} ms |"
    )
    print(
        "| first reply characters after the model's first token, median / max | "
        f"{statistics.median(firsts):.1f} / {max(firsts):.1f} ms |"
    )


if __name__ == "__main__":
    main()
