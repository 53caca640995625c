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
    index: int  # sentence index
    text: str
    source_text: str
    language: str


@dataclass(frozen=True)
class AudioOut(Event):
    index: int
    samples: np.ndarray = field(repr=False)  # mono float32
    sample_rate: int
    fallback_voice: bool


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
