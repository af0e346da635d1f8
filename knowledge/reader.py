"""A learned reading of a review: for each card, how strongly a coach would insist on it.

The routes (``routes.yaml``) say which cards the playbook puts first for a complaint type, a risk
or a situation; people who read a review pick its cards with more nuance than that (three
labellers agree at 0.77 to 0.93, the routes reach 0.52, see README). The reader learns from
labelled reviews what they pick: one logistic model per card over the review's embedding and
what was understood of it (complaint types, risks, situations, language). Its scores are added
to the routes' in retrieval, with a weight chosen on labellers it never learned from.

The weights are data (``knowledge/reader/<backend>.npz``), trained by ``bench/train_reader.py``
from labelled dev reviews; they hold no review text. A reader only serves the embedder it was
trained with: the dimensions of another would mean nothing to it.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.errors import CardFormatError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

READER_DIR = Path(__file__).parent / "reader"


def _named(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def understood_features(
    aspects: Sequence[str], flags: Sequence[str], situations: Sequence[str], language: str | None
) -> list[str]:
    """What was understood of a review, as the named features the reader was trained on. The
    main complaint type counts apart from the others: it is the one the reply faces first."""
    names = [_named("main_aspect", aspect) for aspect in aspects[:1]]
    names += [_named("aspect", aspect) for aspect in aspects[1:]]
    names += [_named("flag", flag) for flag in flags]
    names += [_named("situation", situation) for situation in situations]
    if language:
        names.append(_named("language", language))
    return names


def feature_vocabulary(
    aspects: Sequence[str],
    flags: Sequence[str],
    situations: Sequence[str],
    languages: Sequence[str],
) -> list[str]:
    """Every name ``understood_features`` can give for these vocabularies: a reader's columns."""
    return [
        *(_named("main_aspect", aspect) for aspect in aspects),
        *(_named("aspect", aspect) for aspect in aspects),
        *(_named("flag", flag) for flag in flags),
        *(_named("situation", situation) for situation in situations),
        *(_named("language", language) for language in languages),
    ]


def named_vector(positions: Mapping[str, int], understood: Iterable[str]) -> np.ndarray:
    """The named features as 0/1 columns (``positions``: name -> column); names the reader has
    no column for are left out."""
    vector = np.zeros(len(positions), dtype=np.float32)
    for name in understood:
        if (position := positions.get(name)) is not None:
            vector[position] = 1.0
    return vector


@dataclass(frozen=True)
class CardReader:
    card_ids: tuple[str, ...]
    named_features: tuple[str, ...]
    # cards x (embedding dimensions + named features), and one bias per card.
    weights: np.ndarray
    bias: np.ndarray
    # The embedding is scaled by this before the weights apply (as it was in training).
    vector_scale: float
    embedder: dict[str, Any]
    trained_on: tuple[str, ...]

    @property
    def dimension(self) -> int:
        return self.weights.shape[1] - len(self.named_features)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {name: position for position, name in enumerate(self.named_features)}

    def serves(self, embedder_config: dict[str, Any]) -> bool:
        return self.embedder == embedder_config

    def scores(self, vector: Sequence[float] | np.ndarray, understood: Iterable[str]) -> np.ndarray:
        """Each card's log-odds of being one a coach insists on, centred on their mean: a card
        the reader does not know (added since it was trained) then counts as average."""
        named = named_vector(self._positions, understood)
        embedding = np.asarray(vector, dtype=np.float32) * self.vector_scale
        logits = self.weights @ np.concatenate([embedding, named]) + self.bias
        return logits - logits.mean()

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            card_ids=np.array(self.card_ids),
            named_features=np.array(self.named_features),
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            vector_scale=np.float32(self.vector_scale),
            embedder=np.array(json.dumps(self.embedder, sort_keys=True)),
            trained_on=np.array(self.trained_on),
        )


def load_reader(path: Path) -> CardReader:
    try:
        with np.load(path, allow_pickle=False) as data:
            reader = CardReader(
                card_ids=tuple(str(card) for card in data["card_ids"]),
                named_features=tuple(str(name) for name in data["named_features"]),
                weights=data["weights"].astype(np.float32),
                bias=data["bias"].astype(np.float32),
                vector_scale=float(data["vector_scale"]),
                embedder=json.loads(str(data["embedder"])),
                trained_on=tuple(str(row) for row in data["trained_on"]),
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise CardFormatError(f"the card reader {path.name} is damaged: {error}") from error
    cards = len(reader.card_ids)
    if reader.weights.ndim != 2 or reader.weights.shape[0] != cards or reader.dimension < 1:
        raise CardFormatError(f"the card reader {path.name} has weights of the wrong shape")
    if reader.bias.shape != (cards,):
        raise CardFormatError(
            f"the card reader {path.name} has {reader.bias.size} biases for {cards} cards"
        )
    return reader


def reader_for(embedder_config: dict[str, Any], directory: Path = READER_DIR) -> CardReader | None:
    """The shipped reader trained with this embedder, if there is one."""
    path = directory / f"{embedder_config.get('backend')}.npz"
    if not path.exists():
        return None
    reader = load_reader(path)
    return reader if reader.serves(embedder_config) else None
