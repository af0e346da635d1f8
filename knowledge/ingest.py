"""Turning files and cards into chunks the index can store.

A source (a file, or a card) becomes one :class:`SourceDocument`: a stable key, a fingerprint of its
content and its chunks. The index compares fingerprints to decide what to add, keep or replace.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.cards import LANGUAGES
from knowledge.errors import EmptyTextError, SourceNotFoundError, UnreadableFileError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from knowledge.cards import Card
    from knowledge.language import LanguageDetector

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm"})
# Bump when chunking changes, so every source is re-chunked once.
CHUNKER_VERSION = "6"
CHUNK_SIZE = 800
CHUNK_OVERLAP = 120

CARD_ID_SEPARATOR = "::"
# Example complaints indexed per card and language. e5 costs about 25 ms per example on two cores;
# two measured as well as six on the labelled reviews (recall@3 within 0.02) at a third of the
# build time.
EXAMPLES_PER_LANGUAGE = 2

MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    metadata: dict[str, MetadataValue]


@dataclass(frozen=True)
class SourceDocument:
    key: str
    fingerprint: str
    chunks: list[Chunk]
    path: str | None = None


def _fingerprint(*parts: str) -> str:
    digest = hashlib.sha256(CHUNKER_VERSION.encode())
    for part in parts:
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


class _HTMLText(HTMLParser):
    """Visible text and title of an HTML page; script and style contents are dropped."""

    _SKIP = frozenset({"script", "style", "noscript", "template"})
    _BLOCK = frozenset({"p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "section", "article"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.first_heading = ""
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._stack.append(tag)
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if any(tag in self._SKIP for tag in self._stack):
            return
        current = self._stack[-1] if self._stack else ""
        if current == "title":
            self.title += data.strip()
            return
        if current == "h1" and not self.first_heading:
            self.first_heading = data.strip()
        self.parts.append(data)


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise UnreadableFileError(f"{path} looks like a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            f"{path} is not UTF-8 text (bad byte at position {error.start})"
        ) from error
    return text


def _title_and_body(path: Path, text: str) -> tuple[str, str]:
    if path.suffix.lower() in {".html", ".htm"}:
        parser = _HTMLText()
        parser.feed(text)
        parser.close()
        body = "\n".join(line.strip() for line in "".join(parser.parts).splitlines())
        title = parser.title or parser.first_heading
    else:
        body = text
        title = ""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if not lines:
        raise EmptyTextError(f"{path} has no text to index")
    title = title or lines[0].lstrip("#").strip()
    return title[:120], "\n".join(lines)


def _split(body: str) -> list[str]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: PLC0415

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_text(body)


def read_document(path: Path, detector: LanguageDetector) -> SourceDocument:
    """A file as chunks with metadata (file name, title, language, position)."""
    title, body = _title_and_body(path, _read_text(path))
    resolved = str(path.resolve())
    key = "file:" + resolved
    fingerprint = _fingerprint(body)
    language = detector.detect(body)
    chunks = [
        Chunk(
            id=f"{hashlib.sha1(key.encode()).hexdigest()[:16]}-{position}",
            text=text,
            metadata={
                "kind": "document",
                "source_key": key,
                "fingerprint": fingerprint,
                "file_name": path.name,
                "path": resolved,
                "title": title,
                "language": language,
                "position": position,
            },
        )
        for position, text in enumerate(_split(body))
    ]
    return SourceDocument(key=key, fingerprint=fingerprint, chunks=chunks, path=resolved)


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """The supported files named or found under the given paths; a missing path is an error."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise SourceNotFoundError(f"{path} does not exist")
        if path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)
            )
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            files.append(path)
        else:
            raise UnreadableFileError(
                f"{path} is not a .txt, .md or .html file; those are the kinds ingest reads"
            )
    return files


def card_document(
    card: Card, examples: Mapping[str, Sequence[str]] | None = None
) -> SourceDocument:
    """A card as many small chunks: its principle (English) and each example complaint on its
    own, in four languages. A review is matched against all of them and a card scores by its
    closest few, so a Polish review meets Polish complaints head-on instead of a blend of four
    languages."""
    examples = examples or {}
    key = "card:" + card.id
    fingerprint = _fingerprint(
        json.dumps([card.model_dump(), examples], sort_keys=True, ensure_ascii=False)
    )
    # Title, principle and situations: the card's meaning in a few lines (do/don't lists and
    # facts would double the embedding time and add little to matching).
    principle = "\n".join([card.title, card.principle, *card.applies_to.situations])
    parts: list[tuple[str, str, str]] = [("principle", "en", principle)]
    # Cue lists are left out: a comma-separated list of phrases embeds poorly and slowly, and
    # the example complaints say the same in whole sentences.
    parts += [
        ("example", language, text)
        for language in LANGUAGES
        for text in examples.get(language, ())[:EXAMPLES_PER_LANGUAGE]
    ]
    chunks = [
        Chunk(
            # The card id leads the chunk id, so a query can rank cards from ids alone.
            id=f"{card.id}{CARD_ID_SEPARATOR}{part}:{language}:{position}",
            text=text,
            metadata={
                "kind": "card",
                "source_key": key,
                "fingerprint": fingerprint,
                "card_id": card.id,
                "title": card.title,
                "article": card.article,
                "file_name": card.article,
                "language": language,
                "part": part,
                "position": position,
            },
        )
        for position, (part, language, text) in enumerate(parts)
        if text.strip()
    ]
    return SourceDocument(key=key, fingerprint=fingerprint, chunks=chunks)


def card_id_of(chunk_id: str) -> str:
    return chunk_id.split(CARD_ID_SEPARATOR, 1)[0]
