"""The index outlives the process that built it, and the CLI stays light and clear."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=Path.cwd(),
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_new_process_reopens_the_index_with_its_embedding_function(isolated_env):
    """Process 1 builds the index. Process 2 opens the collection with plain chromadb and no
    embedding function given: chroma must rebuild ours from the persisted config (not fall back
    to its default, which downloads a model) and answer a text query."""
    built = cli("kb", "stats", "--json", env={"COACH_EMBEDDINGS": "e5"})
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["card_chunks"] > 100

    code = f"""
import json, chromadb, knowledge.chroma_store
from chromadb.config import Settings
path = {str(isolated_env / "index")!r}
client = chromadb.PersistentClient(path, Settings(anonymized_telemetry=False))
collection = client.get_collection("cards-e5")
found = collection.query(query_texts=["посылка пришла разбитой"], n_results=3)
ef = collection.configuration["embedding_function"]
print(json.dumps({{"ef": ef.name(), "config": ef.get_config(), "ids": found["ids"][0]}}))
"""
    home = isolated_env.parent / "home"
    home.mkdir()
    reopened = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert reopened.returncode == 0, reopened.stderr
    answer = json.loads(reopened.stdout)
    assert answer["ef"] == "complaint-coach"
    assert answer["config"]["backend"] == "e5"
    assert all("::" in chunk_id for chunk_id in answer["ids"])  # card chunks
    # chroma's default embedding would have fetched an ONNX model into ~/.cache/chroma.
    assert not (home / ".cache" / "chroma").exists()


def test_the_second_process_finds_the_cards_already_indexed(isolated_env):
    cli("kb", "stats", env={"COACH_EMBEDDINGS": "hash"})
    again = cli("ingest", "--json", str(REPO / "README.md"), env={"COACH_EMBEDDINGS": "hash"})
    assert again.returncode == 0, again.stderr
    second = cli("kb", "stats", "--json", env={"COACH_EMBEDDINGS": "hash"})
    stats = json.loads(second.stdout)
    assert stats["document_chunks"] >= 1
    assert stats["card_chunks"] > 100


def test_commands_that_do_not_need_telegram_never_import_aiogram(isolated_env):
    code = (
        "import sys; from bot.cli import run; "
        "run(['kb', 'search', '--json', 'late parcel']); "
        "print('AIOGRAM' if 'aiogram' in sys.modules else 'CLEAN', file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO), "COACH_EMBEDDINGS": "hash"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stderr.strip().endswith("CLEAN"), result.stderr


def test_a_bad_setting_is_one_line_naming_the_variable(isolated_env):
    result = cli("kb", "search", "late parcel", env={"COACH_EMBEDDINGS": "magic"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "COACH_EMBEDDINGS" in result.stderr
    assert "Traceback" not in result.stderr
