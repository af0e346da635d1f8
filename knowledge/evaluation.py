"""Retrieval quality against a labelled set: recall@k and MRR, per language."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence


@dataclass(frozen=True)
class LabelledQuery:
    id: str
    language: str
    text: str
    relevant: tuple[str, ...]


@dataclass(frozen=True)
class RetrievalScores:
    queries: int
    recall_at_3: float
    mrr: float


def recall_at(ranked: Sequence[str], relevant: Sequence[str], k: int) -> float:
    """Share of the relevant cards in the top k; with more than k relevant, k hits count as 1.0."""
    hits = len(set(ranked[:k]) & set(relevant))
    return hits / min(len(relevant), k)


def reciprocal_rank(ranked: Sequence[str], relevant: Sequence[str]) -> float:
    for rank, card_id in enumerate(ranked, start=1):
        if card_id in relevant:
            return 1.0 / rank
    return 0.0


def labelled_queries(
    labels: Sequence[Mapping[str, object]], reviews: Mapping[str, Mapping[str, object]]
) -> list[LabelledQuery]:
    """Join label rows (ids and card ids only) with the review texts kept outside the repo."""
    return [
        LabelledQuery(
            id=str(row["id"]),
            language=str(row["lang"]),
            text=str(reviews[str(row["id"])]["text"]),
            # "must": the cards a coach insists on for this review; recall is measured on those.
            relevant=tuple(row.get("must", row.get("cards", ()))),  # type: ignore[arg-type]
        )
        for row in labels
    ]


def evaluate(
    retrieve: Callable[[str], Sequence[str]], queries: Sequence[LabelledQuery]
) -> dict[str, RetrievalScores]:
    """Scores per language plus ``all``; ``retrieve`` gives card ids, best first."""
    per_language: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for query in queries:
        ranked = list(retrieve(query.text))
        pair = (recall_at(ranked, query.relevant, 3), reciprocal_rank(ranked, query.relevant))
        per_language[query.language].append(pair)
        per_language["all"].append(pair)
    return {
        language: RetrievalScores(
            queries=len(pairs),
            recall_at_3=statistics.fmean(recall for recall, _ in pairs),
            mrr=statistics.fmean(rr for _, rr in pairs),
        )
        for language, pairs in per_language.items()
    }
