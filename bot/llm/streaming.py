"""Reading the public reply out of a JSON answer while it is still being written."""

from __future__ import annotations

import json
import re

_KEY = re.compile(r'"public_reply"\s*:\s*"')


class PublicReplyStream:
    """Feed it the answer's text so far; it returns the part of the public reply not yet seen.

    Only complete JSON string pieces are decoded: a trailing backslash or a half-written \\uXXXX
    waits for the next chunk, so no garbled character ever reaches the seller.
    """

    def __init__(self) -> None:
        self._emitted = 0
        self._start: int | None = None
        self._done = False

    def feed(self, answer_so_far: str) -> str:
        if self._done:
            return ""
        if self._start is None:
            found = _KEY.search(answer_so_far)
            if found is None:
                return ""
            self._start = found.end()
        decoded, self._done = _decode_prefix(answer_so_far[self._start :])
        delta = decoded[self._emitted :]
        self._emitted = len(decoded)
        return delta


def _decode_prefix(raw: str) -> tuple[str, bool]:
    """The decoded JSON string content up to its closing quote or the last safe point, and
    whether the closing quote was reached."""
    end = 0
    index = 0
    closed = False
    while index < len(raw):
        char = raw[index]
        if char == '"':
            end = index
            closed = True
            break
        if char == "\\":
            if index + 1 >= len(raw):
                break
            step = 6 if raw[index + 1] == "u" else 2
            if index + step > len(raw):
                break
            index += step
        else:
            index += 1
        end = index
    try:
        return json.loads(f'"{raw[:end]}"'), closed
    except json.JSONDecodeError:
        return "", False
