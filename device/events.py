"""Typed events of one interpreter Turn, consumed by the screen, playback, console and benchmarks."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from tolk.models.errors import ErrorCode


@dataclass(frozen=True)
class Event:
    turn_id: int
    at: float = field(default_factory=time.monotonic, kw_only=True)


@dataclass(frozen=True)
class TurnStarted(Event):
    languages: tuple[str, ...]  # allowed source languages (one when forced)
    target: str | None  # None: the other language of the pair


@dataclass(frozen=True)
class InputLevel(Event):
    level: float  # 0..1


@dataclass(frozen=True)
class PartialText(Event):
    text: str  # the stable prefix so far


@dataclass(frozen=True)
class FinalText(Event):
    text: str
    language: str
    confidence: float


@dataclass(frozen=True)
class NoSpeech(Event):
    message: str = "No speech heard"


@dataclass(frozen=True)
class TranslationText(Event):
    """One clause of the translation, sent as soon as it is complete (its audio follows as AudioOut with the
    same index). The whole translation is ``joined_translation`` of a turn's TranslationTexts."""

    index: int  # clause index within the turn
    text: str  # the clause, stripped
    source_text: str  # the source sentence it belongs to
    language: str
    gap: str = ""  # what goes before it when the clauses are joined ("" for the first, " " between words)
    starts_sentence: bool = True
    # MT-NOT-TRANSLATION when the text is the notice said instead of an answer that was not a translation
    notice: ErrorCode | None = None


def joined_translation(events: "list[Event]") -> str:
    """The full translation text of a turn's TranslationText events, clauses joined as the model wrote them."""
    parts = [e for e in events if isinstance(e, TranslationText)]
    return "".join((e.gap if i else "") + e.text for i, e in enumerate(parts))


def translated_sentences(events: "list[Event]") -> list[str]:
    """The translation sentence by sentence (clauses of one source sentence joined)."""
    out: list[str] = []
    for e in events:
        if isinstance(e, TranslationText):
            if e.starts_sentence or not out:
                out.append(e.text)
            else:
                out[-1] += e.gap + e.text
    return out


@dataclass(frozen=True)
class AudioOut(Event):
    index: int
    samples: np.ndarray = field(repr=False)  # mono float32
    sample_rate: int
    fallback_voice: bool
    voice: str = ""  # the voice option that spoke this chunk ("kokoro:ef_dora", "piper", "espeak-ng")


def spoken_voices(events: list[Event]) -> list[str]:
    """The voice options that spoke the turn's audio, in order of first use ("espeak-ng" after a neural voice
    that failed)."""
    return list(dict.fromkeys(e.voice for e in events if isinstance(e, AudioOut) and e.voice))


@dataclass(frozen=True)
class BackTranslation(Event):
    text: str
    language: str


@dataclass(frozen=True)
class StageTiming(Event):
    stage: str  # "asr", "mt", "tts", "first_audio", "back_translation", "total"
    seconds: float


@dataclass(frozen=True)
class TurnError(Event):
    code: ErrorCode
    message: str


@dataclass(frozen=True)
class TurnFinished(Event):
    cancelled: bool
    timings: dict[str, float]
