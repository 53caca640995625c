"""Hostile text: empty, whitespace, too long, option-like. Refused with a code before any model runs, and the
interpreter goes on working; text that looks like a command-line option is spoken, not parsed."""
import subprocess
import sys

import pytest

from tests.conftest import need_espeak
from tests.hostile.helpers import make_interpreter, still_translates
from tolk.device.interpreter import InterpreterConfig
from tolk.models.errors import TolkError
from tolk.models.tts import EspeakTts

LIMIT = InterpreterConfig().max_text_chars


def test_text_starting_with_a_dash_is_spoken():
    need_espeak()
    (speech,) = list(EspeakTts().speak("-5 grados", "es"))
    assert speech.audio.size > speech.sample_rate * 0.3 and abs(speech.audio).max() > 0.05


INVISIBLE = ["\u200b\u200c\u2060", "\ufeff", "\u0301\u0308\u20dd", "\u202e\u2066\u2069\u200e\u061c", "\u00ad\u200d",
             "\u3164\u115f", "\u2800", " \u200b \ufe0f \U000e0041", "\ue000", "\u200b" * 5000]


@pytest.mark.parametrize("text, code", [("", "TEXT-EMPTY"), ("   \n\t ", "TEXT-EMPTY"), ("\u3000", "TEXT-EMPTY"),
                                        *((t, "TEXT-EMPTY") for t in INVISIBLE),
                                        ("a" * (LIMIT + 1), "TEXT-TOO-LONG"), ("word " * 4000, "TEXT-TOO-LONG"),
                                        ("x" * 20000, "TEXT-TOO-LONG")])
@pytest.mark.parametrize("entry", ["translate_text", "say"])
def test_bad_text_is_refused_before_any_model_runs(text, code, entry):
    interp, translator, voices = make_interpreter()
    call = (lambda: interp.translate_text(text, "en", "es")) if entry == "translate_text" else \
        (lambda: interp.say(text, "es"))
    with pytest.raises(TolkError) as caught:
        call()
    assert caught.value.code == code
    assert translator.calls == [] and voices.spoken == []  # refused before the models
    still_translates(interp)


def test_text_at_the_limit_is_accepted():
    interp, translator, _ = make_interpreter()
    text = ("Hello. " * LIMIT)[:LIMIT]
    events = interp.translate_text(text, "en", "es").collect(timeout=30)
    assert not [e for e in events if type(e).__name__ == "TurnError"] and translator.calls


@pytest.mark.parametrize("text, code", [("", "TEXT-EMPTY"), (" ", "TEXT-EMPTY"), ("a" * (LIMIT + 1), "TEXT-TOO-LONG"),
                                        ("\u200b\u200c\u2060", "TEXT-EMPTY"), ("\ufeff", "TEXT-EMPTY"),
                                        ("\u0301", "TEXT-EMPTY"), ("\u202e\u2066", "TEXT-EMPTY")])
def test_the_cli_refuses_bad_text_before_loading_models(text, code):
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "translate", text, "--from", "en", "--to", "es"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: [{code}]") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("text", ["Thank you. \u200b\u200c", "Thank you.\n\ufeff\n", "Thank you. \u2060 \u0301 \u202c"])
def test_an_invisible_sentence_beside_real_text_is_not_translated(text):
    """Only the real sentence is translated (an invisible one would come back as "¡Hola!")."""
    interp, translator, voices = make_interpreter()
    events = interp.translate_text(text, "en", "es").collect(timeout=10)
    assert [e.text for e in events if type(e).__name__ == "TranslationText"] == ["THANK YOU."]
    assert len(translator.calls) == 1 and len(voices.spoken) == 1
    interp.close()


@pytest.mark.parametrize("text", ["h\u0301ola", "\u0928\u092e\u0938\u094d\u0924\u0947", "\U0001f44b", "?", "42"])
def test_real_text_with_marks_or_symbols_is_not_empty(text):
    interp, translator, _ = make_interpreter()
    events = interp.translate_text(text, "en", "es").collect(timeout=10)
    assert not [e for e in events if type(e).__name__ == "TurnError"] and translator.calls
    interp.close()


@pytest.mark.real_models
def test_the_espeak_abort_text_is_translated_and_spoken(capsys, caplog, real_store):
    """Issue 21's repro: 120 letter-dot pairs made libespeak-ng 1.51 abort inside the process (rc 134, "stack
    smashing detected"). Now the run is spaced out before espeak-ng sees it, and espeak-ng runs in the speech
    worker anyway: rc 0, the translation printed and spoken by Kokoro, the worker never crashed."""
    import logging

    from tolk.device.cli import main

    need_espeak()
    caplog.set_level(logging.INFO)
    code = main(["translate", "The password is " + "x." * 120, "--from", "en", "--to", "es"])
    out, err = capsys.readouterr()
    assert code == 0 and "x" in out.lower() and "error" not in err, (out, err)
    assert "a run of dotted letters was spaced out" in caplog.text  # the cut, in the worker's relayed log
    assert "killed by" not in caplog.text and "espeak-ng speaks" not in caplog.text  # the neural voice spoke it


def test_espeak_speaks_the_abort_text():
    need_espeak()
    (speech,) = list(EspeakTts().speak("La clave es " + "x." * 120, "es"))  # the command aborted on it before
    assert speech.voice == "espeak-ng" and speech.audio.size > speech.sample_rate * 0.5
