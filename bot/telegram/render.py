"""A draft as Telegram HTML. Every piece of user or model text is escaped; only our own tags
remain, so the message is always valid for Telegram's parser."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.models import Draft
    from bot.telegram.texts import Texts

# Telegram refuses messages longer than this.
MESSAGE_LIMIT = 4096


def _e(text: str) -> str:
    return escape(text, quote=False)


def render_draft(draft: Draft, texts: Texts, language_code: str | None) -> str:
    def say(key: str) -> str:
        return _e(texts.get(language_code, key))

    take = draft.take_private
    verdict = say("take_private_yes") if take.recommended else say("take_private_no")
    lines = [
        f"<b>{say('public_reply')}</b>",
        f"<pre>{_e(draft.public_reply)}</pre>",
        "",
        f"<b>{say('private_message')}</b>",
        _e(draft.private_message),
        "",
        f"<b>{verdict}</b> ({_e(take.channel)}): {_e(take.reason)}",
        "",
        f"<b>{say('coaching')}</b>",
        *(f"• {_e(note.advice)} <i>[{_e(note.card)}]</i>" for note in draft.coaching),
        *(f"<i>{_e(note)}</i>" for note in draft.notes),
    ]
    return "\n".join(lines)


def plain(text: str) -> str:
    """Any text we did not write, made safe to send as HTML."""
    return _e(text)


def split_message(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Messages of at most ``limit`` characters, cut only between lines and never inside a
    <pre> block, so each part is valid HTML on its own."""
    blocks: list[str] = []
    for line in html.split("\n"):
        if blocks and blocks[-1].count("<pre>") > blocks[-1].count("</pre>"):
            blocks[-1] += "\n" + line  # still inside a <pre> block
        else:
            blocks.append(line)
    parts: list[str] = []
    for block in blocks:
        if parts and len(parts[-1]) + 1 + len(block) <= limit:
            parts[-1] += "\n" + block
        else:
            parts.append(block)
    return parts
