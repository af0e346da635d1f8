"""The tone checker: what in a public reply would hurt the seller, why, and what to say instead."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from bot.engine.matching import Match
from bot.engine.models import Finding, FindingKind
from bot.engine.personal_data import find_personal_data, leaked
from knowledge.textfold import replace_surrogates

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bot.engine.language_pack import LanguagePack, LanguagePacks

_SENTENCE = re.compile(r"[^.!?…;\n]+[.!?…;]*", re.UNICODE)
_LONG_WORD = re.compile(r"\b[^\W\d_]{4,}\b")
# Capitalised abbreviations are not shouting.
_ACRONYMS = frozenset(
    {"USPS", "UPS", "DHL", "FEDEX", "HTTP", "HTTPS", "HTML", "ASAP", "USB", "EMS"}
)
# Free mailbox providers: an address there is a person's, not a shop's.
_PERSONAL_MAIL_PROVIDERS = frozenset(
    [
        "gmail",
        "googlemail",
        "yahoo",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "icloud",
        "me",
        "aol",
        "gmx",
        "web",
        "mail",
        "yandex",
        "ya",
        "rambler",
        "bk",
        "list",
        "inbox",
        "wp",
        "o2",
        "onet",
        "interia",
        "op",
        "poczta",
        "protonmail",
        "proton",
    ]
)
_TOLL_FREE = re.compile(r"^\+?(1[\s-]?8\d\d|0?800|8[\s-]?800)")
_PHRASE_KINDS: tuple[FindingKind, ...] = ("blame", "argue", "sarcasm", "corporate")


def _sentence_span(text: str, position: int) -> Match:
    """The sentence that holds ``position`` (the whole text if none does)."""
    for sentence in _SENTENCE.finditer(text):
        if sentence.start() <= position < sentence.end():
            return Match("", sentence.start(), sentence.end())
    return Match("", 0, len(text))


def _sentence_at(text: str, position: int) -> str:
    span = _sentence_span(text, position)
    return text[span.start : span.end].strip()


def _pick(options: Sequence[str], seed: str) -> str:
    if not options:
        return ""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _outside(matches: Sequence[Match], spans: Sequence[Match]) -> list[Match]:
    return [m for m in matches if not any(s.start <= m.start < s.end for s in spans)]


def _shouting(reply: str) -> str | None:
    caps = [word for word in _LONG_WORD.findall(reply) if word.isupper() and word not in _ACRONYMS]
    if len(caps) >= 2:
        return _sentence_at(reply, reply.find(caps[0]))
    bangs = re.search(r"!{2,}", reply)
    if bangs or reply.count("!") >= 3:
        return _sentence_at(reply, bangs.start() if bangs else reply.find("!"))
    return None


def _review_incentive(reply: str, pack: LanguagePack) -> str | None:
    direct = pack.matcher("tone", "review_incentive").find(reply)
    if direct:
        return _sentence_at(reply, direct[0].start)
    for sentence in _SENTENCE.finditer(reply):
        text = sentence.group(0)
        if pack.matcher("tone", "review_words").matches(text) and pack.matcher(
            "tone", "reward_words"
        ).matches(text):
            return text.strip()
    return None


def _is_customers(snippet: str, sentence: str, pack: LanguagePack) -> bool:
    """Is a contact detail in a reply the customer's (not the shop's own)?

    Phone numbers and business addresses in a reply are usually the shop's ("call our reception
    on ..."); they count only when the sentence points them at the customer ("we'll call you
    on ..."). An e-mail counts when it is a personal mailbox or pointed at the customer.
    """
    if pack.matcher("tone", "own_contact").matches(sentence):
        return False
    pointed_at_customer = pack.matcher("tone", "contact_you").matches(sentence)
    if "@" in snippet:
        domain = snippet.rsplit("@", 1)[-1].lower()
        return pointed_at_customer or domain.split(".")[0] in _PERSONAL_MAIL_PROVIDERS
    return pointed_at_customer and not _TOLL_FREE.match(snippet.strip())


def _private_details(reply: str, pack: LanguagePack, review_data: Sequence[str]) -> str | None:
    """An excerpt showing the customer's personal data: anything repeated from the review, any
    order number or street address, and a contact detail that is the customer's, not the shop's."""
    repeated = leaked(reply, review_data)
    if repeated:
        return _sentence_at(reply, max(reply.find(repeated[0]), 0))
    words = pack.personal_data_words
    for snippet in find_personal_data(reply, words["order"], words["address"]):
        sentence = _sentence_at(reply, max(reply.find(snippet), 0))
        is_contact = "@" in snippet or not any(ch.isalpha() for ch in snippet.strip("+"))
        if is_contact and not _is_customers(snippet, sentence, pack):
            continue
        if not is_contact and pack.matcher("tone", "own_contact").matches(sentence):
            continue  # the shop's own address ("bring it to our service centre at ...")
        return sentence
    return None


def find_problems(
    reply: str, pack: LanguagePack, review_data: Sequence[str] = ()
) -> dict[FindingKind, str]:
    """kind -> the excerpt of the reply that shows it (the first one found)."""
    problems: dict[FindingKind, str] = {}
    sarcasm = pack.matcher("tone", "sarcasm").find(reply)
    for kind in _PHRASE_KINDS:
        matches = sarcasm if kind == "sarcasm" else pack.matcher("tone", kind).find(reply)
        if matches:
            problems[kind] = _sentence_at(reply, matches[0].start)
    # An insult ("Sorry, but only an idiot would write this") passed the check as "Looks good"
    # (found by tests/test_hostile.py). The reviews' abuse lexicon finds it; it is reported as
    # sarcasm, whose card is about condescending remarks, as FindingKind has no kind of its own.
    if "sarcasm" not in problems and (insults := pack.matcher("flags", "abusive").find(reply)):
        problems["sarcasm"] = _sentence_at(reply, insults[0].start)
    # "Sorry you feel that way" is not an apology: an apology word in a sentence that is
    # sarcastic does not count.
    sarcastic = [_sentence_span(reply, match.start) for match in sarcasm]
    if not _outside(pack.matcher("tone", "apology").find(reply), sarcastic):
        problems["no_apology"] = reply.strip().split("\n")[0][:160]
    if not pack.matcher("tone", "solution").matches(reply):
        problems["no_solution"] = reply.strip().split("\n")[-1][-160:]
    if excerpt := _private_details(reply, pack, review_data):
        problems["private_details"] = excerpt
    if excerpt := _review_incentive(reply, pack):
        problems["review_incentive"] = excerpt
    if excerpt := _shouting(reply):
        problems["shouting"] = excerpt
    return problems


def check_reply(
    reply: str, language: str, packs: LanguagePacks, review_data: Sequence[str] = ()
) -> list[Finding]:
    """Findings for a public reply, each with why it hurts and a better way to say it."""
    # A lone surrogate in the reply (a "\ud800" JSON escape) made the suggestion's hash raise
    # UnicodeEncodeError, and an excerpt holding one could not be printed or sent as JSON.
    reply = replace_surrogates(reply)
    pack = packs[language]
    findings = []
    for kind, excerpt in find_problems(reply, pack, review_data).items():
        explanation = packs.finding_kinds[kind]
        suggestions = pack.tone.get("suggestions", {}).get(kind, [])
        findings.append(
            Finding(
                kind=kind,
                excerpt=excerpt,
                why=explanation["why"],
                suggestion=_pick(suggestions, f"{kind}\x00{reply}"),
                card=explanation["card"],
            )
        )
    return findings
