"""Speech-to-text with faster-whisper over numpy audio (no temporary files).

Silence is trimmed with the Silero VAD bundled in faster-whisper, once, before
anything else runs. The language is detected only among the conversation's
languages: Whisper's probabilities over all its languages are taken and the best
*allowed* one wins, so a German speaker in an en+de conversation is never heard
as Dutch or English. Greedy decoding by default (beam 1), as on the device.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.manifest import Engine, PackManifest
from tolk.models.pcm import ASR_RATE

log = logging.getLogger(__name__)


class AsrError(TolkError):
    code = ErrorCode.ASR_FAILED


@dataclass(frozen=True)
class AsrOptions:
    beam_size: int = 1  # greedy: fastest on a CPU, and what the device uses
    vad: bool = True  # trim silence with Silero VAD before decoding
    compute_type: str = "int8"
    threads: int = 0  # 0: CTranslate2 default (all cores)
    min_speech_ms: int = 250
    # Below this confidence (among the allowed languages) the top two are both decoded and the
    # more likely transcript wins: robust for accented or synthetic speech, costs a second decode.
    ambiguous_below: float = 0.75
    # Most tokens one decode may produce (None: Whisper's own 448). A pack may set its own
    # ("max_new_tokens" in its settings): it bounds a runaway or hallucinating decode.
    max_new_tokens: int | None = None


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # Tolk code
    confidence: float  # probability of the chosen language among the allowed ones
    speech_seconds: float  # after VAD trimming
    seconds: float  # compute time

    @property
    def no_speech(self) -> bool:
        return not self.text.strip()


def rank_languages(probabilities: Sequence[tuple[str, float]], allowed: Sequence[str]) -> list[tuple[str, float]]:
    """Allowed languages (Tolk codes), most likely first, probabilities renormalised over the allowed set."""
    allowed_whisper = {languages.get(code).whisper: languages.get(code).code for code in allowed}
    scores = {allowed_whisper[w]: p for w, p in probabilities if w in allowed_whisper}
    total = sum(scores.values())
    if not scores or total <= 0:
        return [(languages.get(allowed[0]).code, 0.0)]
    return sorted(((code, p / total) for code, p in scores.items()), key=lambda item: -item[1])


def choose_language(probabilities: Sequence[tuple[str, float]], allowed: Sequence[str]) -> tuple[str, float]:
    """Best allowed language (Tolk code) and its probability renormalised over the allowed set."""
    return rank_languages(probabilities, allowed)[0]


class WhisperAsr:
    def __init__(self, pack_dir: Path, manifest: PackManifest, options: AsrOptions = AsrOptions()) -> None:
        from faster_whisper import WhisperModel

        if manifest.engine is not Engine.FASTER_WHISPER:
            raise AsrError(f"pack {manifest.id} is not a faster-whisper pack")
        self.manifest = manifest
        self.options = options
        compute = manifest.settings.get("compute_type", options.compute_type)
        self.model = WhisperModel(str(pack_dir), device="cpu", compute_type=compute, cpu_threads=options.threads)
        self.max_new_tokens = manifest.settings.get("max_new_tokens", options.max_new_tokens)

    def trim_silence(self, audio: np.ndarray) -> np.ndarray:
        """Only the speech in ``audio`` (Silero VAD), or an empty array if there is none."""
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        stamps = get_speech_timestamps(audio, VadOptions(min_speech_duration_ms=self.options.min_speech_ms))
        if not stamps:
            return np.zeros(0, dtype=np.float32)
        chunks, _ = collect_chunks(audio, stamps)
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)

    def rank_languages(self, audio: np.ndarray, allowed: Sequence[str]) -> list[tuple[str, float]]:
        _, _, probabilities = self.model.detect_language(audio)
        return rank_languages(probabilities, allowed)

    def decode_scored(self, audio: np.ndarray, language: str, *, beam_size: int | None = None) -> tuple[str, float]:
        """Transcript and its mean token log-probability."""
        segments, _ = self.model.transcribe(
            audio, language=languages.get(language).whisper, beam_size=beam_size or self.options.beam_size,
            best_of=1, temperature=0.0, condition_on_previous_text=False, without_timestamps=True,
            vad_filter=False, max_new_tokens=self.max_new_tokens)
        segments = list(segments)
        text = " ".join(s.text.strip() for s in segments).strip()
        weights = [max(len(s.tokens), 1) for s in segments]
        logprob = sum(s.avg_logprob * w for s, w in zip(segments, weights)) / max(sum(weights), 1)
        return text, logprob

    def decode(self, audio: np.ndarray, language: str, *, beam_size: int | None = None) -> str:
        return self.decode_scored(audio, language, beam_size=beam_size)[0]

    def transcribe(self, audio: np.ndarray, *, allowed: Sequence[str] = (), forced: str | None = None) -> Transcript:
        """Text and language of ``audio`` (16 kHz mono float32)."""
        started = time.perf_counter()
        speech = self.trim_silence(audio) if self.options.vad else audio
        if speech.size < ASR_RATE * self.options.min_speech_ms / 1000:
            return Transcript("", forced or (allowed[0] if allowed else "en"), 0.0, 0.0, time.perf_counter() - started)
        if forced:
            language, confidence = languages.get(forced).code, 1.0
            text = self.decode(speech, language)
        else:
            ranked = self.rank_languages(speech, allowed or languages.codes())
            language, confidence = ranked[0]
            text, logprob = self.decode_scored(speech, language)
            if confidence < self.options.ambiguous_below and len(ranked) > 1:
                other, other_conf = ranked[1]
                other_text, other_logprob = self.decode_scored(speech, other)
                log.debug("ambiguous language %s %.2f (%.3f) vs %s %.2f (%.3f)", language, confidence, logprob,
                          other, other_conf, other_logprob)
                if other_logprob > logprob:
                    language, confidence, text = other, other_conf, other_text
        return Transcript(text, language, confidence, speech.size / ASR_RATE, time.perf_counter() - started)


def stable_prefix(previous: str, current: str) -> str:
    """Words two successive partial decodes agree on (the part safe to show while someone talks)."""
    agreed = []
    for a, b in zip(previous.split(), current.split()):
        if a != b:
            break
        agreed.append(a)
    return " ".join(agreed)
