"""Shared fixtures: an isolated environment per test and the shared datasets beside the checkout."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.engine.language_pack import LanguagePacks
from bot.engine.service import CoachEngine
from knowledge.embeddings import make_embedder
from knowledge.retrieval import open_knowledge_base

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEV_REVIEWS = SHARED / "datasets" / "negative-reviews" / "dev"
PLAYBOOK = SHARED / "playbook"
LABELS = REPO / "bench" / "labels"


# Every secret the suite's flows use (fake tokens, keys, webhook secrets): no log line of the
# whole run may contain one.
KNOWN_SECRETS = (
    "TEST-TOKEN",
    "secret-token",
    "sk-test",
    "sk-from-file",
    "webhook-secret-for-tests",
)


class _SecretScanner(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines = 0
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "aiohttp.access":
            return  # the fake servers' own request log: their URLs carry the token by design
        line = self.format(record)
        self.lines += 1
        self.leaks += [f"{record.name}: {secret}" for secret in KNOWN_SECRETS if secret in line]


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_log_line():
    """Logs at the levels the product uses (INFO, our own modules at DEBUG, as with
    COACH_LOG_LEVEL=debug), scanned for every known secret across the whole suite."""
    scanner = _SecretScanner()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "bot", "knowledge")}
    root.addHandler(scanner)
    root.setLevel(logging.INFO)
    for ours in ("bot", "knowledge"):
        logging.getLogger(ours).setLevel(logging.DEBUG)
    yield scanner
    root.removeHandler(scanner)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    assert scanner.leaks == [], f"secrets in the logs: {scanner.leaks}"


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def dev_reviews() -> dict[str, dict]:
    """Every dev review by id. The data stays in ../shared; nothing of it is copied here."""
    assert DEV_REVIEWS.is_dir(), f"the shared datasets are expected at {DEV_REVIEWS}"
    return {
        row["id"]: row for path in sorted(DEV_REVIEWS.glob("*.jsonl")) for row in read_jsonl(path)
    }


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own data directory and no stray settings from the developer's shell."""
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_API_BASE",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "COACH_LLM_MODEL",
        "COACH_EMBEDDINGS",
        "COACH_ALLOWED_USERS",
        "COACH_LOG_LEVEL",
        "COACH_RATE_PER_MINUTE",
        "COACH_RATE_PER_DAY",
        "REDIS_URL",
        "TELEGRAM_WEBHOOK_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("COACH_DATA_DIR", str(data_dir))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # so no developer .env is picked up
    return data_dir


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> CoachEngine:
    """One engine for the session (hash embeddings: the composer and checker do not depend on
    the embedding backend, and hash builds its index in under a second)."""
    knowledge = open_knowledge_base(tmp_path_factory.mktemp("engine-index"), make_embedder("hash"))
    return CoachEngine(knowledge, LanguagePacks())
