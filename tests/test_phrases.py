"""The travel-phrase regression set (models/build/phrases.py): its data, its scoring, and the real pack on it."""
import os

import pytest

from tolk.models.build import phrases
from tests.conftest import need_real


def test_every_phrase_has_three_references_that_pass_their_own_checks():
    assert len(phrases.PHRASES) >= 20 and len({p.id for p in phrases.PHRASES}) == len(phrases.PHRASES)
    for phrase in phrases.PHRASES:
        for language in phrases.TARGETS:
            result = phrases.score(phrase, language, phrase.references[language])
            assert result.passed and result.chrf == 100.0, (phrase.id, language, result)
    listed = set(phrases.KNOWN_FAILING) | set(phrases.NEAR_TIES)
    assert {pid for pid, _ in listed} <= {p.id for p in phrases.PHRASES} and {lang for _, lang in listed} <= set(
        phrases.TARGETS)
    assert not set(phrases.KNOWN_FAILING) & set(phrases.NEAR_TIES)


def test_scoring_catches_a_lost_number_a_lost_key_word_and_an_answer():
    price = next(p for p in phrases.PHRASES if p.id == "price")
    assert phrases.score(price, "es", "Eso cuesta 12,50 euros.").passed  # 12.50 -> 12,50 is kept
    assert phrases.score(price, "es", "Eso cuesta doce euros.").missing_numbers == ("12", "50")
    station = next(p for p in phrases.PHRASES if p.id == "station")
    assert phrases.score(station, "de", "Wo ist die Zürtelstation?").missing_keys == ("bahnhof",)
    bus = next(p for p in phrases.PHRASES if p.id == "airport-bus")
    answered = phrases.score(bus, "fr", "Oui, ce bus va à l'aéroport.")
    assert not answered.passed and answered.guard_problems == ("question",)
    assert phrases.fold("Schließt ÖFFNET à") == "schliesst offnet a"
    card = next(p for p in phrases.PHRASES if p.id == "card")
    # German joins nouns: the card is in "Kreditkarte" (the AMD EPYC answer of issue #21); not in Cyrillic letters
    assert phrases.score(card, "de", "Kann ich mit Kreditkarte bezahlen?").passed
    assert phrases.score(card, "de", "Kann ich mit Kreditкарten bezahlen?").missing_keys == ("karte",)
    assert phrases.score(card, "fr", "Puis-je payer par carte bancaire ?").passed
    assert phrases.score(card, "fr", "Puis-je payer par pancarte ?").missing_keys == ("carte",)  # word starts in French


@pytest.mark.real_models
def test_phrases_that_pass_today_keep_passing(real_store):
    from tolk.models.manifest import Kind
    from tolk.models.selection import active_packs
    from tolk.models.translate import load_translator

    packs = [p for p in active_packs(real_store.installed()) if p.manifest.kind is Kind.MT]
    if not packs:
        need_real("no translation pack")
    translator = load_translator(packs[0].path, packs[0].manifest)
    broke, fixed, ties, must_pass = [], [], [], 0
    # each phrase into one of the targets in turn (22 translations, not 66: the suite stays fast);
    # TOLK_ALL_PHRASES=1 runs every phrase into every target
    every = os.environ.get("TOLK_ALL_PHRASES") == "1"
    for n, language in enumerate(phrases.TARGETS):
        chosen = phrases.PHRASES if every else phrases.PHRASES[n::len(phrases.TARGETS)]
        outputs = translator.translate([p.en for p in chosen], "en", language)
        for phrase, output in zip(chosen, outputs):
            result = phrases.score(phrase, language, output.text)
            print(f"{'pass' if result.passed else 'FAIL'} {phrase.id}/{language}: {output.text!r}")  # -rA shows them
            pair = (phrase.id, language)
            if pair in phrases.NEAR_TIES:
                ties.append((pair, result.passed))  # right or wrong by the CPU's kernels: not asserted alone
                continue
            must_pass += pair not in phrases.KNOWN_FAILING
            if not result.passed and pair not in phrases.KNOWN_FAILING:
                broke.append(result)
            elif result.passed and pair in phrases.KNOWN_FAILING:
                fixed.append(pair)
    assert must_pass >= 14 if not every else must_pass >= 44  # most pairs are held to passing, on any CPU
    assert not broke, broke
    print(f"near ties (CPU-dependent, passed?): {ties}")
    if fixed:
        print(f"now passing, take them off KNOWN_FAILING: {fixed}")
