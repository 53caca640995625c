"""End-of-speech detection for hands-free mode: a pure, time-based state machine.

Fed ``(chunk_seconds, is_speech)`` pairs, it says when an utterance starts (enough
speech), and when it ends (enough silence after speech, or a maximum length).
``is_speech`` comes from a cheap energy detector here; nothing in the rules
depends on where it comes from, so they are testable without audio.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class Segment(enum.Enum):
    SILENCE = "silence"
    STARTED = "started"  # this chunk starts an utterance
    SPEAKING = "speaking"
    ENDED = "ended"  # this chunk ends it


@dataclass(frozen=True)
class EndpointRules:
    start_seconds: float = 0.3  # speech needed to start
    end_silence_seconds: float = 0.8  # silence that ends an utterance
    max_seconds: float = 25.0  # an utterance is cut here
    energy_threshold: float = 0.015  # RMS above this counts as speech


class Endpointer:
    def __init__(self, rules: EndpointRules = EndpointRules()) -> None:
        self.rules = rules
        self.reset()

    def reset(self) -> None:
        self.in_speech = False
        self._speech = 0.0
        self._silence = 0.0
        self._length = 0.0

    def is_speech(self, chunk: np.ndarray) -> bool:
        return chunk.size > 0 and float(np.sqrt(np.mean(np.square(chunk)))) > self.rules.energy_threshold

    def update(self, seconds: float, is_speech: bool) -> Segment:
        if not self.in_speech:
            self._speech = self._speech + seconds if is_speech else 0.0
            if self._speech >= self.rules.start_seconds:
                self.in_speech, self._silence, self._length = True, 0.0, self._speech
                return Segment.STARTED
            return Segment.SILENCE
        self._length += seconds
        self._silence = 0.0 if is_speech else self._silence + seconds
        if self._silence >= self.rules.end_silence_seconds or self._length >= self.rules.max_seconds:
            self.reset()
            return Segment.ENDED
        return Segment.SPEAKING
