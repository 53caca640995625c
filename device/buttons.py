"""Buttons through gpiozero: pins from config, events posted to the controller.

gpiozero calls its callbacks from its own thread; they only post a
``ButtonEvent`` (never block). Tests use gpiozero's ``MockFactory`` and drive
the pins (``pin.drive_low()`` = pressed, since buttons pull up).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from tolk.device.config import ButtonPins
from tolk.device.controller import ButtonEvent

log = logging.getLogger(__name__)


class Buttons:
    """Press/release events after the contacts have settled; holds as gpiozero reports them.

    Debounced in software, the same on every pin backend: each edge (re)starts a short timer, and when it
    fires the button's settled state is compared with the last one posted; a burst of contact bounce ends
    as at most one press or release. The settle time is ``ButtonPins.hold_seconds``.
    """

    def __init__(self, pins: ButtonPins, post: Callable[[ButtonEvent], None], pin_factory=None) -> None:
        from gpiozero import Button

        self._post = post
        self._settle_seconds = pins.hold_seconds
        self._buttons = {}
        self._pressed: dict[str, bool] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        for name, pin in pins.pins().items():
            hold = pins.power_hold_seconds if name == "power" else 1.0
            button = Button(pin, pull_up=True, bounce_time=None, hold_time=hold, pin_factory=pin_factory)
            button.when_pressed = button.when_released = self._edge_handler(name)
            button.when_held = self._make(post, name, "hold")
            self._buttons[name] = button
            self._pressed[name] = button.is_pressed

    def _edge_handler(self, name: str) -> Callable[..., None]:
        def edge(*_) -> None:
            with self._lock:
                old = self._timers.get(name)
                if old is not None:
                    old.cancel()
                timer = threading.Timer(self._settle_seconds, self._settled, args=(name,))
                timer.daemon = True
                self._timers[name] = timer
                timer.start()
        return edge

    def _settled(self, name: str) -> None:
        button = self._buttons.get(name)
        if button is None or button.closed:
            return
        pressed = button.is_pressed
        with self._lock:
            if pressed == self._pressed[name]:
                return  # bounced back to where it was
            self._pressed[name] = pressed
        self._post(ButtonEvent(name, "press" if pressed else "release"))

    @staticmethod
    def _make(post: Callable[[ButtonEvent], None], name: str, action: str):
        return lambda *_: post(ButtonEvent(name, action))

    def close(self) -> None:
        with self._lock:
            for timer in self._timers.values():
                timer.cancel()
        for button in self._buttons.values():
            button.close()
