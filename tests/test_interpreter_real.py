"""Full turns with the real default packs: Whisper base, Qwen2.5-Coder 1.5B (CT2 int8), Kokoro / Piper / espeak-ng."""
import subprocess
import sys
import wave

import pytest

from tolk.audio.clip import load_audio
from tolk.device import events as ev
from tolk.models.build.phrases import missing_words
from tests.conftest import need_espeak

pytestmark = pytest.mark.real_models


def test_full_turn_english_to_spanish(real_interpreter, clips):
    events = real_interpreter.interpret(load_audio(clips["en"]), pair=["en", "es"]).collect(timeout=300)
    names = [type(e).__name__ for e in events]
    assert names[0] == "TurnStarted" and names[-1] == "TurnFinished"
    assert names.index("FinalText") < names.index("TranslationText") < names.index("AudioOut")
    final = next(e for e in events if isinstance(e, ev.FinalText))
    assert final.language == "en" and not missing_words(final.text, "en", ["train", "station"]), final.text
    translations = [e for e in events if isinstance(e, ev.TranslationText)]
    assert translations and all(t.language == "es" for t in translations)
    spanish = " ".join(t.text for t in translations)
    assert not missing_words(spanish, "es", ["buenos|buen dia", "estacion"]), spanish  # any correct greeting
    audio = [e for e in events if isinstance(e, ev.AudioOut)]
    assert audio and not any(a.fallback_voice for a in audio)  # Spanish speaks with Kokoro's neural voice
    assert {a.sample_rate for a in audio} == {24000}
    assert sum(a.samples.size / a.sample_rate for a in audio) > 1.0
    done = events[-1]
    assert not done.cancelled and done.timings["first_audio"] < done.timings["total"]


@pytest.mark.parametrize("forced", [None, "de"])
def test_german_clip_detected_as_german_in_en_de_pair(real_interpreter, clips, forced):
    if "de" not in clips:
        need_espeak()
    events = real_interpreter.interpret(load_audio(clips["de"]), pair=["en", "de"], forced=forced).collect(300)
    final = next(e for e in events if isinstance(e, ev.FinalText))
    assert final.language == "de" and not missing_words(final.text, "de", ["bahnhof"]), final.text
    english = " ".join(e.text for e in events if isinstance(e, ev.TranslationText))
    assert not missing_words(english, "en", ["station"]), english
    assert all(e.language == "en" for e in events if isinstance(e, ev.TranslationText))
    assert any(isinstance(e, ev.AudioOut) and not e.fallback_voice for e in events)  # Piper speaks English


def test_spanish_clip_detected_as_spanish_in_en_es_pair(real_interpreter, clips):
    if "es" not in clips:
        need_espeak()
    transcript = real_interpreter.asr.transcribe(load_audio(clips["es"]), allowed=["en", "es"])
    assert transcript.language == "es" and not missing_words(transcript.text, "es", ["estacion"]), transcript.text


def test_auto_without_a_pair_detects_among_all_languages(real_interpreter, clips):
    events = real_interpreter.interpret(load_audio(clips["en"]), target="es").collect(300)
    final = next(e for e in events if isinstance(e, ev.FinalText))
    assert final.language == "en" and not missing_words(final.text, "en", ["train", "station"]), final.text
    spanish = " ".join(e.text for e in events if isinstance(e, ev.TranslationText))
    assert not missing_words(spanish, "es", ["estacion"]), spanish
    assert set(real_interpreter._detectable()) >= {"en", "es", "de", "fr", "ja", "zh"}


def test_cli_auto_into_the_language_spoken_says_so(clips):
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "interpret", str(clips["en"]), "--from", "auto",
                           "--to", "en"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2 and "heard (en" in proc.stdout
    assert "[LANG-SAME] you spoke English (en), the target language" in proc.stderr
    assert "LANG-UNKNOWN" not in proc.stderr


def test_silence_is_no_speech(real_interpreter, clips):
    events = real_interpreter.interpret(load_audio(clips["silence"]), pair=["en", "es"]).collect(60)
    assert any(isinstance(e, ev.NoSpeech) for e in events)
    assert not any(isinstance(e, (ev.FinalText, ev.TranslationText, ev.AudioOut)) for e in events)


def test_cancel_a_real_turn(real_interpreter, clips):
    turn = real_interpreter.interpret(load_audio(clips["en"]), pair=["en", "es"])
    seen = []
    for event in turn.events(timeout=300):
        seen.append(event)
        if isinstance(event, ev.FinalText):
            turn.cancel()
    assert seen[-1].cancelled and not any(isinstance(e, ev.AudioOut) for e in seen)


def test_cli_interpret_writes_playable_wav(clips, tmp_path):
    out = tmp_path / "out.wav"
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "interpret", str(clips["en"]), "--to", "es",
                           "-o", str(out), "--timings"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "heard (en" in proc.stdout and "translation (es)" in proc.stdout and "first audio" in proc.stdout
    assert "voice (es): kokoro:ef_dora" in proc.stdout
    with wave.open(str(out)) as wav:
        assert wav.getnchannels() == 1 and wav.getnframes() > wav.getframerate()
        assert wav.getframerate() == 24000  # Kokoro's rate: the Spanish was spoken by Kokoro


