"""Train the card reader (knowledge/reader.py) from labelled dev reviews.

Run: python3 -m uv run --group train python bench/train_reader.py [--validate]
Learns from bench/labels/retrieval_training*.jsonl and retrieval_tuning.jsonl: for each card, a
logistic model of "a coach insists on this card" over the review's embedding and what the
engine understood of it, exactly as retrieval computes them. The benchmark's reviews (the three
labellers' files) are never read, so bench/retrieval.py scores the reader on reviews and
labellers it never saw.

--validate trains without the tuning set and prints the tuning set's recall@3 with the routes
alone and with the reader at several weights: how READER_WEIGHT and the settings below were
chosen (on the tuning set's two labellers, whom that model never learned from).

--curve does the same with the reader trained on growing shares of the training reviews: how
much more labelled data would help (README, "How far more labelling, or a better reading,
would take it").
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import LABELS, card_ranker, dev_reviews, read_jsonl  # noqa: E402
from bench.retrieval import LABELLERS  # noqa: E402
from bot.engine.language_pack import LanguagePacks  # noqa: E402
from bot.engine.understand import understand  # noqa: E402
from knowledge.cards import LANGUAGES, load_cards, load_routes  # noqa: E402
from knowledge.embeddings import make_embedder  # noqa: E402
from knowledge.evaluation import evaluate, labelled_queries  # noqa: E402
from knowledge.reader import (  # noqa: E402
    READER_DIR,
    CardReader,
    feature_vocabulary,
    named_vector,
    understood_features,
)
from knowledge.retrieval import READER_WEIGHT, open_knowledge_base, query_text  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable

    from knowledge.embeddings import TextEmbedder
    from knowledge.evaluation import LabelledQuery
    from knowledge.retrieval import KnowledgeBase

# --validate leaves the tuning set out of training and scores the reader on it.
TUNING = "retrieval_tuning.jsonl"
TRAINING = (
    "retrieval_training.jsonl",
    # The same reviews labelled again by other people: two readings of each teach the reader
    # what people agree on (held-out recall@3 0.443 -> 0.455, README).
    "retrieval_training_second_labeller.jsonl",
    TUNING,
)
# Inverse regularisation strength and the embedding's scale next to the 0/1 named features:
# chosen with --validate (0.3 and 3.0 led on the tuning set among 0.3/1/3 x 1/3).
STRENGTH = 0.3
VECTOR_SCALE = 3.0
# --curve: the shares of the training reviews tried, and how many random draws each is averaged
# over (one at the whole set, which has only one draw).
CURVE_SHARES = (0.125, 0.25, 0.5, 0.75, 1.0)
CURVE_DRAWS = 3
# A card needs this many reviews that insist on it before it gets a model of its own; below
# that it gets only its (smoothed) share of them as a constant.
FEWEST_POSITIVES = 2


def named_vocabulary(cards: list[str]) -> list[str]:
    """Every named feature the engine can produce, from the routes' vocabularies."""
    routes = load_routes(card_ids=set(cards))
    return feature_vocabulary(
        list(routes.aspects), list(routes.flags), list(routes.situations), [*LANGUAGES, "other"]
    )


def features(
    rows: list[dict], embedder: TextEmbedder, packs: LanguagePacks, named: list[str]
) -> np.ndarray:
    """One row per labelled review: its embedding (scaled) and its named features, computed
    by the same code as a draft's retrieval."""
    reviews = dev_reviews()
    positions = {name: position for position, name in enumerate(named)}
    matrix = []
    for row in rows:
        text = reviews[row["id"]]["text"]
        review = understand(text, packs)
        flags = [str(flag) for flag in review.flags]
        understood = understood_features(review.aspects, flags, review.situations, review.language)
        vector = np.asarray(embedder.embed_query(query_text(text))) * VECTOR_SCALE
        matrix.append(np.concatenate([vector, named_vector(positions, understood)]))
    return np.array(matrix)


def train(rows: list[dict], backend: str) -> CardReader:
    embedder = make_embedder(backend)  # type: ignore[arg-type]
    cards = [card.id for card in load_cards()]
    named = named_vocabulary(cards)
    x = features(rows, embedder, LanguagePacks(), named)
    weights = np.zeros((len(cards), x.shape[1]), dtype=np.float32)
    bias = np.zeros(len(cards), dtype=np.float32)
    for position, card in enumerate(cards):
        y = np.array([card in row["must"] for row in rows], dtype=int)
        if y.sum() >= FEWEST_POSITIVES:
            model = LogisticRegression(C=STRENGTH, max_iter=5000).fit(x, y)
            weights[position] = model.coef_[0]
            bias[position] = model.intercept_[0]
        else:
            share = (y.sum() + 0.5) / (len(y) + 1)
            bias[position] = np.log(share / (1 - share))
    return CardReader(
        card_ids=tuple(cards),
        named_features=tuple(named),
        weights=weights,
        bias=bias,
        vector_scale=VECTOR_SCALE,
        embedder=embedder.config(),
        trained_on=tuple(row["id"] for row in rows),
    )


def training_rows(names: tuple[str, ...]) -> list[dict]:
    rows = [row for name in names for row in read_jsonl(LABELS / name)]
    benchmark = {row["id"] for file in LABELLERS.values() for row in read_jsonl(LABELS / file)}
    if leaked := {row["id"] for row in rows} & benchmark:
        raise SystemExit(f"benchmark reviews in the training labels: {sorted(leaked)[:5]}")
    return rows


def held_out(
    backend: str, workdir: Path
) -> tuple[list[dict], KnowledgeBase, list[LabelledQuery], Callable[[str], list[str]]]:
    """For scoring a reader on the tuning set's labellers, whom it never learns from: the
    training rows without them, a knowledge base with no reader yet, the tuning set's queries,
    and the ranking to score them with."""
    rows = training_rows(tuple(name for name in TRAINING if name != TUNING))
    knowledge = open_knowledge_base(workdir, make_embedder(backend), with_reader=False)  # type: ignore[arg-type]
    queries = labelled_queries(read_jsonl(LABELS / TUNING), dev_reviews())
    return rows, knowledge, queries, card_ranker(knowledge, LanguagePacks())


def validate(backend: str, workdir: Path) -> None:
    """Train without the tuning set; score the tuning set at several reader weights."""
    rows, knowledge, queries, ranked = held_out(backend, workdir)
    reader = train(rows, backend)

    print(f"tuning set ({len(queries)} reviews), reader trained without it: recall@3")
    print("| reader weight | recall@3 | MRR |")
    print("|---|---|---|")
    for weight in (0.0, 0.2, 0.25, 0.33, 0.5, 0.75):
        knowledge.reader, knowledge.reader_weight = reader, weight
        score = evaluate(ranked, queries)["all"]
        print(f"| {weight} | {score.recall_at_3:.3f} | {score.mrr:.3f} |")


def learning_curve(backend: str, workdir: Path) -> None:
    """Held-out recall@3 on the tuning set as the reader learns from more training reviews."""
    rows, knowledge, queries, ranked = held_out(backend, workdir)
    review_ids = sorted({row["id"] for row in rows})

    print(f"tuning set ({len(queries)} reviews), reader weight {READER_WEIGHT}: recall@3")
    print(f"routes alone: {evaluate(ranked, queries)['all'].recall_at_3:.3f}")
    print("| training reviews | recall@3 |")
    print("|---|---|")
    knowledge.reader_weight = READER_WEIGHT
    for share in CURVE_SHARES:
        count = int(len(review_ids) * share)
        draws = CURVE_DRAWS if count < len(review_ids) else 1
        recalls = []
        for seed in range(draws):
            # Both labellings of a drawn review go in together, as in the full training.
            drawn = set(random.Random(seed).sample(review_ids, count))
            knowledge.reader = train([row for row in rows if row["id"] in drawn], backend)
            recalls.append(evaluate(ranked, queries)["all"].recall_at_3)
        print(f"| {count} | {statistics.fmean(recalls):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", default="hash", choices=["hash", "e5"])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--validate", action="store_true")
    mode.add_argument("--curve", action="store_true")
    args = parser.parse_args()
    if args.validate or args.curve:
        with tempfile.TemporaryDirectory() as workdir:
            (validate if args.validate else learning_curve)(args.backend, Path(workdir))
        return
    rows = training_rows(TRAINING)
    reader = train(rows, args.backend)
    READER_DIR.mkdir(exist_ok=True)
    path = READER_DIR / f"{args.backend}.npz"
    reader.save(path)
    modelled = int((np.abs(reader.weights).sum(axis=1) > 0).sum())
    print(
        f"{path.relative_to(REPO)}: trained on {len(rows)} labellings of "
        f"{len({row['id'] for row in rows})} reviews; {modelled} of "
        f"{len(reader.card_ids)} cards have a model of their own; "
        f"{path.stat().st_size / 1024:.0f} KB"
    )


if __name__ == "__main__":
    main()
