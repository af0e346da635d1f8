"""The embedding backends that run offline: stable, normalised, and meaningful."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from knowledge.embeddings import E5Embedder, HashEmbedder
from knowledge.textfold import fold, folded_with_positions
from tests.conftest import REPO


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_hash_embedding_is_identical_in_another_process_with_another_hash_seed():
    text = "Η παραγγελία ήρθε σπασμένη"
    here = HashEmbedder().embed_query(text)
    code = (
        "import json; from knowledge.embeddings import HashEmbedder; "
        f"print(json.dumps(HashEmbedder().embed_query({text!r})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, check=True, text=True
    ).stdout
    assert json.loads(out) == here


def test_hash_embedding_is_unit_length_and_matches_inflected_forms():
    embedder = HashEmbedder()
    vector = embedder.embed_query("посылка пришла поздно")
    assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-9)
    inflected = embedder.embed_query("жду посылку")
    unrelated = embedder.embed_query("грубый оператор")
    assert _cosine(vector, inflected) > _cosine(vector, unrelated)


def test_e5_runs_offline_and_matches_meaning_across_languages():
    """A Russian complaint about a late parcel is closer to English text about late delivery
    than to English text about rude staff: the cards must be found across languages."""
    embedder = E5Embedder()
    review = embedder.embed_query("Заказ шёл три недели, до сих пор жду посылку")
    late, rude = embedder.embed_passages(
        ["The parcel arrived weeks late and I am still waiting", "The staff were rude to me"]
    )
    assert len(review) == 384
    assert _cosine(review, late) > _cosine(review, rude)


def test_folding_ignores_case_accents_and_apostrophe_style():
    for text in ("Won’t WORK in Łódź", "Καθυστέρηση ΠΑΡΑΓΓΕΛΊΑΣ", "Заказ № 5"):
        assert fold(text) == folded_with_positions(text)[0]
    assert fold("Won’t") == fold("won't")
    assert fold("ΚΑΘΥΣΤΈΡΗΣΗ") == fold("καθυστερηση")
    assert fold("Zażółć") == "zazolc"
