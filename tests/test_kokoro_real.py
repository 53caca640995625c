"""The real Kokoro-82M pack (installed by `tolk models install-defaults`): Whisper hears its Spanish back."""
import numpy as np
import pytest

from tests.conftest import need_module

pytestmark = pytest.mark.real_models

SENTENCE = "¿Dónde está la estación de tren más cercana?"


@pytest.fixture(scope="module")
def kokoro(real_store):
    from tolk.models.tts_kokoro import KokoroTts

    pack = real_store.checked("kokoro-82m-int8")
    return KokoroTts(pack.path, pack.manifest)


def test_spanish_from_kokoro_is_understood_by_whisper(kokoro, real_interpreter):
    need_module("jiwer", "CER is computed with jiwer (pip install -e .[test])")
    from tolk.audio.clip import resample
    from tolk.device.bench import metrics

    chunks = list(kokoro.speak(SENTENCE, "es"))
    assert chunks and all(c.sample_rate == 24000 and not c.fallback for c in chunks)
    audio = np.concatenate([resample(c.audio, 24000, 16000) for c in chunks])
    assert 1.0 < audio.size / 16000 < 6.0
    heard = real_interpreter.asr.transcribe(audio, forced="es").text
    assert metrics.cer([SENTENCE], [heard]) <= 0.15, heard


def test_every_language_of_the_pack_speaks(kokoro):
    sentences = {"en": "Good morning.", "es": "Buenos días.", "fr": "Bonjour.", "it": "Buongiorno.",
                 "pt": "Bom dia.", "hi": "नमस्ते।", "zh": "早上好。"}
    assert set(kokoro.languages) == set(sentences)
    for code, text in sentences.items():
        (chunk,) = kokoro.speak(text, code)
        assert chunk.audio.size > 24000 * 0.3 and np.abs(chunk.audio).max() > 0.05, code


def test_previous_text_keeps_whisper_in_the_languages_script(kokoro, real_interpreter):
    """Whisper base writes Kokoro's (and a person's) Hindi in Latin letters; a Devanagari "previous text" keeps it
    in Devanagari, which is what the voice bench needs to compare with the sentence said."""
    from tolk.audio.clip import resample

    audio = np.concatenate([resample(c.audio, 24000, 16000) for c in kokoro.speak("सबसे नज़दीकी रेलवे स्टेशन कहाँ है?", "hi")])
    plain = real_interpreter.asr.transcribe(audio, forced="hi").text
    hinted = real_interpreter.asr.transcribe(audio, forced="hi", previous="नमस्ते, आप कैसे हैं? मैं ठीक हूँ।").text

    def devanagari(text):
        return sum("\u0900" <= ch <= "\u097f" for ch in text) / max(1, sum(ch.isalpha() for ch in text))

    assert devanagari(hinted) > 0.8 and devanagari(hinted) > devanagari(plain), (plain, hinted)
