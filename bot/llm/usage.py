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

    def add(self, user: str, prompt_tokens: int, completion_tokens: int) -> None:
        usage = self._by_user[user]
        usage.calls += 1
        usage.prompt_tokens += prompt_tokens
        usage.completion_tokens += completion_tokens

    def of(self, user: str) -> Usage:
        return self._by_user.get(user, Usage())
