"""Whisper over CTranslate2 directly: one encoder pass per utterance, no 30 s padding, prefix and bounded partials."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tolk.audio.clip import load_audio
from tolk.models import asr as asr_module
from tolk.models.asr import (MIN_ENCODER_FRAMES, WINDOW_FRAMES, WhisperAsr, partial_token_budget,
                             stable_prefix)
from tolk.models.errors import TolkError
from tolk.models.build.phrases import missing_words
from tests.conftest import need_espeak, need_real

pytestmark = pytest.mark.real_models


class CountingEngine:
    """Wraps the CTranslate2 Whisper model: counts the calls and records the frames given to the encoder."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.encoded_frames: list[int] = []
        self.detects = 0
        self.max_lengths: list[int] = []
        self.beam_sizes: list[int] = []

    def encode(self, features, *args, **kwargs):
        self.encoded_frames.append(features.shape[-1])
        return self.engine.encode(features, *args, **kwargs)

    def detect_language(self, *args, **kwargs):
        self.detects += 1
        return self.engine.detect_language(*args, **kwargs)

    def generate(self, *args, **kwargs):
        self.max_lengths.append(kwargs["max_length"])
        self.beam_sizes.append(kwargs["beam_size"])
        return self.engine.generate(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.engine, name)


@pytest.fixture(scope="module")
def whisper(real_store):
    try:
        pack = real_store.get("whisper-base")
    except TolkError as err:
        need_real(str(err))
    return WhisperAsr(pack.path, pack.manifest)


@pytest.fixture
def asr(whisper):
    """The shared model with a fresh call counter (and its default options) for one test."""
    engine, options = whisper.engine, whisper.options
    whisper.engine = CountingEngine(engine)
    yield whisper
    whisper.engine, whisper.options = engine, options


@pytest.fixture(scope="module")
def audio(clips):
    return {name: load_audio(path) for name, path in clips.items()}


def test_language_detection_and_decode_share_one_encoder_pass(asr, audio):
    transcript = asr.transcribe(audio["en"], allowed=["en", "es"])
    assert transcript.language == "en" and "train station" in transcript.text.lower()
    assert len(asr.engine.encoded_frames) == 1 and asr.engine.detects == 1


def test_short_input_is_not_padded_to_thirty_seconds(asr, audio):
    asr.transcribe(audio["en"], allowed=["en", "es"])
    assert asr.engine.encoded_frames == [MIN_ENCODER_FRAMES] < [WINDOW_FRAMES]  # a 2.6 s clip: padded to the floor
    long = np.concatenate([audio["en"]] * 5)  # ~13 s: encoded as it is, under the 30 s window
    encoded = asr.encode(long)
    assert asr.engine.encoded_frames[-1] == encoded.frames == encoded.content_frames == long.size // 160


def test_prefix_is_kept_and_only_the_rest_is_generated(asr, audio):
    text = asr.decode(audio["en"], "en", prefix="Good morning.")
    assert text.startswith("Good morning.") and "station" in text.lower()
    transcript = asr.transcribe(audio["en"], forced="en", prefix="Good morning. Where")
    assert transcript.text.startswith("Good morning. Where") and "station" in transcript.text.lower()


@pytest.mark.parametrize("language,word", [("de", "bahnhof"), ("es", "estacion")])
def test_two_decode_rule_reuses_the_encoder_output(asr, audio, language, word):
    if language not in audio:
        need_espeak()
    asr.options = replace(asr.options, ambiguous_below=1.01)  # always decode the top two languages
    transcript = asr.transcribe(audio[language], allowed=["en", language])
    assert transcript.language == language and not missing_words(transcript.text, language, [word]), transcript.text
    assert len(asr.engine.encoded_frames) == 1 and len(asr.engine.max_lengths) == 2


def test_an_unlikely_decode_gets_the_second_language_decode(asr, audio):
    if "de" not in audio:
        need_espeak()
    transcript = asr.transcribe(audio["de"], allowed=["en", "de"])  # espeak German: Whisper first hears English
    assert transcript.language == "de" and not missing_words(transcript.text, "de", ["bahnhof"]), transcript.text
    assert len(asr.engine.encoded_frames) == 1 and len(asr.engine.max_lengths) == 2


def test_partials_are_bounded(asr, audio, monkeypatch):
    partial = asr.partial(audio["en"], "en")
    assert partial.language == "en" and not partial.truncated and "station" in partial.text.lower()
    assert asr.engine.max_lengths[-1] <= 2 * partial_token_budget(audio["en"].size / 16000, "en") < 2 * 64
    monkeypatch.setattr(asr_module, "PARTIAL_MAX_TOKENS", 4)  # cut mid-sentence: no half word is shown
    cut = asr.partial(audio["en"], "en")
    assert cut.truncated and cut.text and partial.text.startswith(cut.text) and len(cut.text) < len(partial.text)
    noise = np.random.default_rng(0).normal(0, 0.1, 16000 * 6).astype(np.float32)
    asr.partial(noise, "en")  # whatever it hears, the decode stops at the bound
    assert asr.engine.max_lengths[-1] == 2 * partial_token_budget(6.0, "en")


def test_partials_are_greedy_and_final_decodes_use_the_beam(asr, audio):
    asr.partial(audio["en"], "en")
    asr.transcribe(audio["en"], forced="en")
    assert asr.engine.beam_sizes == [asr_module.PARTIAL_BEAM_SIZE, asr.options.beam_size] == [1, 5]


def test_partial_detects_the_language_in_the_same_pass(asr, audio):
    partial = asr.partial(audio["en"], None, allowed=["es", "en"])
    assert partial.language == "en" and len(asr.engine.encoded_frames) == 1 and asr.engine.detects == 1


def test_silence_is_no_speech(asr, audio):
    assert asr.transcribe(audio["silence"], allowed=["en", "es"]).no_speech
    assert asr.engine.encoded_frames == []  # the VAD found nothing: the model never ran


def test_budget_and_commit_rule():
    assert partial_token_budget(1.0) == 9 + 8 and partial_token_budget(60.0) == asr_module.PARTIAL_MAX_TOKENS
    assert partial_token_budget(2.0, "en") < partial_token_budget(2.0, "el") < partial_token_budget(2.0, "ka")
    assert stable_prefix("where is the", "where is the train") == "where is the"
    assert stable_prefix("where is a", "where is the") == "where is"


def test_a_looping_decode_is_decoded_again_over_the_full_window(asr, audio, monkeypatch):
    monkeypatch.setattr(asr_module, "repetitive", lambda text: True)  # as if the first decode had looped
    transcript = asr.transcribe(audio["en"], allowed=["en", "es"])
    assert asr.engine.encoded_frames == [MIN_ENCODER_FRAMES, WINDOW_FRAMES]
    assert transcript.language == "en" and "train station" in transcript.text.lower()
