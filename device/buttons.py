"""Buttons through gpiozero: pins from config, events posted to the controller.

gpiozero calls its callbacks from its own thread; they only post a
``ButtonEvent`` (never block). Tests use gpiozero's ``MockFactory`` and drive
the pins (``pin.drive_low()`` = pressed, since buttons pull up).
"""
from __future__ import annotations

import logging
from typing import Callable

from tolk.device.config import ButtonPins
from tolk.device.controller import ButtonEvent

log = logging.getLogger(__name__)


class Buttons:
    def __init__(self, pins: ButtonPins, post: Callable[[ButtonEvent], None], pin_factory=None) -> None:
        from gpiozero import Button

        self._buttons = {}
        for name, pin in pins.pins().items():
            hold = pins.power_hold_seconds if name == "power" else 1.0
            button = Button(pin, pull_up=True, bounce_time=None, hold_time=hold, pin_factory=pin_factory)
            button.when_pressed = self._make(post, name, "press")
            button.when_released = self._make(post, name, "release")
            button.when_held = self._make(post, name, "hold")
            self._buttons[name] = button

    @staticmethod
    def _make(post: Callable[[ButtonEvent], None], name: str, action: str):
        return lambda *_: post(ButtonEvent(name, action))

    def close(self) -> None:
        for button in self._buttons.values():
            button.close()
