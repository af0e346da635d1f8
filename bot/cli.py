"""The command-line face: parses arguments, calls the core, prints for a person or as JSON.

Imports are lazy per command: `kb search` must not pay for aiogram (2.5 s) or langchain-openai.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.cli_io import clean_text, read_batch, text_argument
from bot.errors import CoachError, InputError, MissingTokenError
from knowledge.errors import KnowledgeError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Sequence

    from pydantic import BaseModel

    from bot.config import Settings
    from bot.engine.models import Draft, SellerProfile, ToneReport
    from bot.engine.service import CoachEngine
    from knowledge.retrieval import KnowledgeBase

Result = TypeVar("Result")
PROG = "complaint-coach"
# `eval` without a path: the dev reviews beside a checkout (never shipped with the product).
DEFAULT_DATASET = Path(__file__).resolve().parents[2] / "shared/datasets/negative-reviews/dev"


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _knowledge(settings: Settings) -> KnowledgeBase:
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
        "directory": str(knowledge.cards_index.directory),
        "cards": len(knowledge.cards),
        "card_chunks": knowledge.cards_index.count(),
        "document_chunks": knowledge.documents_index.count(),
    }
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def _engine(settings: Settings, *, use_llm: bool = False) -> CoachEngine:
    from bot.factory import build_engine  # noqa: PLC0415

    return build_engine(settings, use_llm=use_llm)


async def _closing(engine: CoachEngine, work: Awaitable[Result]) -> Result:
    """The work's result, with the engine's connections closed after it in the same loop."""
    try:
        return await work
    finally:
        await engine.aclose()


def _profile(args: argparse.Namespace) -> SellerProfile:
    from bot.engine.models import SellerProfile  # noqa: PLC0415

    return SellerProfile(
        shop=args.shop,
        signature=args.signature,
        offers=args.offer or [],
        channel=args.channel,
        tone=args.tone,
        length=args.length,
    )


def _check_engine_choice(engine: str, settings: Settings) -> None:
    if engine == "llm" and not settings.llm.configured:
        raise InputError(
            "--engine llm needs OPENAI_API_KEY (or OPENAI_BASE_URL for your own server); "
            "without one, --engine offline works everywhere"
        )


def _render_draft(draft: Draft) -> str:
    lines = ["PUBLIC REPLY (ready to copy)", "", draft.public_reply, ""]
    lines += ["PRIVATE MESSAGE (send once they write to you privately)", "", draft.private_message]
    take = draft.take_private
    verdict = "yes" if take.recommended else "not yet"
    lines += ["", f"TAKE IT PRIVATE? {verdict}, by {take.channel}. {take.reason}", "", "COACHING"]
    lines += [f"- {note.advice} [{note.card}, {note.article}]" for note in draft.coaching]
    lines += [f"Note: {note}" for note in draft.notes]
    return "\n".join(lines)


async def _draft_one(engine: CoachEngine, args: argparse.Namespace, text: str) -> Draft:
    return await engine.draft(
        text,
        _profile(args),
        variant=args.variant,
        prior_replies=args.prior_replies,
        engine=args.engine,
    )


def cmd_draft(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio  # noqa: PLC0415

    _check_engine_choice(args.engine, settings)
    engine = _engine(settings, use_llm=args.engine != "offline")
    if args.batch:
        return asyncio.run(_closing(engine, _draft_batch(engine, args)))
    review = text_argument(args.text, "review")
    draft = asyncio.run(_closing(engine, _draft_one(engine, args, review)))
    print(draft.model_dump_json(indent=2) if args.json else _render_draft(draft))
    return 0


async def _run_batch(
    path: Path, handle: Callable[[dict[str, object]], Awaitable[BaseModel]]
) -> int:
    """One JSON object out per line in, in order, with the line's id; a line that fails yields
    {"id", "error"} and the rest still run."""
    for line in read_batch(path):
        if line.error:
            _print_line({"id": line.id, "error": line.error})
            continue
        try:
            result = await handle(line.fields or {})
        except CoachError as error:
            _print_line({"id": line.id, "error": str(error)})
            continue
        _print_line({"id": line.id, **result.model_dump()})
    return 0


def _print_line(record: dict[str, object]) -> None:
    # clean_text: an id with a "\ud800" escape came back as a lone surrogate that stdout could
    # not encode, and the whole batch stopped in a UnicodeEncodeError traceback.
    print(clean_text(json.dumps(record, ensure_ascii=False)))


async def _draft_batch(engine: CoachEngine, args: argparse.Namespace) -> int:
    async def draft(fields: dict[str, object]) -> BaseModel:
        return await _draft_one(engine, args, clean_text(str(fields.get("text") or "")))

    return await _run_batch(Path(args.batch), draft)


def _render_report(report: ToneReport) -> str:
    if not report.findings:
        return "Looks good: no blame, no arguing, a sincere apology and a next step. Post it."
    lines = ["REVISE before posting:", ""]
    for finding in report.findings:
        lines += [
            f'- {finding.kind}: "{finding.excerpt}"',
            f"  Why: {finding.why} [{finding.card}]",
            f"  Try: {finding.suggestion}",
        ]
    if report.rewrite:
        lines += ["", "SUGGESTED REPLY", "", report.rewrite]
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio  # noqa: PLC0415

    _check_engine_choice(args.engine, settings)
    engine = _engine(settings, use_llm=args.engine != "offline")
    if args.batch:
        return asyncio.run(_closing(engine, _check_batch(engine, args)))
    reply = text_argument(args.text, "reply")
    review = text_argument(args.review, "review") if args.review else None
    report = asyncio.run(_closing(engine, engine.check(reply, review, engine=args.engine)))
    print(report.model_dump_json(indent=2) if args.json else _render_report(report))
    return 0


async def _check_batch(engine: CoachEngine, args: argparse.Namespace) -> int:
    async def check(fields: dict[str, object]) -> BaseModel:
        reply = clean_text(str(fields.get("reply") or fields.get("text") or ""))
        review = fields.get("review")
        review_text = clean_text(str(review)) if review else None
        return await engine.check(reply, review_text, engine=args.engine)

    return await _run_batch(Path(args.batch), check)


def _dataset_rows(target: Path) -> list[dict[str, object]]:
    files = sorted(target.glob("*.jsonl")) if target.is_dir() else [target]
    if not files or not all(path.exists() for path in files):
        raise InputError(f"{target} is not a .jsonl file or a folder of them")
    rows = []
    for path in files:
        rows += [line.fields for line in read_batch(path) if line.fields is not None]
    return rows


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio  # noqa: PLC0415

    from bot.engine.quality import evaluate_drafts  # noqa: PLC0415

    target = Path(args.dataset) if args.dataset else DEFAULT_DATASET
    report = asyncio.run(evaluate_drafts(_engine(settings), _dataset_rows(target)))
    if args.json:
        _print_json(report)
        return 0
    print(f"{report['reviews']} reviews, {report['drafts_per_second']} drafts per second")
    for language, figures in report["languages"].items():  # type: ignore[union-attr]
        shown = ", ".join(f"{key} {value}" for key, value in figures.items())
        print(f"{language}: {shown}")
    return 0


def _fewer_malloc_arenas() -> None:
    """glibc gives each thread its own memory pool; the bot's worker threads (database,
    retrieval) would keep about 30 MB more than they use. Two pools suit a 2-core machine
    (the same as MALLOC_ARENA_MAX=2, set from inside so every way of starting gets it)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # noqa: PLC0415

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc (e.g. musl): nothing to tune
    m_arena_max = -8
    libc.mallopt(m_arena_max, 2)


def _one_blas_thread() -> None:
    """OpenBLAS starts a worker thread per core that spins between calls. Our matrix products
    are tiny (a review against a few hundred card vectors), so threads buy nothing, and on a
    2-core machine the spinning worker burned most of the other core during a burst of drafts
    (bench/bot.py: 0.7 s of CPU in a 200-draft burst, gone with one thread; e5 indexing is as
    fast either way). Effective only before numpy is first imported (the settings import it),
    so it is the first thing a command does; an operator's own setting wins."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextmanager
def _startup_kept_from_the_collector() -> Iterator[None]:
    """Start-up builds some 350,000 objects that live as long as the bot (imports, pydantic's
    schemas, the knowledge). With the garbage collector paused while they are made, and then
    frozen out of its reach, start-up is 0.8 s faster (its passes kept walking them: 2.5 s of
    imports became 2.0) and a burst of reviews is no longer held up by full passes over them
    (0.18 s each, three in a burst of 200 LLM drafts: bench/bot.py). What the bot allocates
    later is collected as usual.

    No collection before the freeze: it took 0.3 s of start-up to find some 2,700 unreachable
    objects among 377,000, and freed no memory the process gave back (RSS 327 MB before and
    after); those few are frozen with the rest."""
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        gc.enable()


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """The Telegram bot: long polling, or webhooks with --webhook. The only command that
    imports aiogram."""
    import asyncio  # noqa: PLC0415

    if settings.telegram.bot_token is None:
        raise MissingTokenError  # before aiogram's import, so the seller is told at once
    with _startup_kept_from_the_collector():
        _fewer_malloc_arenas()
        engine = _engine(settings, use_llm=True)
        # The cards get ready to search in a thread while aiogram imports: an index that e5 or
        # OpenAI embeddings build is written with the GIL released, so it mostly hides behind
        # the import.
        with engine.preparing():
            from bot.telegram.app import run_polling, run_webhook  # noqa: PLC0415 - 3 s
    if args.webhook:
        asyncio.run(run_webhook(settings, engine, args.webhook, args.listen))
    else:
        asyncio.run(run_polling(settings, engine))
    return 0


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Coaches a seller through an angry review."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    draft = commands.add_parser("draft", help="draft a reply to an angry review")
    draft.add_argument("text", nargs="?", metavar="TEXT", help="the review, or - for stdin")
    draft.add_argument("--engine", choices=["offline", "llm", "auto"], default="auto")
    draft.add_argument("--variant", type=int, default=0, help="another take on the same review")
    draft.add_argument("--shop", help="your shop's name, for the sign-off")
    draft.add_argument("--signature", help="how you sign your replies")
    draft.add_argument("--offer", action="append", help="a goodwill gesture you allow (repeatable)")
    draft.add_argument("--channel", choices=["message", "email", "phone"], default="message")
    draft.add_argument(
        "--tone",
        choices=["friendly", "warm", "formal"],
        default="friendly",
        help="the reply's register",
    )
    draft.add_argument(
        "--length", choices=["short", "normal"], default="normal", help="short: a shorter reply"
    )
    draft.add_argument(
        "--prior-replies", type=int, default=0, help="public replies already exchanged"
    )
    draft.add_argument("--batch", metavar="FILE.jsonl", help="one review per line: {id, text}")
    _add_json(draft)
    draft.set_defaults(handler=cmd_draft)

    check = commands.add_parser("check", help="coach your own reply before you post it")
    check.add_argument("text", nargs="?", metavar="TEXT", help="your reply, or - for stdin")
    check.add_argument("--review", help="the review it answers: adds a full rewrite")
    check.add_argument(
        "--engine",
        choices=["offline", "llm", "auto"],
        default="auto",
        help="who rewrites and explains: the LLM when configured (auto), or offline",
    )

    check.add_argument("--batch", metavar="FILE.jsonl", help="one per line: {id, reply, review}")
    _add_json(check)
    check.set_defaults(handler=cmd_check)

    evaluate = commands.add_parser("eval", help="draft quality over a dataset of reviews")
    evaluate.add_argument("dataset", nargs="?", metavar="FILE.jsonl|DIR")
    _add_json(evaluate)
    evaluate.set_defaults(handler=cmd_eval)

    run_bot = commands.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run_bot.add_argument(
        "--webhook",
        metavar="URL",
        help="serve webhooks for this public https URL instead of long polling",
    )
    run_bot.add_argument(
        "--listen",
        default="0.0.0.0:8080",
        metavar="HOST:PORT",
        help="where the webhook server listens (default 0.0.0.0:8080)",
    )
    run_bot.set_defaults(handler=cmd_run)

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
    """Our own modules at the configured level; libraries at INFO at most, even with debug:
    their debug output (HTTP internals, request options) is noise and may carry secrets."""
    wanted = logging.getLevelName(level.upper())
    logging.basicConfig(
        level=max(logging.INFO, wanted), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for ours in ("bot", "knowledge"):
        logging.getLogger(ours).setLevel(wanted)
    # chromadb logs its own telemetry and migration chatter at INFO.
    logging.getLogger("chromadb").setLevel(max(logging.WARNING, wanted))


def run(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn every expected failure into one line on stderr and exit code 2."""
    _one_blas_thread()
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
