"""A draft as Telegram HTML. Every piece of user or model text is escaped; only our own tags
remain, so the message is always valid for Telegram's parser."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.models import Draft, SellerProfile, ToneReport
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


def render_private(draft: Draft, texts: Texts, language_code: str | None) -> str:
    title = _e(texts.get(language_code, "private_title"))
    return f"<b>{title}</b>\n<pre>{_e(draft.private_message)}</pre>"


def render_sources(draft: Draft, texts: Texts, language_code: str | None) -> str:
    """Each coaching note with the playbook card and article it comes from."""
    lines = [f"<b>{_e(texts.get(language_code, 'sources_title'))}</b>"]
    titles = {source.card: source for source in draft.sources}
    for note in draft.coaching:
        source = titles.get(note.card)
        title = source.title if source else note.card
        lines += ["", f"<b>{_e(title)}</b>", _e(note.advice), f"<i>{_e(note.article)}</i>"]
    return "\n".join(lines)


def render_report(report: ToneReport, texts: Texts, language_code: str | None) -> str:
    """The tone check of the seller's own reply: what to change and why, and a rewrite."""

    def say(key: str) -> str:
        return _e(texts.get(language_code, key))

    if report.verdict == "ok":
        return f"<b>{say('check_ok')}</b>"
    lines = [f"<b>{say('check_revise')}</b>"]
    for finding in report.findings:
        lines += [
            "",
            f"• <i>{_e(finding.excerpt)}</i>",
            _e(finding.why),
            f"→ {_e(finding.suggestion)}",
        ]
    if report.rewrite:
        lines += ["", f"<b>{say('rewrite')}</b>", f"<pre>{_e(report.rewrite)}</pre>"]
    return "\n".join(lines)


def render_profile(profile: SellerProfile, texts: Texts, language_code: str | None) -> str:
    words = texts.get(language_code, "profile")
    unset = words["not_set"]
    values = {
        "shop": profile.shop or unset,
        "signature": profile.signature or unset,
        "offers": ", ".join(profile.offers) or unset,
        "platform": words["choices"]["platform"].get(profile.platform or "", unset),
        "tone": words["choices"]["tone"].get(profile.tone, profile.tone),
    }
    lines = [f"<b>{_e(words['title'])}</b>", ""]
    lines += [f"{_e(words['fields'][key])}: {_e(value)}" for key, value in values.items()]
    lines += ["", _e(words["hint"])]
    return "\n".join(lines)
