"""The Kokoro voice (KokoroTts), the per-language voice router and the rule that picks each language's default.

The engine runs a tiny generated Kokoro-format pack (real ONNX session, real pack manifest and voice files);
grapheme-to-phoneme has its own tests (test_g2p.py), so here the text goes in as phonemes."""
import json

import numpy as np
import pytest

from tests.conftest import need_module
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.manifest import PackManifest
from tolk.models.tts import ESPEAK, PIPER, Speech, SpeechRouter
from tolk.models.voice_choice import VoiceFigures, choose, default_voices, load_figures

SYMBOLS = "abcdefghijklmnopqrstuvwxyzˈ ,.?!"


@pytest.fixture(scope="module")
def tiny_pack(tmp_path_factory):
    need_module("onnx", "the tiny Kokoro-format pack is written with onnx (pip install -e .[convert])")
    from tolk.models.build.tiny import build_kokoro_pack

    folder = tmp_path_factory.mktemp("tiny-kokoro")
    vocab = folder.parent / "vocab-src.json"
    vocab.write_text(json.dumps({"vocab": {s: i for i, s in enumerate(SYMBOLS, 1)}}))
    return folder, build_kokoro_pack(folder, vocab, ["en", "es"])


@pytest.fixture()
def voice(tiny_pack):
    from tolk.models.tts_kokoro import KokoroTts

    tts = KokoroTts(*tiny_pack)
    tts.phonemes = lambda text, language: text.lower()  # the pack's "phonemes" are plain letters
    return tts


def test_one_chunk_per_sentence_at_24_khz(voice):
    chunks = list(voice.speak("Hola amigo. Que tal?", "es"))
    assert [c.text for c in chunks] == ["Hola amigo.", "Que tal?"]
    assert all(c.sample_rate == 24000 and not c.fallback and c.audio.dtype == np.float32 for c in chunks)
    assert chunks[0].audio.size > 24000 * 0.05 and np.abs(chunks[0].audio).max() <= 0.31


def test_long_sentence_is_cut_below_the_model_limit(voice):
    from tolk.models.tts_kokoro import PHONEMES_PER_CALL

    calls = []
    real = voice.model.synthesise
    voice.model.synthesise = lambda p, style, speed: calls.append(p) or real(p, style, speed)
    list(voice.speak(" ".join(["palabra"] * 120) + ".", "es"))  # 959 characters: three calls
    assert len(calls) == 3 and all(len(c) <= PHONEMES_PER_CALL for c in calls)
    assert " ".join(calls).split() == (" ".join(["palabra"] * 120) + ".").split()


def test_split_phonemes_prefers_a_pause():
    from tolk.models.tts_kokoro import split_phonemes

    text = "a" * 30 + ", " + "b " * 20
    pieces = split_phonemes(text, limit=40)
    assert pieces[0] == "a" * 30 + "," and all(len(p) <= 40 for p in pieces)
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_unknown_voice_or_language_is_tts_missing(voice):
    with pytest.raises(TolkError) as no_voice:
        list(voice.speak("hola", "es", voice="em_nobody"))
    with pytest.raises(TolkError) as no_language:
        list(voice.speak("hallo", "de"))
    assert no_voice.value.code is no_language.value.code is ErrorCode.TTS_MISSING


def test_damaged_voice_file_is_pack_broken(tiny_pack, tmp_path):
    import shutil
    from tolk.models.tts_kokoro import KokoroTts

    folder = tmp_path / "pack"
    shutil.copytree(tiny_pack[0], folder)
    (folder / "tiny_voice.f32").write_bytes(b"\0" * 1024)
    tts = KokoroTts(folder, PackManifest.load(folder))
    tts.phonemes = lambda text, language: text
    with pytest.raises(TolkError) as err:
        list(tts.speak("hola", "es"))
    assert err.value.code is ErrorCode.PACK_BROKEN


class _Engine:
    def __init__(self, name, voices=None):
        self.name, self.voices, self.said = name, voices or {}, []

    def speak(self, text, language, voice=None):
        self.said.append((text, language, voice))
        return iter([Speech(np.zeros(8, dtype=np.float32), 16000, text, fallback=self.name == "espeak", voice=self.name)])


def _voices(chunks):
    return [speech.voice for speech in chunks]


def test_router_options_defaults_and_a_persons_choice():
    kokoro = _Engine("kokoro", {"es": ["ef_dora", "em_alex"], "en": ["af_heart"]})
    piper, espeak = _Engine("piper"), _Engine("espeak")
    router = SpeechRouter({"en": piper}, espeak, kokoro, defaults={"es": "kokoro:em_alex", "en": "kokoro:af_heart"})
    assert router.options("es") == ["kokoro:ef_dora", "kokoro:em_alex", ESPEAK]
    assert router.options("en") == [PIPER, "kokoro:af_heart", ESPEAK] and router.options("de") == [ESPEAK]
    assert _voices(router.speak("hola", "es")) == ["kokoro"] and kokoro.said[-1] == ("hola", "es", "em_alex")
    assert router.option("de") == ESPEAK and router.is_fallback("de") and not router.is_fallback("es")
    router.choose("en", PIPER)
    assert _voices(router.speak("hi", "en")) == ["piper"]
    router.choose("en", None)
    assert router.option("en") == "kokoro:af_heart"
    with pytest.raises(TolkError) as err:
        router.choose("de", "kokoro:ef_dora")
    assert err.value.code is ErrorCode.TTS_MISSING


def test_router_without_any_voice_says_so():
    router = SpeechRouter({}, None)
    with pytest.raises(TolkError) as err:
        router.speak("hola", "es")
    assert err.value.code is ErrorCode.TTS_MISSING and router.is_fallback("es")


def _f(option, cer, first):
    return VoiceFigures(option=option, cer=cer, first_audio_s=first, rtf=0.5)


def test_voice_rule_clear_first_then_fast_then_the_devices_order():
    en = [_f(PIPER, 0.009, 0.15), _f("kokoro:af_heart", 0.002, 0.98), _f(ESPEAK, 0.032, 0.01)]
    assert choose(en, [PIPER, "kokoro:af_heart", ESPEAK]) == PIPER  # as clear (within 0.01) and meets 0.5 s
    es = [_f("kokoro:ef_dora", 0.007, 0.85), _f("kokoro:em_alex", 0.005, 0.85), _f(ESPEAK, 0.117, 0.01)]
    assert choose(es, ["kokoro:ef_dora", "kokoro:em_alex", ESPEAK]) == "kokoro:ef_dora"  # equally clear: pack order
    assert choose(es, ["kokoro:em_alex", ESPEAK]) == "kokoro:em_alex"  # only what the device has
    close = [_f("kokoro:x", 0.010, 0.9), _f(ESPEAK, 0.015, 0.01)]
    assert choose(close, ["kokoro:x", ESPEAK]) == ESPEAK  # as clear by the numbers, and in time
    assert choose(en, [ESPEAK, "kokoro:zz"]) == ESPEAK and choose(en, ["kokoro:zz"]) is None


def test_default_voices_from_the_figures_file(tmp_path):
    path = tmp_path / "figures.json"
    path.write_text(json.dumps({"languages": {"es": {
        "kokoro:ef_dora": {"cer": 0.04, "first_audio_s": 0.7, "rtf": 0.5, "ram_mb": 300, "sentences": 50},
        "espeak-ng": {"cer": 0.2, "first_audio_s": 0.05, "rtf": 0.02, "ram_mb": 16, "sentences": 50}}}}))
    figures = load_figures(path)
    assert default_voices({"es": ["kokoro:ef_dora", ESPEAK], "fr": [ESPEAK]}, figures) == {"es": "kokoro:ef_dora"}
    # a voice the figures never heard (a tiny or another pack): they cannot rank it, the router's order decides
    assert default_voices({"es": ["kokoro:tiny_voice", ESPEAK]}, figures) == {}
    path.write_text("{not json")
    assert load_figures(path) == {}


def test_a_failing_neural_voice_falls_back_to_espeak_for_that_text(caplog):
    class Broken(_Engine):
        def speak(self, text, language, voice=None):
            raise RuntimeError("onnxruntime: bad allocation")
            yield  # a generator, as the real engines are

    espeak = _Engine("espeak")
    router = SpeechRouter({}, espeak, Broken("kokoro", {"es": ["ef_dora"]}))
    assert _voices(router.speak("hola", "es")) == ["espeak"] and espeak.said == [("hola", "es", None)]
    assert "bad allocation" in caplog.text
    with pytest.raises(RuntimeError):
        list(SpeechRouter({}, None, Broken("kokoro", {"es": ["ef_dora"]})).speak("hola", "es"))


def test_warm_up_touches_every_language_and_the_session(voice):
    asked = []
    voice.phonemes = lambda text, language: asked.append(language) or text
    assert voice.warm_up() >= 0 and asked == ["en", "es"]


def test_a_long_first_sentence_starts_with_its_first_clause():
    from tolk.models.tts_kokoro import FIRST_PIECE_PHONEMES, first_pause

    short = "ola, ke tal."
    long = "diskulpe senjor, " + "donde esta la estasjon de tren mas serkana " * 3 + "por fabor?"
    assert first_pause(short) is None and len(long) > FIRST_PIECE_PHONEMES
    assert long[:first_pause(long)].strip() == "diskulpe senjor,"
    assert first_pause("a" * 200) is None  # no pause: one piece, as before


def test_speak_sends_the_first_clause_alone_then_the_rest(voice):
    calls = []
    real = voice.model.synthesise
    voice.model.synthesise = lambda p, style, speed: calls.append(p) or real(p, style, speed)
    text = "Disculpe senor, " + "donde esta la estacion de tren mas cercana " * 3 + "por favor? Gracias."
    chunks = list(voice.speak(text, "es"))
    assert calls[0] == "disculpe senor," and len(calls) == 3 and calls[2] == "gracias."
    assert [c.text for c in chunks][-1] == "Gracias."
