"""What the screen shows, as plain data (view models). The controller builds these from its state;
``ui.layouts.render`` turns one into a Pillow image. No drawing code here, no device code in ui."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Side:
    """One person's language (A = left talk button, B = right)."""

    code: str  # Tolk language code, e.g. "en"
    name: str  # native name, e.g. "English", "中文", "العربية"
    fallback_voice: bool = False  # speaks through espeak-ng


@dataclass(frozen=True)
class ReadyScreen:
    a: Side
    b: Side
    mode: str  # "push-to-talk" | "face-to-face" | "hands-free"
    notice: str = ""  # e.g. "Settings were reset (file damaged)"


@dataclass(frozen=True)
class ListeningScreen:
    speaker: Side  # who is talking
    listener: Side
    level: float  # 0..1 live input level
    partial: str = ""  # stable partial transcript


@dataclass(frozen=True)
class WorkingScreen:
    """Transcribing / translating / speaking, with what is known so far."""

    stage: str  # "transcribing" | "translating" | "speaking"
    speaker: Side
    listener: Side
    source_text: str = ""
    translation: str = ""


@dataclass(frozen=True)
class ResultScreen:
    speaker: Side
    listener: Side
    source_text: str  # small
    translation: str  # large
    detected: str = ""  # e.g. "Detected: English (0.97)"
    back_translation: str = ""  # shown on the speaker's side when on
    split: bool = False  # face-to-face: the listener's half is drawn upside-down
    scroll: int = 0  # first visible line of the translation


@dataclass(frozen=True)
class MenuScreen:
    title: str
    items: tuple[str, ...]
    selected: int
    hint: str = ""


@dataclass(frozen=True)
class ErrorScreen:
    code: str  # an ErrorCode value, e.g. "AUDIO-NO-MIC"
    message: str  # what happened
    action: str  # what to do


@dataclass(frozen=True)
class BootScreen:
    message: str = "Starting…"
    progress: float = 0.0


Screen = ReadyScreen | ListeningScreen | WorkingScreen | ResultScreen | MenuScreen | ErrorScreen | BootScreen
SIZES: tuple[tuple[int, int], ...] = ((240, 240), (320, 240))
