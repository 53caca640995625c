"""Status LED: another consumer of the controller's state (gpiozero, MockFactory in tests).

ready: off · listening: on · transcribing/translating: fast blink · speaking: slow blink · error: double blink.
"""
from __future__ import annotations

from tolk.device.state import State

PATTERNS = {
    State.BOOTING: ("blink", 0.5, 0.5),
    State.READY: ("off", 0, 0),
    State.MENU: ("off", 0, 0),
    State.LISTENING: ("on", 0, 0),
    State.TRANSCRIBING: ("blink", 0.1, 0.1),
    State.TRANSLATING: ("blink", 0.1, 0.1),
    State.SPEAKING: ("blink", 0.4, 0.4),
    State.ERROR: ("blink", 0.1, 0.9),
}


class StatusLed:
    def __init__(self, pin: int, pin_factory=None) -> None:
        from gpiozero import LED

        self.led = LED(pin, pin_factory=pin_factory)

    def show(self, state: State) -> None:
        mode, on_time, off_time = PATTERNS[state]
        if mode == "on":
            self.led.on()
        elif mode == "off":
            self.led.off()
        else:
            self.led.blink(on_time=on_time, off_time=off_time)

    def on_state(self, old: State, new: State) -> None:
        """The controller's ``on_state`` callback."""
        self.show(new)

    def close(self) -> None:
        self.led.close()
