"""The learned card reader: trained on labelled reviews outside the benchmark, it must find more of
the cards people insist on, on reviews and labellers it never learned from."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench.common import LABELS, card_ranker, dev_reviews, read_jsonl
from bench.retrieval import LABELLERS
from bot.engine.language_pack import LanguagePacks
from knowledge.cards import load_cards
from knowledge.embeddings import HashEmbedder, make_embedder
from knowledge.errors import CardFormatError
from knowledge.evaluation import evaluate, labelled_queries
from knowledge.reader import READER_DIR, load_reader
from knowledge.retrieval import open_knowledge_base


@pytest.fixture(scope="module")
def packs() -> LanguagePacks:
    return LanguagePacks()


@pytest.mark.parametrize("backend", ["hash", "e5"])
def test_each_shipped_reader_knows_exactly_the_shipped_cards(backend):
    """A card added or renamed since the reader was trained means: retrain it."""
    reader = load_reader(READER_DIR / f"{backend}.npz")
    assert set(reader.card_ids) == {card.id for card in load_cards()}
    assert reader.serves(make_embedder(backend).config())  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["hash", "e5"])
def test_no_benchmark_review_was_learned_from(backend):
    benchmark = {row["id"] for file in LABELLERS.values() for row in read_jsonl(LABELS / file)}
    trained_on = set(load_reader(READER_DIR / f"{backend}.npz").trained_on)
    assert len(trained_on) >= 400
    assert not trained_on & benchmark


@pytest.mark.parametrize("labeller", ["second", "third"])
def test_the_reader_finds_more_of_the_cards_people_insist_on(tmp_path, packs, labeller):
    """On the benchmark's reviews, scored against labellers whose choices it never saw."""
    queries = labelled_queries(read_jsonl(LABELS / LABELLERS[labeller]), dev_reviews())
    embedder = make_embedder("hash")
    with_reader = open_knowledge_base(tmp_path, embedder)
    without = open_knowledge_base(tmp_path, embedder, with_reader=False)
    assert with_reader.reader is not None
    read = evaluate(card_ranker(with_reader, packs), queries)["all"].recall_at_3
    unread = evaluate(card_ranker(without, packs), queries)["all"].recall_at_3
    assert read >= unread + 0.04


def test_a_reader_is_not_used_with_an_embedder_it_was_not_trained_with(tmp_path, packs):
    knowledge = open_knowledge_base(tmp_path, HashEmbedder(dimension=512))
    assert knowledge.reader is None
    found = card_ranker(knowledge, packs)("The parcel came two weeks late and nobody answered.")
    assert len(found) == 10


def test_a_card_the_reader_does_not_know_counts_as_average(tmp_path, packs):
    """A card written after the reader was trained neither vanishes nor crowds every review:
    its route still brings it where it belongs (the customer was blamed), and it stays out of
    a review about something else (a late parcel)."""
    knowledge = open_knowledge_base(tmp_path, make_embedder("hash"))
    reader = knowledge.reader
    assert reader is not None
    card = "never-blame-the-customer"
    keep = [position for position, card_id in enumerate(reader.card_ids) if card_id != card]
    knowledge.reader = dataclasses.replace(
        reader,
        card_ids=tuple(reader.card_ids[position] for position in keep),
        weights=reader.weights[keep],
        bias=reader.bias[keep],
    )
    read = card_ranker(knowledge, packs)
    assert card in read("The shop said I must have dropped it, so apparently it's my fault.")[:3]
    assert card not in read("The parcel came two weeks late and the tracking never updated.")[:3]


def test_a_damaged_reader_file_is_named_in_a_clear_error(tmp_path):
    damaged = tmp_path / "hash.npz"
    damaged.write_bytes(b"PK\x03\x04 not really a zip archive")
    with pytest.raises(CardFormatError, match=r"hash\.npz is damaged"):
        load_reader(damaged)


def test_a_reader_with_weights_for_the_wrong_cards_is_refused(tmp_path):
    reader = load_reader(READER_DIR / "hash.npz")
    broken = dataclasses.replace(reader, bias=np.zeros(3, dtype=np.float32))
    broken.save(tmp_path / "hash.npz")
    with pytest.raises(CardFormatError, match=f"3 biases for {len(reader.card_ids)} cards"):
        load_reader(tmp_path / "hash.npz")
