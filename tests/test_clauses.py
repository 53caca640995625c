"""Cutting a streamed translation into clauses to speak, and the LLM's static prompt cache."""
from __future__ import annotations

import pytest

from tolk.models.clauses import MIN_CLAUSE_CHARS, ClauseCutter, join_clauses


def cut(pieces: list[str], min_chars: int = MIN_CLAUSE_CHARS) -> list[list[str]]:
    """Clauses available after each piece (last entry: the flush)."""
    cutter = ClauseCutter(min_chars)
    steps = [[c.text for c in cutter.feed(p)] for p in pieces]
    return steps + [[c.text for c in cutter.flush()]]


def test_sentence_end_cuts_once_whitespace_follows():
    assert cut(["Buenos días.", " ¿Dónde", " está?"]) == [[], ["Buenos días."], [], ["¿Dónde está?"]]


def test_comma_cuts_only_after_a_phrase_long_enough():
    assert cut(["Perdone, ¿dónde", " está"]) == [[], [], ["Perdone, ¿dónde está"]]
    assert cut(["¿Dónde está la farmacia más cercana, por", " favor?"]) == [
        ["¿Dónde está la farmacia más cercana,"], [], ["por favor?"]]


@pytest.mark.parametrize("text", ["Cuesta 3.5 euros.", "Son 1,000 personas.", "A las 7:45 sale.",
                                  "Dr. Smith llega.", "Es la J. K. Rowling."])
def test_numbers_times_and_abbreviations_never_cut(text):
    cutter = ClauseCutter(min_chars=1)
    clauses = [c.text for ch in text for c in cutter.feed(ch)] + [c.text for c in cutter.flush()]
    assert clauses == [text]


def test_cjk_and_arabic_marks():
    assert cut(["火车站在哪里？请", "告诉我。"]) == [["火车站在哪里？"], ["请告诉我。"], []]
    assert cut(["أين محطة القطار، من فضلك؟", " شكرا"], min_chars=10) == [["أين محطة القطار،"], ["من فضلك؟"], ["شكرا"]]


def test_joined_clauses_keep_the_model_spacing():
    cutter = ClauseCutter()
    clauses = cutter.feed("¿Dónde está la farmacia más cercana,  por favor? Gracias") + cutter.flush()
    assert join_clauses(clauses) == "¿Dónde está la farmacia más cercana,  por favor? Gracias"


@pytest.mark.real_models
def test_static_prompt_is_cached_per_pack_and_pair_and_dropped_with_the_pack(real_store):
    from tolk.models import languages
    from tolk.models.manifest import Kind
    from tolk.models.translate import load_translator

    (pack,) = [p for p in real_store.installed() if p.manifest.kind is Kind.MT][:1]
    translator = load_translator(pack.path, pack.manifest)
    whole = translator.translate(["Where is the train station?"], "en", "es")[0].text
    streamed = "".join(translator.stream("Where is the train station?", "en", "es"))
    assert streamed == whole  # the same greedy decode, with the head computed once
    en, es, de = (languages.get(c) for c in ("en", "es", "de"))
    head = translator.static_prompt(en, es)
    assert head and translator.static_prompts == {(pack.id, "en", "es"): head}
    rest = translator.split_prompt("Good morning.", en, es)[1]
    assert head + rest == translator.prompt_tokens("Good morning.", en, es)
    assert translator.static_prompt(en, de) != head and (pack.id, "en", "de") in translator.static_prompts
    assert translator.split_prompt("Hi.", en, es, context=[("a", "b")])[0] is None  # context: no static head
    reloaded = load_translator(pack.path, pack.manifest)  # a pack change loads a new translator: empty cache
    assert reloaded.static_prompts == {}


def test_the_turns_first_clause_may_be_short():
    cutter = ClauseCutter(first_min_chars=8)
    assert [c.text for c in cutter.feed("Lo siento, ¿dónde está, por favor, la farmacia? ")] == [
        "Lo siento,", "¿dónde está, por favor, la farmacia?"]
