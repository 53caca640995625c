"""The status LED as `tolk run` wires it: the controller's on_state drives it (gpiozero's MockFactory)."""
from __future__ import annotations

import pytest

from tests.test_controller import make_controller, run_until
from tolk.device.config import ConfigError, load_config
from tolk.device.controller import ButtonEvent, State


def test_the_led_follows_the_controllers_states(tmp_path):
    from gpiozero.pins.mock import MockFactory

    from tolk.device.leds import StatusLed

    factory = MockFactory()
    led = StatusLed(12, pin_factory=factory)
    controller, mic, speaker, states = make_controller(tmp_path)
    shown = []

    def on_state(old, new):
        led.on_state(old, new)
        shown.append((new, factory.pin(12).state))

    controller.on_state = on_state
    try:
        controller.start()
        assert shown == [(State.READY, False)]
        mic.plugged = False
        controller.post(ButtonEvent("talk_a", "press"))
        run_until(controller, lambda: controller.state is State.ERROR)
        assert led.led.is_active or led.led._blink_thread is not None  # the error pattern blinks
        mic.plugged = True
        run_until(controller, lambda: controller.state is State.READY)
        assert factory.pin(12).state is False
    finally:
        controller.executor.close()
        led.close()


def test_led_pin_from_the_config(tmp_path):
    path = tmp_path / "config.toml"
    assert load_config(None).led.pin == 12
    path.write_text("[led]\npin = 16\n")
    assert load_config(path).led.pin == 16
    path.write_text("[led]\npin = 40\n")
    with pytest.raises(ConfigError):
        load_config(path)
