"""The draft, check and eval commands: the JSON contract, batches, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.cli import run
from tests.conftest import REPO

DRAFT_KEYS = {
    "language", "aspects", "flags", "public_reply", "private_message", "take_private",
    "coaching", "sources", "engine", "tone", "notes",
}  # fmt: skip


@pytest.fixture(autouse=True)
def hash_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_EMBEDDINGS", "hash")


def run_json(capsys, *argv: str) -> dict:
    assert run([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_draft_json_has_the_documented_shape(capsys):
    result = run_json(capsys, "draft", "The parcel came two weeks late and the box was crushed.")
    assert set(result) == DRAFT_KEYS
    assert set(result["take_private"]) == {"recommended", "reason", "channel"}
    assert all(set(note) == {"card", "advice", "article"} for note in result["coaching"])
    assert all(set(source) == {"card", "title", "article"} for source in result["sources"])
    assert result["engine"] == "offline"
    assert result["tone"] == {"verdict": "ok", "findings": []}


def test_check_json_has_the_documented_shape(capsys):
    result = run_json(capsys, "check", "Not our fault. Read the listing next time.")
    assert set(result) == {"language", "verdict", "findings", "rewrite"}
    assert result["verdict"] == "revise"
    assert all(
        set(finding) == {"kind", "excerpt", "why", "suggestion", "card"}
        for finding in result["findings"]
    )


def test_a_batch_keeps_order_and_ids_and_a_bad_line_does_not_stop_the_rest(capsys, tmp_path):
    batch = tmp_path / "reviews.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "text": "Still waiting for my order after a month."}),
                "{not json",
                json.dumps({"id": "c", "text": "   "}),
                json.dumps({"id": "d", "text": "Zamówienie przyszło uszkodzone."}),
                '{"id": "e", "text": "Broken \\ud800 lamp, no answer"}',
            ]
        ),
        "utf-8",
    )
    assert run(["draft", "--batch", str(batch)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a", 2, "c", "d", "e"]
    assert "public_reply" in lines[0]
    assert "error" in lines[1]
    assert "error" in lines[2]
    assert lines[3]["language"] == "pl"
    assert "public_reply" in lines[4]


def cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("draft", ""), None, b"empty"),
        (("draft", "x" * 8001), None, b"limit"),
        (("draft", "-"), b"\xff\xfe broken \xc3", b"not UTF-8"),
        (("draft", "https://example.com/review/123"), None, b"no words"),
        (("draft", "\U0001f621\U0001f621\U0001f4a9"), None, b"no words"),
        (("check", "   "), None, b"empty"),
        (("eval", "/nowhere/at/all.jsonl"), None, b"not a .jsonl"),
    ],
)
def test_bad_input_gets_one_clear_line_and_exit_2(args, stdin, message):
    result = cli(*args, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr.count(b"\n") == 1
    assert message in result.stderr
    assert b"Traceback" not in result.stderr


def test_eval_reports_quality_per_language(capsys, tmp_path):
    dataset = tmp_path / "set.jsonl"
    dataset.write_text(
        "\n".join(
            json.dumps({"text": text, "lang": lang})
            for text, lang in [
                ("My order never arrived and nobody answers my emails.", "en"),
                ("Заказ так и не пришёл, деньги не вернули.", "ru"),
            ]
        ),
        "utf-8",
    )
    report = run_json(capsys, "eval", str(dataset))
    assert report["reviews"] == 2
    assert report["languages"]["ru"]["language_match"] == 1.0
    assert report["languages"]["all"]["tone_pass"] == 1.0
