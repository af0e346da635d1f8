"""The seller's tone and length in the offline composer: what "Shorter", "Warmer" and "More formal"
change in a draft, in each language. Register phrasing is read from knowledge/phrasing/, so these
tests follow the data rather than copies of it."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
from functools import cache

import pytest

from bot.cli import run
from bot.engine.compose import SHORT_MAX_WORDS, WORD_BOUNDS, word_count
from bot.engine.language_pack import KNOWLEDGE_DIR
from bot.engine.models import SellerProfile
from bot.engine.tone import find_problems
from bot.engine.understand import understand
from knowledge.data import read_yaml

LANGUAGES = ("en", "el", "ru", "pl")
REVIEWS = {
    "en": [
        "Ordered a ceramic mug three weeks ago and it still hasn't arrived. Nobody answers.",
        "The lamp arrived smashed and the box was crushed. Really disappointed.",
        "Your staff member was incredibly rude to me on the phone and hung up on me.",
    ],
    "el": [
        "Παρήγγειλα μια κούπα πριν από τρεις εβδομάδες και ακόμα δεν έχει έρθει. Απαράδεκτο!",
        "Το προϊόν χάλασε μετά από δύο μέρες, πολύ κακή ποιότητα.",
        "Η υπάλληλος ήταν πολύ αγενής μαζί μου στο τηλέφωνο.",
    ],
    "ru": [
        "Заказала кружку три недели назад, до сих пор не пришла. Ужасный магазин!",
        "Товар сломался через два дня, качество ужасное.",
        "Сотрудник магазина нагрубил мне по телефону и бросил трубку.",
    ],
    "pl": [
        "Zamówiłam kubek trzy tygodnie temu i nadal nie dotarł. Masakra!",
        "Produkt zepsuł się po dwóch dniach, fatalna jakość.",
        "Pani przy kasie była bardzo niemiła i nieuprzejma.",
    ],
}
# Polish "Ty" forms (capitalised, as our friendly phrasing writes them): never in a formal reply.
POLISH_TY = re.compile(
    r"\b(Ty|Ci|Cię|Ciebie|Tobą|Tobie|Twój|Twoja|Twoje|Twoją|Twojej|Twojego|Twojemu|Twoim|Twoich)\b"
)
SIGNATURE = "Maria from Clay & Co"


@cache
def phrasing(language: str) -> dict:
    return read_yaml(KNOWLEDGE_DIR / "phrasing" / f"{language}.yaml")


def strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in strings(value)]
    return []


def draft(engine, text: str, variant: int = 0, **profile):
    return asyncio.run(engine.draft(text, SellerProfile(**profile), variant=variant))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_short_reply_is_noticeably_shorter_than_the_normal_one(engine, language):
    normal, short = [], []
    for text in REVIEWS[language]:
        for variant in range(3):
            normal.append(word_count(draft(engine, text, variant).public_reply))
            short.append(word_count(draft(engine, text, variant, length="short").public_reply))
            assert short[-1] < normal[-1], (text, variant)
            assert short[-1] <= SHORT_MAX_WORDS
    assert statistics.mean(short) <= 0.85 * statistics.mean(normal)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_short_reply_still_names_the_problem_apologises_and_invites_privately(engine, language):
    data = phrasing(language)["public"]
    for text in REVIEWS[language]:
        result = draft(engine, text, length="short", signature=SIGNATURE)
        reply = result.public_reply
        problems = data["problems"][result.aspects[0]]
        assert any(
            reply.startswith(apology.format(problem=problem))
            for apology in data["short_apologies"]
            for problem in problems
        ), reply
        assert any(invitation in reply for invitation in data["invitations"]["message"]), reply
        assert reply.rstrip().endswith(SIGNATURE)
        assert result.tone.verdict == "ok"  # an apology and a next step, nothing that hurts


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tone", ["warm", "formal"])
def test_warm_and_formal_replies_differ_from_the_friendly_one_and_use_their_register(
    engine, language, tone
):
    register = phrasing(language)["registers"][tone]
    own_lines = [
        line.format(signature=SIGNATURE)
        for line in strings(register["public"])
        if "{problem}" not in line
    ]
    for text in REVIEWS[language]:
        friendly = draft(engine, text, signature=SIGNATURE)
        result = draft(engine, text, tone=tone, signature=SIGNATURE)
        assert result.public_reply != friendly.public_reply
        # The apology, the invitation and the sign-off at least are the register's own.
        assert sum(line in result.public_reply for line in own_lines) >= 3, result.public_reply
        if tone == "warm":
            assert any(line in result.public_reply for line in register["public"]["extra_lines"])
        private = register["private"]
        assert any(result.private_message.startswith(line) for line in private["greetings"])
        assert any(line in result.private_message for line in private["closings"])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "profile",
    [
        {"tone": "friendly"},
        {"tone": "warm"},
        {"tone": "formal"},
        {"length": "short"},
        {"tone": "warm", "length": "short"},
        {"tone": "formal", "length": "short"},
    ],
    ids=lambda profile: "-".join(profile.values()),
)
def test_every_register_passes_the_tone_check_in_the_reviews_language(engine, language, profile):
    low, high = WORD_BOUNDS[profile.get("length", "normal")]
    for text in REVIEWS[language]:
        for channel in ("message", "email", "phone"):
            result = draft(engine, text, channel=channel, **profile)
            assert result.language == language
            assert understand(result.public_reply, engine.packs).language == language
            assert result.tone.verdict == "ok"
            assert low <= word_count(result.public_reply) <= high


@pytest.mark.parametrize("tone", ["friendly", "warm", "formal"])
@pytest.mark.parametrize("length", ["normal", "short"])
def test_the_sellers_sign_off_and_shop_stay_in_every_register(engine, tone, length):
    for language in LANGUAGES:
        text = REVIEWS[language][0]
        signed = draft(engine, text, tone=tone, length=length, signature=SIGNATURE)
        assert signed.public_reply.rstrip().endswith(SIGNATURE)
        assert signed.private_message.rstrip().endswith(SIGNATURE)
        shop = draft(engine, text, tone=tone, length=length, shop="Glina")
        assert "Glina" in shop.public_reply.splitlines()[-1]
        assert "Glina" in shop.private_message


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tone", ["friendly", "warm", "formal"])
def test_no_register_offers_what_the_seller_did_not_allow(engine, language, tone):
    promises = engine.packs[language].matcher("tone", "promise_words")
    for text in REVIEWS[language]:
        for length in ("normal", "short"):
            result = draft(engine, text, tone=tone, length=length)
            assert not promises.matches(f"{result.public_reply}\n{result.private_message}")
        allowed = draft(engine, text, tone=tone, offers=["gift wrapping"])
        assert "gift wrapping" in allowed.private_message


@pytest.mark.parametrize("language", LANGUAGES)
def test_register_and_short_phrasing_has_no_blame_argument_or_boilerplate(engine, language):
    """Line by line, so a new line that would make the checker reject drafts is caught here."""
    pack = engine.packs[language]
    data = phrasing(language)
    problems = [name for names in data["public"]["problems"].values() for name in names]
    allowed = {"no_apology", "no_solution"}
    apologies = [*data["public"]["short_apologies"]]
    for register in data["registers"].values():
        apologies += register["public"].get("apologies", [])
        apologies += register["public"].get("short_apologies", [])
    for line in strings(data["registers"]) + data["public"]["short_apologies"]:
        filled = line.format(signature=SIGNATURE, offer="a gift", problem="{problem}")
        texts = [filled.format(problem=name) for name in problems] if "{" in filled else [filled]
        for text in texts:
            assert set(find_problems(text, pack)) <= allowed, text
    for apology in apologies:
        assert pack.matcher("tone", "apology").matches(apology.format(problem=problems[0]))


def test_formal_polish_has_every_slot_and_never_says_ty():
    data = phrasing("pl")
    formal = data["registers"]["formal"]
    for section in ("public", "private"):
        for slot, value in data[section].items():
            if slot in {"default_signature", "shop_signature", "problems"}:
                continue
            if isinstance(value, dict):
                assert set(formal[section][slot]) == set(value), slot
            else:
                assert formal[section][slot], slot
    for line in strings(formal) + strings(data["public"]["problems"]):
        assert not POLISH_TY.search(line), line


def test_a_formal_polish_draft_never_mixes_ty_with_pan_pani(engine):
    texts = [
        *REVIEWS["pl"],
        "Kabel się przegrzał i poparzyłam sobie rękę, to niebezpieczne!",
        "Oddam sprawę do sądu, mój prawnik już o tym wie. Oszuści!",
    ]
    for text in texts:
        for variant in range(4):
            for length in ("normal", "short"):
                for offers in ([], ["kod rabatowy"]):
                    result = draft(
                        engine, text, variant, tone="formal", length=length, offers=offers
                    )
                    both = f"{result.public_reply}\n{result.private_message}"
                    assert not POLISH_TY.search(both), both


def test_the_cli_drafts_in_the_tone_and_length_asked_for(capsys, monkeypatch):
    monkeypatch.setenv("COACH_EMBEDDINGS", "hash")
    text = "The vase arrived smashed to pieces and nobody answers my e-mails."
    replies = {}
    for tone, length in (("friendly", "normal"), ("formal", "short")):
        assert run(["draft", text, "--tone", tone, "--length", length, "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["tone"]["verdict"] == "ok"
        replies[tone] = result["public_reply"]
    assert word_count(replies["formal"]) < word_count(replies["friendly"])
    formal = phrasing("en")["registers"]["formal"]["public"]["short_apologies"]
    assert any(replies["formal"].startswith(line.split("{problem}")[0]) for line in formal)
