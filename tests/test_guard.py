"""The non-translation guard (models/guard.py) on fixed examples, and its retry in LlmTranslator (a fake model)."""
from types import SimpleNamespace

import pytest

from tolk.models import guard
from tolk.models.prompt_check import environment
from tolk.models.translate import LlmTranslator

PHARMACY = "Where is the pharmacy?"


@pytest.mark.parametrize("source, output, target, problems", [
    (PHARMACY, "I'm sorry, I can't help with that.", "es", ("refusal", "question")),
    (PHARMACY, "¿Dónde está la farmacia?", "es", ()),
    (PHARMACY, "药店在哪里？", "es", ("script", "length")),
    (PHARMACY, "药店在哪里？", "zh", ()),
    (PHARMACY, "La farmacia está en la calle principal, a dos minutos de aquí, junto al banco y enfrente del hotel.",
     "es", ("length", "question")),
    (PHARMACY, "Lo siento, no puedo ayudar con eso.", "es", ("refusal", "question")),
    ("Can I pay by card?", "Oui, je peux payer par carte.", "fr", ("question",)),
    ("Where is the station?", "Как пройти к вокзалу?", "de", ("script",)),
    ("I am sorry, I lost my ticket.", "Lo siento, perdí mi billete.", "es", ()),  # the source apologises
    ("I can't find my passport.", "No puedo encontrar mi pasaporte.", "es", ()),
    ("I need a doctor for my son.", "I need a doctor for my son.", "de", ("copied",)),
    ("Two tickets cost 45.50 euros.", "Dos billetes cuestan 45,50 euros.", "es", ()),
    ("The train leaves at 10:30.", "El tren sale a las diez y media.", "es", ("numbers",)),
    ("Translate the menu for me, please.", "Traduce el menú para mí, por favor.", "es", ()),
    ("Yes.", "Sí.", "es", ()),
    ("Excuse me, where is the bus stop?", "", "es", ("length", "question")),
])
def test_check_on_fixed_examples(source, output, target, problems):
    assert guard.check(source, output, "en", target).problems == problems


def test_first_clause_check_decides_only_script_and_refusal():
    assert guard.check(PHARMACY, "I'm sorry,", "en", "es", final=False).problems == ("refusal",)
    assert guard.check(PHARMACY, "药店在哪里？", "en", "es", final=False).problems == ("script",)
    assert guard.check(PHARMACY, "¿Dónde está", "en", "es", final=False).ok  # no question mark yet: not judged


def test_numbers_are_kept_verbatim_across_formats():
    assert guard.numbers("1,000 people, 3.50 euros at 10:45 on platform 03") == ["1000", "3", "50", "10", "45", "3"]
    assert guard.missing_numbers("It costs 1,000 euros.", "Cuesta 1.000 euros.") == []
    assert guard.missing_numbers("It costs 1,000 euros.", "Cela coûte 1\u202f000 euros.") == []
    assert guard.missing_numbers("Room 12, floor 2.", "Habitación 12, planta dos.") == ["2"]
    assert guard.missing_numbers("٣ tickets", "3 billetes") == [] and guard.missing_numbers("3 tickets", "３枚") == []


def test_script_share_needs_enough_letters():
    assert guard.script_share("OK 2", "Hans") is None
    assert guard.script_share("Hotel Ritz находится здесь", "Cyrl") == pytest.approx(14 / 23)


# ---- the retry, with a fake model -------------------------------------------------------------------------------
TEMPLATE = ("<|im_start|>system\nYou are a professional translator.<|im_end|>\n<|im_start|>user\nTranslate this "
            "{{ source }} text into {{ target }}. Output only the translation.\n\n{{ source }}: {{ text }}\n"
            "{{ target }}:<|im_end|>\n<|im_start|>assistant\n")


class CharTokenizer:
    def tokens(self, text):
        return list(text)

    def decode(self, ids):
        return "".join(map(chr, ids))

    def neutralise(self, text):
        return text


class FakeGenerator:
    """Answers the plain prompt with ``first`` and the strict prompt with ``strict``; records the prompts."""

    def __init__(self, first, strict, strict_marker="Never answer"):
        self.first, self.strict, self.prompts, self.strict_marker = first, strict, [], strict_marker

    def _answer(self, prompt):
        text = "".join(prompt)
        self.prompts.append(text)
        return self.strict if self.strict_marker in text else self.first

    def generate_batch(self, prompts, **kwargs):
        return [SimpleNamespace(sequences_ids=[[ord(c) for c in self._answer(p)]]) for p in prompts]

    def generate_tokens(self, prompt, static_prompt=None, **kwargs):
        answer = self._answer((static_prompt or []) + list(prompt))
        return Steps(SimpleNamespace(token_id=ord(c)) for c in answer)


class Steps:
    """CTranslate2's token iterator: iterable, and closed to stop the decoding."""

    def __init__(self, steps):
        self.steps, self.closed = steps, False

    def __iter__(self):
        return self.steps

    def close(self):
        self.closed = True


def fake_translator(first, strict):
    translator = LlmTranslator.__new__(LlmTranslator)
    translator.manifest = SimpleNamespace(id="fake", languages=("en", "es", "de"))
    translator.tokenizer = CharTokenizer()
    translator.template = environment().from_string(TEMPLATE)
    translator.stop, translator.stop_ids, translator.bos = ["<|im_end|>"], [], None
    translator.generator = FakeGenerator(first, strict)
    translator.static_prompts, translator.guard, translator.retries = {}, True, 0
    return translator


def test_whole_path_retries_a_refusal_with_the_strict_prompt():
    translator = fake_translator("I'm sorry, I can't help with that.", "¿Dónde está la farmacia?")
    (result,) = translator.translate([PHARMACY], "en", "es")
    assert result.text == "¿Dónde está la farmacia?" and translator.retries == 1
    assert "Never answer" in translator.generator.prompts[-1] and "Never answer" not in translator.generator.prompts[0]


def test_whole_path_keeps_a_good_translation_and_the_lighter_of_two_failures():
    good = fake_translator("¿Dónde está la farmacia?", "unused")
    assert good.translate([PHARMACY], "en", "es")[0].text == "¿Dónde está la farmacia?" and good.retries == 0
    worse = fake_translator("¿Dónde está la farmacia", "药店在哪里？")  # question mark lost (1) vs script (4+)
    assert worse.translate([PHARMACY], "en", "es")[0].text == "¿Dónde está la farmacia"
    off = fake_translator("I'm sorry, I can't help with that.", "unused")
    off.guard = False
    assert off.translate([PHARMACY], "en", "es")[0].text.startswith("I'm sorry")


def test_streamed_path_drops_a_refused_first_clause_unsaid():
    translator = fake_translator("I'm sorry, I can't help with that.", "¿Dónde está la farmacia?")
    assert "".join(translator.stream(PHARMACY, "en", "es")) == "¿Dónde está la farmacia?"
    assert translator.retries == 1
    good = fake_translator("Perdone usted, ¿dónde está la farmacia más cercana?", "unused")
    pieces = list(good.stream(PHARMACY, "en", "es"))
    assert pieces[0] == "Perdone usted, " and "".join(pieces) == "Perdone usted, ¿dónde está la farmacia más cercana?"
    assert good.retries == 0
