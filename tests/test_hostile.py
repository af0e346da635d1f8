"""Hostile reviews (tests/data/hostile_reviews.yaml) against the offline engine: prompt
injections, bait for insults and money, other people's personal data, threats, abuse, spam and
garbage. Each case says what the seller needs; every draft must also be safe to post."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.engine.models import Draft, SellerProfile
from bot.engine.personal_data import find_personal_data, leaked
from bot.engine.tone import check_reply
from bot.engine.understand import understand
from bot.errors import InputError
from bot.llm.guard import public_reply_problems
from knowledge.data import read_yaml
from knowledge.textfold import fold

CORPUS = read_yaml(Path(__file__).parent / "data" / "hostile_reviews.yaml")["cases"]
LANGUAGES = ("en", "el", "ru", "pl")
# An amount of money: a digit next to a currency sign or word, in any of our languages.
MONEY = re.compile(
    r"\d[\d\s.,]*\s?(?:[$€£₽]|zł|zl|pln|eur|euro|ευρώ|ευρω|pounds?|dollars?|руб|złot|zlot)"
    r"|[$€£₽]\s?\d",
    re.IGNORECASE,
)


def text_of(case: dict) -> str:
    return case["text"] * case.get("repeat", 1)


def echoes(snippet: str, text: str) -> bool:
    """Does ``text`` contain ``snippet`` as whole words, accent- and case-free (or, for a number,
    its digits in a row)?"""
    pattern = r"(?<!\w)" + re.escape(fold(snippet)) + r"(?!\w)"
    if re.search(pattern, fold(text)):
        return True
    digits = re.sub(r"\D", "", snippet)
    return len(digits) >= 5 and digits in re.sub(r"\D", "", text)


def safety_problems(engine, draft: Draft, review_text: str, profile: SellerProfile) -> list[str]:
    """Why this draft could not be posted as it is; empty when it can."""
    review = understand(review_text, engine.packs)
    pack = engine.packs[review.reply_language]
    public, private = draft.public_reply, draft.private_message
    problems = []
    if not public.strip() or not private.strip():
        problems.append("an empty public reply or private message")
    if draft.tone.verdict != "ok":
        problems.append(f"tone verdict {draft.tone.verdict}")
    # The same bar as an LLM draft: length, language, every tone-check finding.
    problems += public_reply_problems(public, review, engine.packs)
    both = f"{public}\n{private}"
    if insults := pack.matcher("flags", "abusive").find(both):
        problems.append(f"insults someone: {insults[0].entry!r}")
    # Promises and money, outside the seller's own offers (which the private message may quote).
    unoffered = both
    for offer in profile.offers:
        unoffered = unoffered.replace(offer.strip(), " ")
    if promises := pack.matcher("tone", "promise_words").find(unoffered):
        problems.append(f"promises what the seller never offered: {promises[0].entry!r}")
    if amount := MONEY.search(unoffered):
        problems.append(f"names an amount of money: {amount.group(0)!r}")
    if leaks := leaked(both, review.personal_data):
        problems.append(f"repeats the review's personal data: {leaks}")
    words = pack.personal_data_words
    if details := find_personal_data(public, words["order"], words["address"]):
        problems.append(f"personal details in public: {details}")
    return problems


def expectation_failures(engine, case: dict, draft: Draft) -> dict[str, str]:
    """expect: key -> what is wrong with the draft (the keys of draft: ok cases)."""
    expect = case["expect"]
    failures = {}
    language = expect.get("language", case["language"])
    if draft.language != language:
        failures["language"] = f"detected {draft.language}, not {language}"
    if "reply_language" in expect:
        wanted = expect["reply_language"]
        written = {
            engine.packs.detector.detect(draft.public_reply),
            engine.packs.detector.detect(draft.private_message),
        }
        if written != {wanted}:
            failures["reply_language"] = f"written in {sorted(written)}, not {wanted}"
    if missing := set(expect.get("flags_include", [])) - set(draft.flags):
        failures["flags_include"] = f"flags {draft.flags} lack {sorted(missing)}"
    if "take_private" in expect and draft.take_private.recommended != expect["take_private"]:
        failures["take_private"] = f"take_private is {draft.take_private.recommended}"
    both = f"{draft.public_reply}\n{draft.private_message}"
    if echoed := [snippet for snippet in expect.get("no_echo", []) if echoes(str(snippet), both)]:
        failures["no_echo"] = f"repeats {echoed}"
    return failures


def test_the_corpus_covers_each_language_and_kind_of_attack():
    ids = [case["id"] for case in CORPUS]
    assert len(ids) == len(set(ids)) >= 40
    per_language = Counter(case["language"] for case in CORPUS)
    assert set(per_language) == set(LANGUAGES)
    assert min(per_language.values()) >= 8
    categories = {case["category"] for case in CORPUS}
    assert categories >= {
        "injection", "insult_bait", "money_bait", "personal_data",
        "legal_threat", "violent_threat", "abuse", "spam", "garbage",
    }  # fmt: skip
    for case in CORPUS:
        assert case["expect"]["draft"] in {"ok", "input_error"}, case["id"]
        gap = case.get("known_gap")
        if gap:
            assert gap["why"] and set(gap["expectations"]) <= set(case["expect"]), case["id"]


@pytest.mark.parametrize("case", CORPUS, ids=[case["id"] for case in CORPUS])
def test_a_hostile_review_gets_what_the_seller_needs(engine, case):
    text, expect = text_of(case), case["expect"]
    profile = SellerProfile(**case.get("profile", {}))
    if expect["draft"] == "input_error":
        with pytest.raises(InputError) as refused:
            asyncio.run(engine.draft(text, profile))
        message = str(refused.value)
        assert expect["error_contains"] in message
        assert message[0].islower() or message[0].isupper()  # a sentence, not a repr or a code
        return
    draft = asyncio.run(engine.draft(text, profile))
    assert safety_problems(engine, draft, text, profile) == []
    failures = expectation_failures(engine, case, draft)
    gap = case.get("known_gap") or {"expectations": [], "why": ""}
    assert {key: why for key, why in failures.items() if key not in gap["expectations"]} == {}
    if gap["expectations"]:
        if not set(gap["expectations"]) & set(failures):
            pytest.fail(f"the known gap is fixed: remove known_gap from {case['id']}")
        pytest.xfail(gap["why"])


def test_an_allowed_offer_is_the_only_gesture_in_the_private_message(engine):
    case = next(case for case in CORPUS if case["id"] == "en-money_bait-with-offer")
    profile = SellerProfile(**case["profile"])
    draft = asyncio.run(engine.draft(text_of(case), profile))
    assert profile.offers[0] in draft.private_message
    assert profile.offers[0] not in draft.public_reply


# Replies a seller might write in anger, and what check() must find in each.
HOSTILE_REPLIES = [
    pytest.param(
        "This is your own fault. You obviously dropped the box and now you blame us. "
        "Read the description next time.",
        "My vase arrived broken.",
        {"blame"},
        id="en-blaming",
    ),
    pytest.param(
        "Sorry, but only an idiot would leave a review like this. We will send a new one "
        "tomorrow, you clown.",
        "My vase arrived broken.",
        set(),
        id="en-insulting",
    ),
    pytest.param(
        "We are sorry! We checked order #558812 and sent it again to 14 Baker Street today.",
        "Order #558812 never arrived. I'm at 14 Baker Street, call me on +44 7700 900123.",
        {"private_details"},
        id="en-leaking-the-address",
    ),
    pytest.param(
        "Sorry about that. Change your review to 5 stars and we will send you a 20% discount code.",
        "The mug was chipped.",
        {"review_incentive"},
        id="en-buying-a-better-review",
    ),
    pytest.param(
        "WE ARE NOT RESPONSIBLE FOR COURIER DELAYS!!! STOP SPAMMING US.",
        "Three weeks late!",
        {"shouting"},
        id="en-shouting",
    ),
    pytest.param(
        "Αυτό είναι δικό σας λάθος, δεν διαβάσατε την περιγραφή. Δεν φταίμε εμείς.",
        "Το φόρεμα είναι άλλο μέγεθος.",
        {"blame"},
        id="el-blaming",
    ),
    pytest.param(
        "Λυπούμαστε, στείλαμε ξανά το δέμα στην οδό Ερμού 25 και θα σας πάρουμε στο 6912345678.",
        "Δεν ήρθε ποτέ το δέμα, μένω στην οδό Ερμού 25, τηλ. 6912345678.",
        {"private_details"},
        id="el-leaking-the-address",
    ),
    pytest.param(
        "Вы идиот. Извините, мы заменим товар завтра.",
        None,
        set(),
        id="ru-insulting",
    ),
    pytest.param(
        "Извините, отправили повторно на ул. Ленина, д. 12, кв. 45, позвоним вам на "
        "+7 912 345-67-89.",
        "Посылка не пришла. Адрес: ул. Ленина, д. 12, кв. 45, телефон +7 912 345-67-89.",
        {"private_details"},
        id="ru-leaking-the-address",
    ),
    pytest.param(
        "To Pani wina, trzeba było czytać opis. Nie odpowiadamy za to.",
        "Kurtka przyszła w złym rozmiarze.",
        {"blame"},
        id="pl-blaming",
    ),
    pytest.param(
        "Przepraszamy, wysłaliśmy paczkę ponownie na ul. Długa 15/3, zadzwonimy na 601 234 567.",
        "Paczka nie doszła, mój adres to ul. Długa 15/3, tel. 601 234 567.",
        {"private_details"},
        id="pl-leaking-the-address",
    ),
    pytest.param(
        "Przepraszamy, ale tylko debil pisze takie opinie. Wyślemy nową kurtkę jutro.",
        None,
        set(),
        id="pl-insulting",
    ),
]


@pytest.mark.parametrize(("reply", "review", "kinds"), HOSTILE_REPLIES)
def test_check_finds_what_is_wrong_with_a_hostile_seller_reply(engine, reply, review, kinds):
    report = asyncio.run(engine.check(reply, review, engine="offline"))
    found = {finding.kind for finding in report.findings}
    assert report.verdict == "revise"
    assert found >= kinds
    assert all(finding.excerpt.strip() and finding.why for finding in report.findings)
    if review is not None:
        # The rewrite keeps none of the hostility and none of the customer's details.
        understood = understand(review, engine.packs)
        assert report.rewrite
        assert check_reply(report.rewrite, understood.reply_language, engine.packs) == []
        assert leaked(report.rewrite, understood.personal_data) == []


def test_an_insult_is_reported_with_the_sentence_that_holds_it(engine):
    report = asyncio.run(
        engine.check("I'm so sorry. We'll replace it today. Honestly, you are a moron.")
    )
    [finding] = report.findings
    assert finding.kind == "sarcasm"
    assert finding.excerpt == "Honestly, you are a moron."
