"""Retrieval benchmark: quality (recall@3, MRR per language) and speed, hash vs e5, side by side.

Run: python bench/retrieval.py [--backends hash e5] [--labels FILE]
Reads the labelled queries from bench/labels/retrieval.jsonl (the benchmark) or another label
file (bench/labels/retrieval_tuning.jsonl: other dev reviews, labelled separately, for trying
ideas without tuning to the benchmark) and the review texts from
../shared/datasets/negative-reviews/dev/ (never copied into the repo).
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import LABELS, dev_reviews, percentile, read_jsonl  # noqa: E402
from bot.engine.language_pack import LanguagePacks  # noqa: E402
from bot.engine.understand import understand  # noqa: E402
from knowledge.cards import LANGUAGES  # noqa: E402
from knowledge.embeddings import make_embedder  # noqa: E402
from knowledge.evaluation import evaluate, labelled_queries  # noqa: E402
from knowledge.retrieval import open_knowledge_base  # noqa: E402


def bench_backend(backend: str, queries: list, all_texts: list[str], workdir: Path) -> dict:
    knowledge = open_knowledge_base(workdir / backend, make_embedder(backend))  # type: ignore[arg-type]
    packs = LanguagePacks()
    # Not inside the timed build: chroma's import (about a second) is paid once per process,
    # and only by what opens the index (a hash draft searches the cards in memory).
    importlib.import_module("knowledge.chroma_store")
    started = time.perf_counter()
    knowledge.ensure_cards()  # from empty, including the model's first load
    build_seconds = time.perf_counter() - started

    def hybrid(text: str) -> list[str]:
        review = understand(text, packs)
        found = knowledge.retrieve_cards(
            text,
            k=10,
            aspects=review.aspects,
            flags=review.flags,
            situations=review.situations,
        )
        return [scored.card.id for scored in found]

    def similarity_only(text: str) -> list[str]:
        return [scored.card.id for scored in knowledge.retrieve_cards(text, k=10)]

    scores = evaluate(hybrid, queries)
    plain = evaluate(similarity_only, queries)
    for text in all_texts[:20]:  # warm-up
        hybrid(text)
    timings = []
    for text in all_texts:
        started = time.perf_counter()
        hybrid(text)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "build_seconds": build_seconds,
        "scores": scores,
        "similarity_only": plain,
        "median_ms": statistics.median(timings),
        "p99_ms": percentile(timings, 0.99),
        "retrievals": len(timings),
    }


def human_agreement(first: list[dict], second_path: Path) -> str:
    """How a second, independent labeller's top three cards score against the first's must
    cards: the level a careful human reader reaches on this metric."""
    second = {row["id"]: row for row in read_jsonl(second_path)}
    recalls = []
    for row in first:
        theirs = second[row["id"]]
        ranked = (theirs["must"] + theirs["also"])[:3]
        recalls.append(len(set(ranked) & set(row["must"])) / min(3, len(row["must"])))
    return (
        f"(a second, independent labeller reaches recall@3 {statistics.fmean(recalls):.2f} "
        "on the same must cards: the human level)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["hash", "e5"])
    parser.add_argument("--labels", type=Path, default=LABELS / "retrieval.jsonl")
    args = parser.parse_args()
    reviews = dev_reviews()
    queries = labelled_queries(read_jsonl(args.labels), reviews)
    all_texts = [row["text"] for row in reviews.values()]
    with tempfile.TemporaryDirectory() as workdir:
        results = {
            backend: bench_backend(backend, queries, all_texts, Path(workdir))
            for backend in args.backends
        }

    print(f"Retrieval quality on {len(queries)} labelled dev reviews: recall@3 and MRR of the")
    print("cards a coach insists on (hybrid = detected complaint type routes + similarity)")
    header = "| language | queries | " + " | ".join(
        f"{b} recall@3 | {b} MRR" for b in args.backends
    )
    print(header + " |")
    print("|---" * (2 + 2 * len(args.backends)) + "|")
    for language in (*LANGUAGES, "all"):
        cells = []
        for backend in args.backends:
            score = results[backend]["scores"][language]
            cells += [f"{score.recall_at_3:.2f}", f"{score.mrr:.2f}"]
        count = results[args.backends[0]]["scores"][language].queries
        print(f"| {language} | {count} | " + " | ".join(cells) + " |")
    similarity = ", ".join(
        f"{b} {results[b]['similarity_only']['all'].recall_at_3:.2f}" for b in args.backends
    )
    print(f"(similarity alone, without the routes: recall@3 {similarity})")
    second = LABELS / "retrieval_second_labeller.jsonl"
    if args.labels.resolve() == (LABELS / "retrieval.jsonl").resolve() and second.exists():
        print(human_agreement(read_jsonl(LABELS / "retrieval.jsonl"), second))
    print()
    print("Speed (2 cores; one retrieval = understand + embed the review + query chroma + rank)")
    print("| backend | index build from empty (s) | retrieval median (ms) | p99 (ms) | runs |")
    print("|---|---|---|---|---|")
    for backend in args.backends:
        r = results[backend]
        print(
            f"| {backend} | {r['build_seconds']:.2f} | {r['median_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['retrievals']} |"
        )


if __name__ == "__main__":
    main()
