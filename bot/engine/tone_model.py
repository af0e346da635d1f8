"""A learned second opinion for the tone checker: one small classifier per language and kind.

Phrase lexicons are precise but only catch the wordings someone thought of; a seller who writes
"glass like this doesn't crack by itself" blames the customer without any listed phrase. These
classifiers (logistic regression over hashed words and character n-grams) learn blame, arguing,
sarcasm and boilerplate from example sentences in knowledge/tone/training/<lang>.yaml and score
every sentence of a reply in well under a millisecond.

Training takes a second with scikit-learn, so the weights are cached as plain numpy arrays under
the data directory, keyed by a fingerprint of the training file; later processes only load them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from knowledge.data import read_yaml
from knowledge.embeddings import HashEmbedder

if TYPE_CHECKING:
    from pathlib import Path

LEARNED_KINDS = ("blame", "argue", "sarcasm", "corporate")
# Probability above which a sentence is flagged. High on purpose: the lexicons already catch the
# usual phrasings, and a false alarm on a sincere reply costs the seller's trust.
THRESHOLD = 0.8
FEATURES = 4096
MODEL_VERSION = "1"


@dataclass(frozen=True)
class KindModel:
    weights: np.ndarray
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(features @ self.weights + self.bias)))


class ToneModels:
    """The classifiers of one language, trained or loaded on first use."""

    def __init__(self, training_file: Path, cache_dir: Path | None) -> None:
        self.training_file = training_file
        self.cache_dir = cache_dir
        self.embedder = HashEmbedder(FEATURES)
        self._models: dict[str, KindModel] | None = None

    def _fingerprint(self) -> str:
        content = self.training_file.read_bytes() + MODEL_VERSION.encode()
        return hashlib.sha256(content).hexdigest()[:16]

    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"tone-{self.training_file.stem}-{self._fingerprint()}.npz"

    def _load_or_train(self) -> dict[str, KindModel]:
        cache = self._cache_path()
        if cache is not None and cache.exists():
            stored = np.load(cache)
            return {
                kind: KindModel(stored[f"{kind}_w"], float(stored[f"{kind}_b"]))
                for kind in LEARNED_KINDS
            }
        models = self._train()
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            arrays = {f"{kind}_w": model.weights for kind, model in models.items()}
            arrays |= {f"{kind}_b": np.array(model.bias) for kind, model in models.items()}
            np.savez(cache, **arrays)  # type: ignore[arg-type]
        return models

    def _train(self) -> dict[str, KindModel]:
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - only when training

        data = read_yaml(self.training_file)
        sentences: list[str] = []
        labels: list[str] = []
        for label in (*LEARNED_KINDS, "neutral"):
            for sentence in data.get(label, []):
                sentences.append(str(sentence))
                labels.append(label)
        features = np.array([self.embedder.embed_array(sentence) for sentence in sentences])
        models = {}
        for kind in LEARNED_KINDS:
            target = np.array([label == kind for label in labels])
            classifier = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000)
            classifier.fit(features, target)
            models[kind] = KindModel(classifier.coef_[0].copy(), float(classifier.intercept_[0]))
        return models

    def models(self) -> dict[str, KindModel]:
        if self._models is None:
            self._models = self._load_or_train()
        return self._models

    def flagged(self, sentences: list[str]) -> dict[str, str]:
        """kind -> the first sentence the classifier is confident shows it."""
        if not sentences:
            return {}
        features = np.array([self.embedder.embed_array(sentence) for sentence in sentences])
        found: dict[str, str] = {}
        for kind, model in self.models().items():
            probabilities = model.probability(features)
            hits = np.flatnonzero(probabilities >= THRESHOLD)
            if hits.size:
                found[kind] = sentences[int(hits[0])]
        return found
