"""Turns: what callers hold while the interpreter works. ``Turn`` carries its events and can be cancelled;
``LiveTurn`` is fed audio while the person speaks (partial decodes, simultaneous translation) and runs the full
turn on ``finish()``. The interpreter (``tolk.device.interpreter``) does the work; a turn only queues jobs."""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from tolk.audio.clip import ASR_RATE, rms_level
from tolk.device import events as ev

if TYPE_CHECKING:
    from tolk.device.interpreter import Interpreter

# A partial decode is not started once the input has been this quiet for this long: the person is probably
# done, and a partial running when they release would delay the final decode by its whole duration.
QUIET_LEVEL = 0.06  # rms_level() of room noise; speech at a normal distance is 0.2 and more
QUIET_TAIL_SAMPLES = int(0.3 * ASR_RATE)


@dataclass
class Turn:
    """A running or finished turn. Read ``events()``; call ``cancel()`` to stop it."""

    id: int
    audio: np.ndarray | None
    text: str | None
    allowed: tuple[str, ...]
    forced: str | None
    target: str | None
    created: float = field(default_factory=time.monotonic)
    _events: "queue.Queue[ev.Event]" = field(default_factory=queue.Queue, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    _started_event: bool = field(default=False, repr=False)  # TurnStarted already sent
    speak_only: bool = False  # `say`: speak ``text`` in ``target``, no translation
    clauses_said: int = field(default=0, repr=False)  # TranslationText / AudioOut index of the next clause
    # where events go instead of ``events()`` (the appliance's one input queue); called from worker threads
    sink: Callable[[ev.Event], None] | None = field(default=None, repr=False)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def emit(self, event: ev.Event) -> None:
        if self.sink is not None:
            self.sink(event)
        else:
            self._events.put(event)

    def events(self, timeout: float | None = None) -> Iterator[ev.Event]:
        """Events until (and including) TurnFinished."""
        while True:
            event = self._events.get(timeout=timeout)
            yield event
            if isinstance(event, ev.TurnFinished):
                return

    def collect(self, timeout: float | None = 600) -> list[ev.Event]:
        return list(self.events(timeout=timeout))


class LiveTurn(Turn):
    """A turn fed while the person speaks: partial text at a fixed cadence, the full turn on ``finish()``."""

    def __init__(self, interpreter: "Interpreter", **kwargs) -> None:
        super().__init__(audio=None, text=None, **kwargs)
        self._interpreter = interpreter
        self._chunks: list[np.ndarray] = []
        self._samples = 0
        self._partial_at = 0
        self._partial_busy = threading.Event()
        self._partial_text = ""
        self._partial_shown = ""
        self._partial_language: str | None = None
        # simultaneous mode: (source, target, sentence) -> its translation, started while the person was talking
        self.early_translations: dict[tuple[str, str, str], EarlyTranslation] = {}
        self._early_queued: set[tuple[str, str, str]] = set()
        self._finished = False
        self._started_event = False
        self._quiet_samples = 0  # samples of near-silence at the end of what has been fed

    @property
    def committed(self) -> str:
        """Words two successive partial decodes agreed on (shown while the person speaks)."""
        return self._partial_shown

    def feed(self, samples: np.ndarray) -> None:
        """Append 16 kHz mono float32 audio; never blocks."""
        if self._finished or self.cancelled:
            return
        samples = np.asarray(samples, dtype=np.float32)
        self._chunks.append(samples)
        self._samples += samples.size
        level = rms_level(samples)
        self.emit(ev.InputLevel(self.id, level=level))
        self._quiet_samples = self._quiet_samples + samples.size if level < QUIET_LEVEL else 0
        cadence = int(self._interpreter.config.partial_every_seconds * ASR_RATE)
        if self._quiet_samples >= QUIET_TAIL_SAMPLES:
            return  # the person has (probably) stopped: a partial now would only delay the final decode
        if cadence > 0 and self._samples - self._partial_at >= cadence and not self._partial_busy.is_set():
            self._partial_at = self._samples
            self._partial_busy.set()
            self._interpreter.submit(PartialJob(self, np.concatenate(self._chunks)))

    def finish(self) -> None:
        """End of speech: the clock for first audio starts now."""
        if self._finished:
            return
        self._finished = True
        self.audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.float32)
        self.created = time.monotonic()
        self._interpreter.submit(self)


@dataclass(frozen=True)
class PartialJob:
    turn: LiveTurn
    audio: np.ndarray


class EarlyTranslation:
    """A sentence's translation started while the person is still talking. The model keeps generating in
    CTranslate2's own thread (the worker is free for the final ASR meanwhile); the turn's final pass takes
    the pieces already made and then the rest as it comes."""

    def __init__(self, first: str, rest: Iterator[str]) -> None:
        self._first: str | None = first
        self._rest = rest

    def pieces(self) -> Iterator[str]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._rest

    def close(self) -> None:
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class EarlyJob:
    """Translate a sentence ASR has committed while the person is still talking (simultaneous mode)."""

    turn: LiveTurn
    key: tuple[str, str, str]  # source, target, sentence
