"""What the appliance's state machine reacts to, and what it asks for.

Inputs arrive on the controller's one queue (buttons, microphone audio, turn events, console requests, results
of effects, the clock). Effects are plain data the executor (``tolk.device.executor``) performs; the state
machine (``tolk.device.machine``) never touches a device, a file or a thread.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from tolk.device import events as ev
from tolk.device.history import HistoryEntry
from tolk.device.settings import Settings
from tolk.models.errors import ErrorCode

BUTTONS = ("talk_a", "talk_b", "swap", "menu", "select", "up", "down", "power")


# ---- inputs -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ButtonEvent:
    button: str  # one of BUTTONS
    action: str  # "press" | "release" | "hold"


@dataclass(frozen=True)
class AudioIn:
    samples: np.ndarray = field(repr=False)  # hands-free microphone audio (16 kHz mono float32)


@dataclass(frozen=True)
class TurnEvent:
    key: int  # the state machine's own number for the turn (events of an older turn are ignored)
    event: ev.Event


@dataclass(frozen=True)
class Tick:
    now: float  # time.monotonic()
    speaker_busy: bool


@dataclass(frozen=True)
class Started:
    """The loop starts: devices were checked (by the executor)."""

    mic: bool
    speaker: bool
    history_count: int


@dataclass(frozen=True)
class DevicesChecked:
    mic: bool
    speaker: bool


@dataclass(frozen=True)
class EffectFailed:
    code: ErrorCode
    message: str


@dataclass(frozen=True)
class HistoryCount:
    count: int


@dataclass(frozen=True)
class HistoryLoaded:
    entries: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class ChangeSettings:
    changes: dict[str, Any]


@dataclass(frozen=True)
class Replay:
    text: str
    language: str


@dataclass(frozen=True)
class PowerOff:
    notice: str = ""  # shown on the last frame (e.g. the battery level)


@dataclass(frozen=True)
class Call:
    """A console query run between two inputs, so it sees a consistent state (it must not change it)."""

    fn: Callable[[], None]


# ---- effects ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CancelTurn:
    """Cancel the running turn, stop push-to-talk capture (hands-free capture runs on) and the speaker."""


@dataclass(frozen=True)
class StartLiveTurn:
    key: int
    pair: tuple[str, str]
    forced: str | None
    target: str | None
    capture: bool  # push-to-talk: start the microphone into the turn
    preroll: tuple[np.ndarray, ...] = ()  # hands-free: audio from just before speech was detected


@dataclass(frozen=True)
class FeedTurn:
    samples: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class FinishTurn:
    """End of speech: stop push-to-talk capture, the turn runs to its end."""


@dataclass(frozen=True)
class SayText:
    key: int
    text: str
    language: str


@dataclass(frozen=True)
class Play:
    samples: np.ndarray = field(repr=False)
    sample_rate: int


@dataclass(frozen=True)
class StartHandsFree:
    pass


@dataclass(frozen=True)
class StopCapture:
    pass


@dataclass(frozen=True)
class CheckDevices:
    rescan: bool  # re-enumerate the sound devices first (slow: done off the main loop)


@dataclass(frozen=True)
class SaveSettings:
    settings: Settings


@dataclass(frozen=True)
class ApplySettings:
    settings: Settings  # volume to the speaker, back-translation to the interpreter


@dataclass(frozen=True)
class AddHistory:
    source_lang: str
    target_lang: str
    source_text: str
    translation: str


@dataclass(frozen=True)
class LoadHistory:
    limit: int


@dataclass(frozen=True)
class WipeHistory:
    pass


@dataclass(frozen=True)
class Shutdown:
    pass


Input = (ButtonEvent | AudioIn | TurnEvent | Tick | Started | DevicesChecked | EffectFailed | HistoryCount
         | HistoryLoaded | ChangeSettings | Replay | PowerOff | Call)
Effect = (CancelTurn | StartLiveTurn | FeedTurn | FinishTurn | SayText | Play | StartHandsFree | StopCapture
          | CheckDevices | SaveSettings | ApplySettings | AddHistory | LoadHistory | WipeHistory | Shutdown)
