"""Speed of the offline engine: in-process drafts (retrieval included) and checks, and one cold
`complaint-coach draft` process.

Run: python bench/engine.py [--backend e5|hash] [--cold-runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import build_engine, dev_reviews, percentile  # noqa: E402


async def time_engine(backend: str, texts: list[str], workdir: Path) -> dict[str, float]:
    engine = build_engine(workdir, backend)
    for text in texts[:20]:  # warm-up: model mapped, index built, lexicons compiled
        await engine.draft(text)
    drafts = []
    for text in texts:
        started = time.perf_counter()
        await engine.draft(text)
        drafts.append((time.perf_counter() - started) * 1000)
    replies = [(await engine.draft(text)).public_reply for text in texts[:200]]
    checks = []
    for reply in replies:
        started = time.perf_counter()
        await engine.check(reply)
        checks.append((time.perf_counter() - started) * 1000)
    return {
        "draft_median": statistics.median(drafts),
        "draft_p99": percentile(drafts, 0.99),
        "check_median": statistics.median(checks),
        "check_p99": percentile(checks, 0.99),
        "drafts": len(drafts),
    }


def time_cold_cli(backend: str, runs: int, data_dir: Path) -> list[float]:
    env = {**os.environ, "COACH_EMBEDDINGS": backend, "COACH_DATA_DIR": str(data_dir)}
    command = [
        sys.executable,
        "-m",
        "bot",
        "draft",
        "My parcel arrived late and the mug is broken.",
    ]
    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)  # builds the index
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="hash", choices=["e5", "hash"])
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    texts = [row["text"] for row in dev_reviews().values()]
    with tempfile.TemporaryDirectory() as workdir:
        figures = asyncio.run(time_engine(args.backend, texts, Path(workdir) / "engine"))
        walls = time_cold_cli(args.backend, args.cold_runs, Path(workdir) / "cli")
    print(f"Offline engine speed, {args.backend} embeddings, {figures['drafts']} dev reviews")
    print("| measure | median | p99 |")
    print("|---|---|---|")
    print(
        f"| draft, in process (ms) | {figures['draft_median']:.1f} | {figures['draft_p99']:.1f} |"
    )
    print(
        f"| check, in process (ms) | {figures['check_median']:.2f} | {figures['check_p99']:.2f} |"
    )
    print(
        f"| `complaint-coach draft`, cold process (s) | {statistics.median(walls):.2f} | "
        f"{max(walls):.2f} (max of {len(walls)}) |"
    )


if __name__ == "__main__":
    main()
