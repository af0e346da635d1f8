"""The command-line face: parses arguments, calls the core, prints for a person or as JSON.

Imports are lazy per command: `kb search` must not pay for aiogram (2.5 s) or langchain-openai.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import CoachError, InputError
from knowledge.errors import KnowledgeError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bot.config import Settings

PROG = "complaint-coach"


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _knowledge(settings: Settings):
    from bot.factory import build_knowledge_base  # noqa: PLC0415

    return build_knowledge_base(settings)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    report = _knowledge(settings).ingest([Path(path) for path in args.paths])
    if args.json:
        _print_json(report.as_dict())
    else:
        print(
            f"Indexed: {report.added} chunks added, {report.unchanged} unchanged, "
            f"{report.removed} removed."
        )
    return 0


def cmd_kb_search(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1:
        raise InputError("-k must be at least 1")
    results = _knowledge(settings).search(" ".join(args.query), k=args.k)
    if args.json:
        _print_json([result.as_dict() for result in results])
        return 0
    for rank, result in enumerate(results, start=1):
        print(f"{rank}. {result.title}  [{result.id}, {result.article}, score {result.score:.2f}]")
        print(f"   {result.text[:300]}")
    return 0


def cmd_kb_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    report, missing = _knowledge(settings).rebuild()
    if args.json:
        _print_json({**report.as_dict(), "missing": missing})
        return 0
    print(f"Rebuilt the knowledge index: {report.added} chunks indexed.")
    for path in missing:
        print(f"Not re-indexed (file no longer there): {path}")
    return 0


def cmd_kb_stats(args: argparse.Namespace, settings: Settings) -> int:
    knowledge = _knowledge(settings)
    knowledge.ensure_cards()
    stats = {
        "backend": settings.coach.embeddings,
        "directory": str(knowledge.index.directory),
        "cards": len(knowledge.cards),
        "card_chunks": knowledge.index.count("card"),
        "document_chunks": knowledge.index.count("document"),
    }
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Coaches a seller through an angry review."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest", help="index your own playbook files (.txt, .md, .html) or folders of them"
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    _add_json(ingest)
    ingest.set_defaults(handler=cmd_ingest)

    kb = commands.add_parser("kb", help="look into the knowledge base")
    kb_commands = kb.add_subparsers(dest="kb_command", required=True, metavar="KB_COMMAND")
    search = kb_commands.add_parser("search", help="the cards and passages that fit a query")
    search.add_argument("query", nargs="+", metavar="QUERY")
    search.add_argument("-k", type=int, default=5, help="how many hits (default 5)")
    _add_json(search)
    search.set_defaults(handler=cmd_kb_search)
    rebuild = kb_commands.add_parser("rebuild", help="rebuild a damaged index from scratch")
    _add_json(rebuild)
    rebuild.set_defaults(handler=cmd_kb_rebuild)
    stats = kb_commands.add_parser("stats", help="what the index holds")
    _add_json(stats)
    stats.set_defaults(handler=cmd_kb_stats)
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # chromadb logs its own telemetry and migration chatter at INFO.
    logging.getLogger("chromadb").setLevel(
        max(logging.WARNING, logging.getLevelName(level.upper()))
    )


def run(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn every expected failure into one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        from bot.config import load_settings  # noqa: PLC0415

        settings = load_settings()
        _configure_logging(settings.coach.log_level)
        return handler(args, settings)
    except (CoachError, KnowledgeError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2


def main() -> None:
    try:
        sys.exit(run())
    except KeyboardInterrupt:
        sys.exit(130)
