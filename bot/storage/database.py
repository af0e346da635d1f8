"""The bot's own database: SQLite under COACH_DATA_DIR, in WAL mode, migrated on open.

It holds what the seller expects to find again: their profile, the drafts behind the buttons
(so buttons keep working after a restart) and their usage per day. Everything about a user is
keyed by their Telegram id, so /forget is a delete per table.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.engine.models import Draft, SellerProfile
from bot.errors import CoachError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Drafts kept per user: enough for the buttons on recent messages, without hoarding reviews.
# The trigger of migrations/003 removes older ones as each draft is added (tests hold the two
# equal).
KEEP_DRAFTS = 50
# Seconds a write waits for another process's lock before giving up.
BUSY_TIMEOUT_MS = 5000


class StorageError(CoachError):
    """The database could not be read or written."""


@dataclass(frozen=True)
class StoredDraft:
    id: str
    user_id: int
    review: str
    variant: int
    profile: SellerProfile
    draft: Draft


@dataclass(frozen=True)
class DayUsage:
    drafts: int = 0
    checks: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@asynccontextmanager
async def _storage_errors(action: str) -> AsyncIterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        # The seller sees the sentence; the log gets the cause (never row contents).
        logger.error("database: could not %s: %s", action, error)  # noqa: TRY400 - no rows in logs
        raise StorageError(f"I could not {action} just now (storage problem).") from error


def migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, str]]:
    """(version, SQL) for each ``NNN_name.sql``, in order."""
    found = [(int(path.name.split("_")[0]), path) for path in directory.glob("*.sql")]
    return [(version, path.read_text(encoding="utf-8")) for version, path in sorted(found)]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


class Storage:
    def __init__(self, connection: aiosqlite.Connection, path: Path, busy_timeout_ms: int) -> None:
        self._db = connection
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._reconnecting = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Storage:
        """Connect, switch to WAL (readers never block the writer; a killed process loses at
        most the transaction in flight) and apply pending migrations."""
        return cls(await _connect(path, busy_timeout_ms), path, busy_timeout_ms)

    async def _present(self) -> aiosqlite.Connection:
        """The connection, after making sure the file is still there: a database deleted under
        a running bot would otherwise swallow every write until the restart, then lose them."""
        if self.path.exists():
            return self._db
        async with self._reconnecting:
            if not self.path.exists():  # not already replaced by a concurrent call
                logger.error("database %s was deleted while running; starting anew", self.path)
                await self._db.close()
                self._db = await _connect(self.path, self.busy_timeout_ms)
        return self._db

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        return await _user_version(await self._present())

    async def profile(self, user_id: int) -> SellerProfile:
        db = await self._present()
        async with _storage_errors("read your profile"):
            row = await _first(db, "SELECT profile FROM profiles WHERE user_id = ?", (user_id,))
        return SellerProfile.model_validate_json(row[0]) if row else SellerProfile()

    async def save_profile(self, user_id: int, profile: SellerProfile) -> None:
        db = await self._present()
        async with _storage_errors("save your profile"):
            await db.execute(
                "INSERT INTO profiles (user_id, profile, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile, "
                "updated_at = excluded.updated_at",
                (user_id, profile.model_dump_json(), _now()),
            )

    async def save_draft(
        self, user_id: int, review: str, variant: int, profile: SellerProfile, draft: Draft
    ) -> StoredDraft:
        stored = StoredDraft(secrets.token_urlsafe(6), user_id, review, variant, profile, draft)
        db = await self._present()
        # One statement: the trigger drafts_keep_latest (migration 003) trims the user's old ones.
        async with _storage_errors("keep this draft"):
            await db.execute(
                "INSERT INTO drafts (id, user_id, review, variant, profile, draft, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    user_id,
                    review,
                    variant,
                    profile.model_dump_json(),
                    draft.model_dump_json(),
                    _now(),
                ),
            )
        return stored

    async def draft(self, draft_id: str, user_id: int) -> StoredDraft | None:
        """The draft, only if it belongs to this user: an id from someone else's message (or a
        tampered one) finds nothing."""
        return await self._one_draft("id = ? AND user_id = ?", (draft_id, user_id))

    async def last_draft(self, user_id: int) -> StoredDraft | None:
        return await self._one_draft(
            "user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1", (user_id,)
        )

    async def _one_draft(self, where: str, parameters: tuple[object, ...]) -> StoredDraft | None:
        db = await self._present()
        async with _storage_errors("find that draft"):
            row = await _first(
                db,
                f"SELECT id, user_id, review, variant, profile, draft FROM drafts WHERE {where}",
                parameters,
            )
        if row is None:
            return None
        return StoredDraft(
            id=row[0],
            user_id=row[1],
            review=row[2],
            variant=row[3],
            profile=SellerProfile.model_validate_json(row[4]),
            draft=Draft.model_validate_json(row[5]),
        )

    async def count_usage(
        self,
        user_id: int,
        *,
        drafts: int = 0,
        checks: int = 0,
        llm_calls: int = 0,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        db = await self._present()
        async with _storage_errors("count your usage"):
            await db.execute(
                "INSERT INTO usage (user_id, day, drafts, checks, llm_calls, prompt_tokens, "
                "completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, day) DO "
                "UPDATE SET drafts = drafts + excluded.drafts, checks = checks + excluded.checks, "
                "llm_calls = llm_calls + excluded.llm_calls, "
                "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens",
                (user_id, _today(), drafts, checks, llm_calls, prompt_tokens, completion_tokens),
            )

    async def usage_today(self, user_id: int) -> DayUsage:
        db = await self._present()
        async with _storage_errors("read your usage"):
            row = await _first(
                db,
                "SELECT drafts, checks, llm_calls, prompt_tokens, completion_tokens FROM usage "
                "WHERE user_id = ? AND day = ?",
                (user_id, _today()),
            )
        return DayUsage(*row) if row else DayUsage()

    async def hold(self, update_id: int, user_id: int, payload: str) -> int:
        """Keep an update until it is answered; returns how many times it has been tried."""
        db = await self._present()
        async with _storage_errors("note this message"):
            row = await _first(
                db,
                "INSERT INTO inbox (update_id, user_id, payload, attempts, received_at) "
                "VALUES (?, ?, ?, 1, ?) "
                "ON CONFLICT (update_id) DO UPDATE SET attempts = attempts + 1 "
                "RETURNING attempts",
                (update_id, user_id, payload, _now()),
            )
        return int(row[0]) if row else 1

    async def release(self, update_id: int) -> None:
        db = await self._present()
        async with _storage_errors("finish this message"):
            await db.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

    async def held(self) -> list[str]:
        """Updates left unanswered by the last run (a crash, a restart), oldest first."""
        db = await self._present()
        async with _storage_errors("read unfinished messages"):
            rows = await db.execute_fetchall("SELECT payload FROM inbox ORDER BY update_id")
        return [row[0] for row in rows]

    async def claim_abandoned(self, lease_seconds: float) -> list[str]:
        """Updates held for longer than ``lease_seconds`` (the process handling them is gone),
        oldest first, each claimed for this process by starting its lease anew. One statement:
        of replicas sweeping at the same moment, one gets each update."""
        now = datetime.now(UTC)
        cutoff = (now - timedelta(seconds=lease_seconds)).isoformat()
        db = await self._present()
        async with _storage_errors("read unfinished messages"):
            rows = await db.execute_fetchall(
                "UPDATE inbox SET received_at = ? WHERE received_at < ? "
                "RETURNING update_id, payload",
                (now.isoformat(), cutoff),
            )
        return [payload for _, payload in sorted(rows)]

    async def forget(self, user_id: int) -> None:
        """Everything stored about the user, in one transaction."""
        db = await self._present()
        async with _storage_errors("delete your data"), _transaction(db):
            for table in ("profiles", "drafts", "usage", "inbox"):
                await db.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))


@asynccontextmanager
async def _transaction(db: aiosqlite.Connection) -> AsyncIterator[None]:
    """Several statements that stand or fall together (the connection autocommits)."""
    await db.execute("BEGIN")
    try:
        yield
    except BaseException:
        with suppress(sqlite3.Error):  # the error that brought us here is the one to report
            await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")


async def _first(db: aiosqlite.Connection, sql: str, parameters: tuple[object, ...]) -> Any:
    """The first row of a statement, or None. One trip to the database thread, where execute,
    fetchone and closing the cursor are three: every message costs several of these, and a
    burst of them queues on the one thread."""
    rows = await db.execute_fetchall(sql, parameters)
    return next(iter(rows), None)


async def _connect(path: Path, busy_timeout_ms: int) -> aiosqlite.Connection:
    async with _storage_errors("open the database"):
        path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: each statement is its own transaction, so a write is one trip to the
        # database thread rather than two (statement, then commit); under a burst of reviews
        # every message makes several, and they queue on that one thread.
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA synchronous = NORMAL")
            await _migrate(connection)
        except BaseException:
            await connection.close()
            raise
    return connection


async def _user_version(db: aiosqlite.Connection) -> int:
    """The schema version, as the last migration applied set it."""
    row = await _first(db, "PRAGMA user_version", ())
    return int(row[0]) if row else 0


async def _migrate(connection: aiosqlite.Connection) -> None:
    current = await _user_version(connection)
    for version, sql in migrations():
        if version <= current:
            continue
        # One script per version, committed with its version number, so a crash mid-way leaves
        # the previous version intact and the next start applies it again.
        await connection.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        logger.info("database migrated to version %s", version)
