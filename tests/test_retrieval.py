"""Retrieval: the right playbook card comes back for a review, in each language."""

from __future__ import annotations

import asyncio

import pytest

from bench.common import LABELS, card_ranker, dev_reviews, read_jsonl
from bot.engine.language_pack import LanguagePacks
from bot.engine.understand import understand
from knowledge.embeddings import make_embedder
from knowledge.evaluation import evaluate, labelled_queries
from knowledge.retrieval import open_knowledge_base


@pytest.fixture(scope="module", params=["hash", "e5"])
def knowledge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Both offline backends: hash (the default) and e5."""
    directory = tmp_path_factory.mktemp(f"{request.param}-index")
    return open_knowledge_base(directory, make_embedder(request.param))


@pytest.fixture(scope="module")
def packs() -> LanguagePacks:
    return LanguagePacks()


def top_cards(knowledge, packs, text: str, k: int = 3) -> list[str]:
    return card_ranker(knowledge, packs, k)(text)


SITUATIONS = [
    (
        "The shop said I must have dropped it, so apparently it's my fault.",
        "never-blame-the-customer",
    ),
    ("Εσείς είστε απατεώνες και κλέφτες, ντροπή σας, άχρηστοι!", "wise-not-tyrant"),
    ("Пишу вам уже неделю, никто не отвечает ни в чате, ни по почте.", "react-at-once"),
    ("Kubek przyszedł stłuczony, a sklep każe odesłać skorupy.", "replace-without-questioning"),
    ("Nobody told me there was a fee for paying by card, it wasn't mentioned.", "never-assume"),
    ("Obsługa była arogancka, pani przy kasie śmiała się ze mnie.", "no-condescending-remarks"),
    # The customer's own part in it: the card warns against saying so in public.
    (
        "My daughter dropped the vase once and now the glaze is cracked all over.",
        "never-blame-the-customer",
    ),
    (
        "Μου έπεσε μία φορά από το τραπέζι και ράγισε η οθόνη, πολύ εύθραυστο.",
        "never-blame-the-customer",
    ),
    ("Я уронил чайник один раз, и ручка сразу отломилась.", "never-blame-the-customer"),
    ("Upuściłam kubek raz na dywan i ucho od razu odpadło.", "never-blame-the-customer"),
]


@pytest.mark.parametrize(("text", "card"), SITUATIONS)
def test_the_card_for_the_situation_comes_back_in_the_top_three(knowledge, packs, text, card):
    assert card in top_cards(knowledge, packs, text)


def test_routes_make_retrieval_better_than_similarity_alone(knowledge, packs):
    """On the labelled dev reviews, the hybrid finds more of the cards a coach insists on than
    similarity alone; and it does not fall below the level measured when it was built."""
    queries = labelled_queries(read_jsonl(LABELS / "retrieval.jsonl"), dev_reviews())
    hybrid = evaluate(lambda text: top_cards(knowledge, packs, text, 10), queries)
    plain = evaluate(lambda text: [s.card.id for s in knowledge.retrieve_cards(text, 10)], queries)
    assert hybrid["all"].recall_at_3 > plain["all"].recall_at_3
    assert hybrid["all"].recall_at_3 >= 0.45


async def test_a_burst_of_reviews_on_a_freshly_started_index_all_get_their_cards(tmp_path):
    """With a model or a network behind the embeddings (e5, openai), retrieval runs in worker
    threads, so the first reviews after a start (a restart with messages waiting) reach the
    index from several threads at once: each gets its cards, none an index error. The cheap
    hash embedder is used here, in the same threads, to keep the test fast."""
    knowledge = open_knowledge_base(tmp_path / "index", make_embedder("hash"))
    packs = LanguagePacks()
    reviews = [understand(row["text"], packs) for row in list(dev_reviews().values())[:24]]
    cards = await asyncio.gather(
        *(asyncio.to_thread(knowledge.retrieve_cards, review.text, 4) for review in reviews)
    )
    assert all(len(found) == 4 for found in cards)
