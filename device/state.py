"""The appliance's states (what the screen shows and what the buttons do)."""
from __future__ import annotations

import enum


class State(str, enum.Enum):
    BOOTING = "booting"
    READY = "ready"
    LISTENING = "listening"
    TRANSCRIBING = "transcribing"
    TRANSLATING = "translating"
    SPEAKING = "speaking"
    MENU = "menu"
    ERROR = "error"
