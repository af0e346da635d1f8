"""Load and soak: many users, several reviews each, through the real bot process and the fake
Bot API; then a burst of users against a fake LLM with a set latency.

Run: python bench/soak.py [--users 1000] [--reviews-each 3] [--llm-users 200] [--latency 1.0]
Each round, every user sends one review (a user's reviews are apart, as a person's are, so none
is joined with another). Printed: every review answered exactly once, throughput, latency
p50 / p99, and the bot's memory over the run (growth in the second half: under 10% means no
leak). Loopback only; bounded by bench/bot.py's phase limit.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bot import llm_burst, review_stream, running_bot  # noqa: E402
from bench.common import percentile  # noqa: E402

FIRST_USER = 10_000
ROUND_LIMIT = 120.0
MAX_GROWTH = 0.10


async def offline_soak(workdir: Path, users: int, rounds: int) -> dict[str, float | int]:
    stream = review_stream()
    async with running_bot(workdir, "soak", next(stream)) as bot:
        await bot.wait_for_answers(1, "start")
        telegram = bot.telegram
        telegram.restart_clock()
        rss_after_round: list[int] = []
        started = time.monotonic()
        for number in range(1, rounds + 1):
            for user in range(FIRST_USER, FIRST_USER + users):
                text, language = next(stream)
                telegram.review(text, user, language)
            await bot.wait_for_answers(users * number, f"round {number}", ROUND_LIMIT)
            rss_after_round.append(bot.memory.last)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.5)  # time for a duplicate answer to show up, if there were one
        per_chat = Counter({chat: len(times) for chat, times in telegram.answered.items()})
        latencies = telegram.latencies()
        half = rss_after_round[(len(rss_after_round) - 1) // 2]
        return {
            "reviews": users * rounds,
            "answered": telegram.answers,
            "exactly_once": sum(1 for count in per_chat.values() if count == rounds),
            "users": users,
            "rate": users * rounds / elapsed,
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "rss_half": half,
            "rss_end": rss_after_round[-1],
            "rss_peak": bot.memory.peak,
            "growth": (rss_after_round[-1] - half) / half,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--reviews-each", type=int, default=3)
    parser.add_argument("--llm-users", type=int, default=200)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--llm-wait", type=float, default=30.0)
    args = parser.parse_args()
    args.profile = None
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        soak = asyncio.run(offline_soak(workdir, args.users, args.reviews_each))
        llm = llm_burst(workdir, args)
    mb = 1024 * 1024
    growth_ok = soak["growth"] < MAX_GROWTH
    print(f"Soak through the fake Bot API (offline engine, {args.users} users)")
    print("| measure | value |")
    print("|---|---|")
    print(
        f"| reviews answered / sent | {soak['answered']} / {soak['reviews']} "
        f"({soak['exactly_once']} of {soak['users']} users got exactly {args.reviews_each}) |"
    )
    print(f"| throughput | {soak['rate']:.0f} reviews/s |")
    print(f"| queued to answered, p50 / p99 | {soak['p50']:.2f} / {soak['p99']:.2f} s |")
    print(
        f"| bot RSS at half-time / end / peak | {soak['rss_half'] / mb:.0f} / "
        f"{soak['rss_end'] / mb:.0f} / {soak['rss_peak'] / mb:.0f} MB |"
    )
    print(
        f"| RSS growth in the second half | {soak['growth'] * 100:+.1f}% "
        f"(under {MAX_GROWTH * 100:.0f}%: {'met' if growth_ok else 'MISSED'}) |"
    )
    print(f"LLM burst ({args.llm_users} users at once, fake model {args.latency:.1f} s latency)")
    print("| measure | value |")
    print("|---|---|")
    print(f"| drafts answered / users | {llm['answered']} / {args.llm_users} |")
    print(f"| model calls, offline fallbacks | {llm['calls']}, {llm['fallbacks']} |")
    print(
        f"| queued to answered, p50 / p99 / max | {llm['p50']:.2f} / {llm['p99']:.2f} / "
        f"{llm['max']:.2f} s |"
    )
    print(f"| bot RSS peak | {llm['rss_peak'] / mb:.0f} MB |")


if __name__ == "__main__":
    main()
