"""End-of-speech detection for hands-free mode: a pure, time-based state machine.

``advance(state, chunk_seconds, is_speech)`` says when an utterance starts (enough speech) and when it ends
(enough silence after speech, or a maximum length); the state is an immutable value, so the appliance's state
machine can hold it. ``is_speech`` comes from a cheap energy detector here; nothing in the rules depends on
where it comes from, so they are testable without audio.
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


@dataclass(frozen=True)
class EndpointState:
    in_speech: bool = False
    speech: float = 0.0  # seconds of speech in a row (before an utterance starts)
    silence: float = 0.0  # seconds of silence in a row (inside an utterance)
    length: float = 0.0  # seconds of the utterance so far


def is_speech(chunk: np.ndarray, rules: EndpointRules = EndpointRules()) -> bool:
    return chunk.size > 0 and float(np.sqrt(np.mean(np.square(chunk)))) > rules.energy_threshold


def advance(state: EndpointState, seconds: float, speech: bool,
            rules: EndpointRules = EndpointRules()) -> tuple[EndpointState, Segment]:
    if not state.in_speech:
        run = state.speech + seconds if speech else 0.0
        if run >= rules.start_seconds:
            return EndpointState(in_speech=True, length=run), Segment.STARTED
        return EndpointState(speech=run), Segment.SILENCE
    length = state.length + seconds
    silence = 0.0 if speech else state.silence + seconds
    if silence >= rules.end_silence_seconds or length >= rules.max_seconds:
        return EndpointState(), Segment.ENDED
    return EndpointState(in_speech=True, silence=silence, length=length), Segment.SPEAKING


class Endpointer:
    """``advance`` with its state kept inside, for callers that are not state machines themselves."""

    def __init__(self, rules: EndpointRules = EndpointRules()) -> None:
        self.rules = rules
        self.reset()

    def reset(self) -> None:
        self.state = EndpointState()

    @property
    def in_speech(self) -> bool:
        return self.state.in_speech

    def is_speech(self, chunk: np.ndarray) -> bool:
        return is_speech(chunk, self.rules)

    def update(self, seconds: float, is_speech: bool) -> Segment:
        self.state, segment = advance(self.state, seconds, is_speech, self.rules)
        return segment
