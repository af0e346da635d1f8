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
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import LABELS, card_ranker, dev_reviews, percentile, read_jsonl  # noqa: E402
from bot.engine.language_pack import LanguagePacks  # noqa: E402
from knowledge.cards import LANGUAGES  # noqa: E402
from knowledge.embeddings import make_embedder  # noqa: E402
from knowledge.evaluation import LabelledQuery, evaluate, labelled_queries, recall_at  # noqa: E402
from knowledge.retrieval import open_knowledge_base  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

# The depths at which recall is printed, to show how far down the must cards are ranked.
DEPTHS = (1, 3, 4, 5, 8, 10)
# The benchmark's reviews, labelled by three people independently (the first is the benchmark).
LABELLERS = {
    "first": "retrieval.jsonl",
    "second": "retrieval_second_labeller.jsonl",
    "third": "retrieval_third_labeller.jsonl",
}


def bench_backend(
    backend: str,
    query_sets: dict[str, list],
    all_texts: list[str],
    workdir: Path,
    gists: list[LabelledQuery] | None = None,
) -> dict:
    """Quality on each labelled query set (the first is the one asked for), and speed."""
    knowledge = open_knowledge_base(workdir / backend, make_embedder(backend))  # type: ignore[arg-type]
    packs = LanguagePacks()
    # Not inside the timed build: chroma's import (about a second) is paid once per process,
    # and only by what opens the index (a hash draft searches the cards in memory).
    importlib.import_module("knowledge.chroma_store")
    started = time.perf_counter()
    knowledge.ensure_cards()  # from empty, including the model's first load
    build_seconds = time.perf_counter() - started

    # The same index without the learned reader: what the routes and similarity do alone.
    unread = open_knowledge_base(
        workdir / backend, knowledge.cards_index.embedder, with_reader=False
    )

    hybrid, routes_only = card_ranker(knowledge, packs), card_ranker(unread, packs)

    def similarity_only(text: str) -> list[str]:
        return [scored.card.id for scored in unread.retrieve_cards(text, k=10)]

    queries = next(iter(query_sets.values()))
    scores = evaluate(hybrid, queries)
    depth = recall_by_depth(hybrid, queries)
    plain = evaluate(similarity_only, queries)
    routes = evaluate(routes_only, queries)
    per_labeller = {
        name: (evaluate(hybrid, rows)["all"], evaluate(routes_only, rows)["all"])
        for name, rows in query_sets.items()
    }
    gist = evaluate(hybrid, gists)["all"] if gists else None
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
        "routes_only": routes,
        "per_labeller": per_labeller,
        "depth": depth,
        "gist": gist,
        "median_ms": statistics.median(timings),
        "p99_ms": percentile(timings, 0.99),
        "retrievals": len(timings),
    }


def recall_by_depth(ranker: Callable[[str], list[str]], queries: list) -> dict[int, float]:
    """Recall of the must cards within the top k, for k up to 10: how deep they sit, and so
    what a re-ranker (or an LLM choosing among the top ten) could reach at most."""
    ranked = [(query, ranker(query.text)) for query in queries]
    return {
        k: statistics.fmean(recall_at(cards, query.relevant, k) for query, cards in ranked)
        for k in DEPTHS
    }


def person_gists(labels: dict[str, list[dict]]) -> list[LabelledQuery]:
    """The third labeller's one-line English summary of each review, in place of the review,
    against the first labeller's must cards: what the ranking does when the reading is a
    person's, so what is left to gain from reading alone."""
    notes = {row["id"]: row["note"] for row in labels["third"]}
    return [
        LabelledQuery(row["id"], row["lang"], notes[row["id"]], tuple(row["must"]))
        for row in labels["first"]
    ]


def agreement(reader: list[dict], truth: list[dict]) -> float:
    """Recall@3 of one labeller's top three cards (must, then also) against another's must
    cards: what a careful human reader reaches on this metric."""
    theirs = {row["id"]: row for row in reader}
    return statistics.fmean(
        recall_at((theirs[row["id"]]["must"] + theirs[row["id"]]["also"])[:3], row["must"], 3)
        for row in truth
    )


def print_labellers(labels: dict[str, list[dict]], results: dict[str, dict]) -> None:
    """The product and each human against each labeller's must cards, on the same reviews."""
    names = list(labels)
    backends = list(results)
    print()
    print(
        f"The same {len(labels[names[0]])} reviews, labelled by {len(names)} people independently:"
    )
    print(
        "recall@3 against each one's must cards, of the product (in brackets: without the learned"
    )
    print("reader) and of the other labellers' top three cards (must, then also)")
    print(
        "| must cards of | "
        + " | ".join(f"product ({b})" for b in backends)
        + " | "
        + " | ".join(f"{name} labeller" for name in names)
        + " |"
    )
    print("|---" * (1 + len(backends) + len(names)) + "|")
    for truth in names:
        product = [
            "{:.2f} ({:.2f})".format(*(s.recall_at_3 for s in results[b]["per_labeller"][truth]))
            for b in backends
        ]
        humans = [
            "-" if reader == truth else f"{agreement(labels[reader], labels[truth]):.2f}"
            for reader in names
        ]
        print(f"| {truth} | " + " | ".join(product + humans) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["hash", "e5"])
    parser.add_argument("--labels", type=Path, default=LABELS / LABELLERS["first"])
    args = parser.parse_args()
    reviews = dev_reviews()
    labels = {"asked": read_jsonl(args.labels)}
    if args.labels.resolve() == (LABELS / LABELLERS["first"]).resolve():
        labels = {name: read_jsonl(LABELS / file) for name, file in LABELLERS.items()}
    query_sets = {name: labelled_queries(rows, reviews) for name, rows in labels.items()}
    queries = next(iter(query_sets.values()))
    all_texts = [row["text"] for row in reviews.values()]
    gists = person_gists(labels) if "third" in labels else None
    with tempfile.TemporaryDirectory() as workdir:
        results = {
            backend: bench_backend(backend, query_sets, all_texts, Path(workdir), gists)
            for backend in args.backends
        }

    print(f"Retrieval quality on {len(queries)} labelled dev reviews: recall@3 and MRR of the")
    print("cards a coach insists on (hybrid = similarity + the routes of the detected complaint")
    print("type, risks and situations + the learned reader)")
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
    unread = ", ".join(
        f"{b} {results[b]['routes_only']['all'].recall_at_3:.2f}" for b in args.backends
    )
    print(f"(routes and similarity, without the learned reader: recall@3 {unread})")
    for backend in args.backends:
        depth = results[backend]["depth"]
        curve = ", ".join(f"@{k} {depth[k]:.2f}" for k in DEPTHS)
        print(f"(how deep the must cards sit, {backend}: recall {curve})")
    if gists:
        read = ", ".join(f"{b} {results[b]['gist'].recall_at_3:.2f}" for b in args.backends)
        print(f"(a person's one-line summary in place of the review, third labeller: {read})")
    if len(labels) > 1:
        print_labellers(labels, results)
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
