"""Reading the seller's text from arguments, standard input or JSON-lines files, safely."""

from __future__ import annotations

import codecs
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def clean_text(text: str) -> str:
    """Replace lone surrogates (invalid UTF-8 on the command line, or escapes in JSON) by U+FFFD,
    so nothing downstream fails to print or store the text."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def text_argument(value: str | None, what: str) -> str:
    """The TEXT argument, '-' for standard input; a missing one is a clear error."""
    if value is None or value == "-":
        if value is None and sys.stdin.isatty():
            raise InputError(f"give the {what} as an argument, or - to read it from standard input")
        raw = sys.stdin.buffer.read()
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InputError(
                f"standard input is not UTF-8 text (bad byte at position {error.start})"
            ) from error
    if any("\udc80" <= char <= "\udcff" for char in value):
        raise InputError(f"the {what} is not valid UTF-8 text")
    return clean_text(value)


@dataclass(frozen=True)
class BatchLine:
    number: int
    id: object
    fields: dict[str, object] | None
    error: str | None


def read_batch(path: Path) -> Iterator[BatchLine]:
    """One item per non-empty line; a line that is not a JSON object becomes an error item."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}") from error
    # A file saved by Notepad starts with a byte-order mark, which made its first line "not valid
    # JSON"; standard input is read as utf-8-sig for the same reason.
    raw = raw.removeprefix(codecs.BOM_UTF8)
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        if not line_bytes.strip():
            continue
        try:
            data = json.loads(line_bytes.decode("utf-8"))
        # ValueError covers bad UTF-8, bad JSON and an integer of over 4,300 digits; a line nested
        # a thousand brackets deep raises RecursionError. Both used to end the batch in a traceback.
        except (ValueError, RecursionError) as error:
            # No id can be read from a broken line, so its line number stands in.
            yield BatchLine(number, number, None, f"line {number} is not valid JSON ({error})")
            continue
        if not isinstance(data, dict):
            yield BatchLine(number, number, None, f"line {number} is not a JSON object")
            continue
        yield BatchLine(number, data.get("id", number), data, None)
