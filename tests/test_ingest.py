"""`complaint-coach ingest` and its index: idempotent, change-aware, safe on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.cli import run
from tests.conftest import PLAYBOOK


def ingest(capsys: pytest.CaptureFixture[str], *paths: Path) -> dict[str, int]:
    assert run(["ingest", "--json", *map(str, paths)]) == 0
    return json.loads(capsys.readouterr().out)


def search(capsys: pytest.CaptureFixture[str], query: str, k: int = 5) -> list[dict]:
    assert run(["kb", "search", "--json", "-k", str(k), query]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def hash_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_EMBEDDINGS", "hash")


@pytest.fixture
def shop_docs(tmp_path: Path) -> Path:
    folder = tmp_path / "my-playbook"
    folder.mkdir()
    (folder / "returns.md").write_text(
        "# Our returns policy\n\nWe take back any mug within 30 days, no questions asked.\n",
        "utf-8",
    )
    (folder / "shipping.html").write_text(
        "<html><head><title>Shipping times</title><script>var x = 'hidden';</script></head>"
        "<body><h1>Shipping</h1><p>Parcels to Greece take 5 to 7 working days.</p></body></html>",
        "utf-8",
    )
    return folder


def test_ingesting_the_playbook_twice_changes_nothing_the_second_time(capsys, hash_backend):
    first = ingest(capsys, PLAYBOOK)
    assert first["added"] > 5
    assert first["removed"] == 0
    second = ingest(capsys, PLAYBOOK)
    assert second == {"added": 0, "unchanged": first["added"], "removed": 0}


def test_an_ingested_passage_is_found_with_its_file_title_and_text(capsys, hash_backend, shop_docs):
    ingest(capsys, shop_docs)
    hits = search(capsys, "parcels to Greece working days", k=3)
    top = hits[0]
    assert top["article"] == "shipping.html"
    assert top["title"] == "Shipping times"
    assert "5 to 7 working days" in top["text"]
    assert "hidden" not in top["text"]  # script contents are not indexed


def test_a_changed_file_replaces_its_old_chunks(capsys, hash_backend, shop_docs):
    ingest(capsys, shop_docs)
    (shop_docs / "returns.md").write_text(
        "# Our returns policy\n\nReturns are accepted within 60 days, postage on us.\n", "utf-8"
    )
    report = ingest(capsys, shop_docs)
    assert report == {"added": 1, "unchanged": 1, "removed": 1}
    texts = " ".join(hit["text"] for hit in search(capsys, "returns policy days", k=10))
    assert "60 days" in texts
    assert "30 days" not in texts


def test_a_file_deleted_from_an_ingested_folder_is_removed_from_the_index(
    capsys, hash_backend, shop_docs
):
    ingest(capsys, shop_docs)
    (shop_docs / "returns.md").unlink()
    report = ingest(capsys, shop_docs)
    assert report["removed"] == 1
    assert all(hit["article"] != "returns.md" for hit in search(capsys, "returns mug", k=10))


def test_cards_are_indexed_automatically_on_first_search(capsys, hash_backend):
    hits = search(capsys, "customer blames us publicly, should we argue back?", k=5)
    assert hits
    assert all(set(hit) == {"id", "title", "article", "score", "text"} for hit in hits)
    assert any(hit["article"].endswith(".txt") and "-" in hit["id"] for hit in hits)


def _index_size(capsys) -> tuple[int, int]:
    assert run(["kb", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    return stats["card_chunks"], stats["document_chunks"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "no text"),
        ("blank.md", b"  \n\t\n   ", "no text"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("latin1.txt", "Zażółć gęślą jaźń".encode("iso-8859-2"), "not UTF-8"),
    ],
)
@pytest.mark.usefixtures("hash_backend")
def test_a_bad_file_is_refused_in_one_line_and_nothing_indexed_is_lost(
    capsys, shop_docs, name, content, message
):
    ingest(capsys, shop_docs)
    before = _index_size(capsys)
    (shop_docs / name).write_bytes(content)
    assert run(["ingest", str(shop_docs)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert name in err
    assert message in err
    assert _index_size(capsys) == before


def test_a_missing_path_is_refused_in_one_line(capsys, hash_backend, tmp_path):
    assert run(["ingest", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "nowhere" in err
    assert "does not exist" in err


def test_an_empty_search_is_refused_in_one_line(capsys, hash_backend):
    assert run(["kb", "search", "   "]) == 2
    assert "empty" in capsys.readouterr().err


def test_a_corrupt_index_gives_one_line_and_kb_rebuild_repairs_it(
    capsys, hash_backend, isolated_env, shop_docs
):
    ingest(capsys, shop_docs)
    index_dir = isolated_env / "index"
    # Simulate damage: the database file is overwritten with garbage.
    (index_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 50)
    assert run(["kb", "search", "late parcel"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "kb rebuild" in err

    assert run(["kb", "rebuild", "--json"]) == 0
    rebuilt = json.loads(capsys.readouterr().out)
    assert rebuilt["missing"] == []
    # The cards and the seller's own files are both back.
    assert search(capsys, "parcels to Greece working days", k=3)[0]["article"] == "shipping.html"


def test_an_unwritable_index_directory_is_reported_in_one_line(
    capsys, hash_backend, isolated_env, monkeypatch
):
    isolated_env.mkdir(parents=True)
    (isolated_env / "index").write_text("a file where the index folder should be", "utf-8")
    assert run(["kb", "search", "late parcel"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "knowledge index" in err


def test_rebuild_reports_files_that_are_gone(capsys, hash_backend, shop_docs):
    ingest(capsys, shop_docs)
    moved = shop_docs.parent / "elsewhere"
    shutil.move(shop_docs, moved)
    assert run(["kb", "rebuild", "--json"]) == 0
    missing = json.loads(capsys.readouterr().out)["missing"]
    assert sorted(Path(path).name for path in missing) == ["returns.md", "shipping.html"]
