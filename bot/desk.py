"""What the bot does for one seller, in plain async Python: drafts remembered for the buttons,
their variations, checking the seller's own reply, the profile, forgetting.

The Telegram handlers only translate updates into these calls and render what comes back; the
engine does the coaching, the storage remembers.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from bot.engine.models import Draft, SellerProfile
from bot.errors import CoachError, InputError
from bot.storage.database import StorageError, StoredDraft

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.engine.models import ToneReport
    from bot.engine.service import CoachEngine, ReplyPiece
    from bot.storage.database import Storage

Change = Literal["another", "shorter", "warmer", "formal"]
# What each variation asks of the profile ("another" asks nothing: the same profile).
PROFILE_CHANGES: dict[str, dict[str, str]] = {
    "shorter": {"length": "short"},
    "warmer": {"tone": "warm"},
    "formal": {"tone": "formal"},
}
# The id of a draft the database could not keep: it is shown, without buttons.
UNSAVED = ""


class DraftNotFoundError(CoachError):
    """A button points at a draft that is gone (forgotten, pruned) or is not this user's."""


class CoachingDesk:
    def __init__(self, engine: CoachEngine, storage: Storage) -> None:
        self.engine = engine
        self.storage = storage

    @property
    def streams(self) -> bool:
        """Whether drafts can be shown as they grow: only an LLM writes them piece by piece."""
        return self.engine.drafter is not None

    async def draft(
        self,
        user_id: int,
        review: str,
        *,
        variant: int = 0,
        profile: SellerProfile | None = None,
    ) -> StoredDraft:
        pieces = self.stream_draft(user_id, review, variant=variant, profile=profile, stream=False)
        async for item in pieces:
            last = item
        return last  # type: ignore[return-value]  # the stream always ends with the StoredDraft

    async def stream_draft(
        self,
        user_id: int,
        review: str,
        *,
        variant: int = 0,
        profile: SellerProfile | None = None,
        stream: bool = True,
    ) -> AsyncIterator[ReplyPiece | StoredDraft]:
        """Pieces of the public reply as an LLM writes them, then the stored draft."""
        profile = profile or await self._profile_or_default(user_id)
        pieces = self.engine.stream_draft(
            review, profile, variant=variant, stream=stream, user=str(user_id)
        )
        async for item in pieces:
            if isinstance(item, Draft):
                # Saved and counted at once: the two queue back to back on the database's one
                # thread, instead of each waiting behind a burst's other drafts before the send.
                stored, _ = await asyncio.gather(
                    self._keep(user_id, review, variant, profile, item),
                    self._count(user_id, drafts=1),
                )
                yield stored
            else:
                yield item

    async def _profile_or_default(self, user_id: int) -> SellerProfile:
        # A database having a bad moment must not cost the seller their draft (it is logged).
        try:
            return await self.storage.profile(user_id)
        except StorageError:
            return SellerProfile()

    async def _keep(
        self, user_id: int, review: str, variant: int, profile: SellerProfile, draft: Draft
    ) -> StoredDraft:
        """The draft, stored for its buttons; if it cannot be stored, the draft all the same,
        with no id (shown without buttons)."""
        try:
            return await self.storage.save_draft(user_id, review, variant, profile, draft)
        except StorageError:
            return StoredDraft(UNSAVED, user_id, review, variant, profile, draft)

    async def stored(self, user_id: int, draft_id: str) -> StoredDraft:
        stored = await self.storage.draft(draft_id, user_id)
        if stored is None:
            raise DraftNotFoundError(
                "That draft is no longer here (it was deleted or is too old). "
                "Paste the review again for a fresh one."
            )
        return stored

    async def vary(self, user_id: int, draft_id: str, change: Change) -> StoredDraft:
        """A new draft of the same review: another version, shorter, warmer or more formal.
        Asking for what the draft already is (warmer when already warm) gives another version
        in that style rather than the same text again."""
        previous = await self.stored(user_id, draft_id)
        wanted = _changed_profile(previous.profile, change)
        variant = previous.variant + 1 if wanted == previous.profile else previous.variant
        return await self.draft(user_id, previous.review, variant=variant, profile=wanted)

    async def check(self, user_id: int, reply: str, draft_id: str | None = None) -> ToneReport:
        """Coach the seller's own reply; with the review of a draft (the one named, else the
        latest), the reply is also rewritten."""
        if draft_id is not None:
            review: StoredDraft | None = await self.stored(user_id, draft_id)
        else:
            review = await self.storage.last_draft(user_id)
        report = await self.engine.check(reply, review.review if review else None)
        await self._count(user_id, checks=1)
        return report

    async def profile(self, user_id: int) -> SellerProfile:
        return await self.storage.profile(user_id)

    async def update_profile(self, user_id: int, **changes: Any) -> SellerProfile:
        """The profile with these fields changed, validated, saved."""
        current = await self.storage.profile(user_id)
        try:
            updated = SellerProfile.model_validate({**current.model_dump(), **changes})
        except ValidationError as error:
            raise InputError(f"that value cannot be used: {error.errors()[0]['msg']}") from error
        await self.storage.save_profile(user_id, updated)
        return updated

    async def forget(self, user_id: int) -> None:
        await self.storage.forget(user_id)
        self.engine.usage.take(str(user_id))

    async def _count(self, user_id: int, *, drafts: int = 0, checks: int = 0) -> None:
        used = self.engine.usage.take(str(user_id))
        with suppress(StorageError):  # counting must never stand between a seller and a draft
            await self.storage.count_usage(
                user_id,
                drafts=drafts,
                checks=checks,
                llm_calls=used.calls,
                prompt_tokens=used.prompt_tokens,
                completion_tokens=used.completion_tokens,
            )


def _changed_profile(profile: SellerProfile, change: Change) -> SellerProfile:
    return profile.model_copy(update=PROFILE_CHANGES.get(change, {}))
