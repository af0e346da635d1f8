"""Token use per user, from what the LLM service reports (never counted locally)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class UsageLedger:
    """In-memory totals per user for this process; the bot persists them with its storage."""

    def __init__(self) -> None:
        self._by_user: defaultdict[str, Usage] = defaultdict(Usage)
        # Not yet persisted: what take() hands to the bot's storage.
        self._unsaved: defaultdict[str, Usage] = defaultdict(Usage)

    def add(self, user: str, prompt_tokens: int, completion_tokens: int) -> None:
        for usage in (self._by_user[user], self._unsaved[user]):
            usage.calls += 1
            usage.prompt_tokens += prompt_tokens
            usage.completion_tokens += completion_tokens

    def take(self, user: str) -> Usage:
        """What the user used since the last take (synchronous, so concurrent drafts of one user
        each take a share and none is counted twice)."""
        return self._unsaved.pop(user, Usage())

    def of(self, user: str) -> Usage:
        return self._by_user.get(user, Usage())
