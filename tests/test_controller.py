"""The appliance state machine with real gpiozero mock pins, fake audio devices and fake engines."""
import contextlib
import threading
import time

import numpy as np
import pytest

from tolk.audio.clip import write_wav
from tolk.audio.devices import FileMicrophone, RecordingSpeaker
from tolk.device.config import ButtonPins
from tolk.device.controller import ButtonEvent, Controller, State
from tolk.device.history import History
from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.device.settings import Settings, SettingsFile
from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
from tolk.ui import screens as sc
from tests.leaks import closing


@pytest.fixture
def speech_clip(tmp_path):
    return write_wav(tmp_path / "speech.wav", np.full(16000, 0.2, dtype=np.float32), 16000)


def make_controller(tmp_path, text="Good morning.", language="en", voices=None, **kwargs):
    interp = closing(Interpreter(FakeAsr(text, language), FakeTranslator(mt_manifest()), voices or FakeVoices(),
                                 InterpreterConfig(partial_every_seconds=0)))
    mic, speaker = closing(FileMicrophone(speed=20.0), "stop"), RecordingSpeaker()
    states = []
    controller = Controller(interp, mic, speaker, SettingsFile(tmp_path / "settings.json"),
                            History(tmp_path / "history.sqlite"),
                            on_state=lambda old, new: states.append(new.value), retry_seconds=0.0, **kwargs)
    closing(controller)
    return controller, mic, speaker, states


def run_until(controller, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out in state {controller.state}"
        controller.step(0.01)


@contextlib.contextmanager
def loop_on_thread(controller):
    """The controller's main loop stepping on a thread, as in `tolk run` (console tests call into it)."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            controller.step(timeout=0.02)

    runner = threading.Thread(target=loop, daemon=True)
    runner.start()
    try:
        yield controller
    finally:
        stop.set()
        runner.join(5)


def start_talking(controller, mic, clip, button="talk_a"):
    """Load ``clip`` into the fake microphone, press ``button`` and wait until the device listens."""
    mic.load(clip)
    controller.post(ButtonEvent(button, "press"))
    run_until(controller, lambda: controller.state is State.LISTENING)


def test_push_to_talk_turn(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    controller.start()
    assert controller.state is State.READY and isinstance(controller.screen(), sc.ReadyScreen)
    start_talking(controller, mic, speech_clip)
    assert isinstance(controller.screen(), sc.ListeningScreen)
    mic.clip_done.wait(5)
    controller.post(ButtonEvent("talk_a", "release"))
    run_until(controller, lambda: controller.state is State.READY)
    assert states == ["ready", "listening", "transcribing", "translating", "speaking", "ready"]
    screen = controller.screen()
    assert isinstance(screen, sc.ResultScreen)
    assert (screen.source_text, screen.translation, screen.listener.code) == ("Good morning.", "GOOD MORNING.", "es")
    assert speaker.seconds > 0
    assert [(e.source_text, e.translation) for e in controller.history.recent()] == [("Good morning.", "GOOD MORNING.")]


def test_new_press_cancels_running_turn(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    controller.start()
    start_talking(controller, mic, speech_clip)
    first = controller.turn
    controller.post(ButtonEvent("talk_b", "press"))
    run_until(controller, lambda: controller.turn is not first)
    assert first.cancelled and controller.state is State.LISTENING and controller.turn_side == "b"


def test_menu_changes_language_pair_and_it_survives_restart(tmp_path):
    controller, *_ = make_controller(tmp_path)
    controller.start()
    for name in ("menu", "down", "select"):  # Settings -> "Language B" -> language list
        controller.post(ButtonEvent(name, "press"))
        controller.step(0.01)
    menu = controller.screen()
    assert isinstance(menu, sc.MenuScreen) and menu.title == "Language B"
    target = next(i for i, label in enumerate(menu.items) if label.startswith("Deutsch"))
    for _ in range((target - menu.selected) % len(menu.items)):
        controller.post(ButtonEvent("down", "press"))
        controller.step(0.01)
    controller.post(ButtonEvent("select", "press"))
    controller.step(0.01)
    assert controller.settings.lang_b == "de"
    assert controller.executor.idle()  # saved on the storage worker
    restarted, *_ = make_controller(tmp_path)
    assert restarted.settings.lang_b == "de" and restarted.notice == ""


def test_swap_button(tmp_path):
    controller, *_ = make_controller(tmp_path)
    controller.start()
    controller.post(ButtonEvent("swap", "press"))
    controller.step(0.01)
    assert (controller.settings.lang_a, controller.settings.lang_b) == ("es", "en")


def test_corrupt_settings_fall_back_with_notice(tmp_path):
    (tmp_path / "settings.json").write_text("{broken")
    controller, *_ = make_controller(tmp_path)
    controller.start()
    assert controller.settings == Settings()
    screen = controller.screen()
    assert isinstance(screen, sc.ReadyScreen) and "SETTINGS-BAD" in screen.notice


def test_missing_microphone_shows_code_and_recovers(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    mic.plugged = False
    controller.start()
    screen = controller.screen()
    assert controller.state is State.ERROR and isinstance(screen, sc.ErrorScreen) and screen.code == "AUDIO-NO-MIC"
    controller.post(ButtonEvent("talk_a", "press"))  # pressing while it is missing changes nothing
    controller.step(0.01)
    assert controller.state is State.ERROR
    mic.plugged = True
    run_until(controller, lambda: controller.state is State.READY)
    start_talking(controller, mic, speech_clip)


def test_missing_speaker_keeps_device_running(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    controller.start()
    start_talking(controller, mic, speech_clip)
    speaker.plugged = False  # pulled out while the person speaks
    controller.post(ButtonEvent("talk_a", "release"))
    run_until(controller, lambda: controller.state is State.ERROR)
    assert controller.screen().code == "AUDIO-NO-SPEAKER"
    speaker.plugged = True
    run_until(controller, lambda: controller.state is State.READY)


def test_gpiozero_mock_pins_drive_the_controller(tmp_path, speech_clip):
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from tolk.device.buttons import Buttons

    factory = MockFactory()
    controller, mic, speaker, states = make_controller(tmp_path)
    pins = ButtonPins()
    buttons = Buttons(pins, controller.post, pin_factory=factory)
    try:
        controller.start()
        mic.load(speech_clip)
        factory.pin(pins.talk_a).drive_low()  # pressed (pull-up)
        run_until(controller, lambda: controller.state is State.LISTENING)
        mic.clip_done.wait(5)
        factory.pin(pins.talk_a).drive_high()
        run_until(controller, lambda: controller.state is State.READY and "speaking" in states)
        factory.pin(pins.swap).drive_low()
        time.sleep(0.15)  # a real press: longer than the settle time
        factory.pin(pins.swap).drive_high()
        run_until(controller, lambda: controller.settings.lang_a == "es")
    finally:
        buttons.close()
        Device.pin_factory = None


def test_contact_bounce_gives_one_press_and_one_release():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from tolk.device.buttons import Buttons

    factory, events = MockFactory(), []
    pins = ButtonPins()
    buttons = Buttons(pins, events.append, pin_factory=factory)
    try:
        pin = factory.pin(pins.talk_a)
        for _ in range(6):  # bounce, settling pressed
            pin.drive_low()
            pin.drive_high()
        pin.drive_low()
        time.sleep(0.2)
        for _ in range(6):  # bounce, settling released
            pin.drive_high()
            pin.drive_low()
        pin.drive_high()
        time.sleep(0.2)
        pin.drive_low()  # a glitch shorter than the settle time: nothing
        pin.drive_high()
        time.sleep(0.2)
        assert [(e.button, e.action) for e in events] == [("talk_a", "press"), ("talk_a", "release")]
    finally:
        buttons.close()
        Device.pin_factory = None


def test_hands_free_turn_from_voice_activity(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    controller.set_settings(mode="hands-free")
    clip = write_wav(tmp_path / "hf.wav", np.concatenate([np.zeros(8000), np.full(24000, 0.2), np.zeros(24000)])
                     .astype(np.float32), 16000)
    mic.load(clip)
    controller.start()
    run_until(controller, lambda: "speaking" in states and controller.state is State.READY, timeout=20)
    assert states[:3] == ["ready", "listening", "transcribing"]
    assert controller.result.translation == "GOOD MORNING."
    controller.power_off()
    run_until(controller, lambda: controller.stopped.is_set())


def test_status_led_follows_state():
    from gpiozero.pins.mock import MockFactory

    from tolk.device.leds import StatusLed

    factory = MockFactory()
    led = StatusLed(12, pin_factory=factory)
    try:
        led.show(State.LISTENING)
        assert factory.pin(12).state is True
        led.show(State.READY)
        assert factory.pin(12).state is False
        pin = factory.pin(12)
        before = len(pin.states)
        led.show(State.TRANSLATING)  # fast blink: 0.1 s on, 0.1 s off
        time.sleep(0.65)
        changes = [s.state for s in pin.states[before:]]
        assert changes.count(True) >= 2 and changes.count(False) >= 2
    finally:
        led.close()


def test_back_translation_setting_reaches_the_interpreter_and_the_screen(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    controller.start()
    controller.set_settings(back_translation=True)
    controller.step(0.01)
    assert controller.interpreter.config.back_translation
    start_talking(controller, mic, speech_clip)
    mic.clip_done.wait(5)
    controller.post(ButtonEvent("talk_a", "release"))
    run_until(controller, lambda: controller.state is State.READY and "speaking" in states)
    screen = controller.screen()
    assert isinstance(screen, sc.ResultScreen) and screen.back_translation == "good morning."


def test_speaking_lasts_until_playback_ends(tmp_path, speech_clip):
    controller, mic, speaker, states = make_controller(tmp_path)
    playing = {"busy": True}
    speaker.busy = lambda: playing["busy"]
    controller.start()
    start_talking(controller, mic, speech_clip)
    mic.clip_done.wait(5)
    controller.post(ButtonEvent("talk_a", "release"))
    run_until(controller, lambda: controller.turn is None and controller.state is State.SPEAKING)
    for _ in range(5):
        controller.step(0.01)
    assert controller.state is State.SPEAKING  # the speaker is still playing the last sentence
    playing["busy"] = False
    run_until(controller, lambda: controller.state is State.READY)


def test_rescan_is_called_while_waiting_for_a_device(tmp_path):
    calls = []
    controller, mic, speaker, states = make_controller(tmp_path, rescan_devices=lambda: calls.append(1))
    mic.plugged = False
    controller.start()
    for _ in range(3):
        controller.step(0.01)
    assert calls and controller.state is State.ERROR


def test_an_exception_in_an_effect_or_a_transition_becomes_an_error_screen_not_an_exit(
        tmp_path, speech_clip, monkeypatch):
    """An audio library's own error type (sounddevice.PortAudioError is not an OSError) while playing, or a bug
    in a transition, shows a code on the screen; the loop goes on and a talk press works afterwards."""
    import sounddevice

    from tolk.device import machine

    controller, mic, speaker, states = make_controller(tmp_path)
    controller.start()

    def broken(samples, rate) -> None:
        raise sounddevice.PortAudioError("Stream is stopped", -9983)

    monkeypatch.setattr(speaker, "play", broken)
    start_talking(controller, mic, speech_clip)
    mic.clip_done.wait(5)
    controller.post(ButtonEvent("talk_a", "release"))
    run_until(controller, lambda: controller.state is State.ERROR)
    assert controller.error[0] == "AUDIO-DEVICE" and "Stream is stopped" in controller.error[1]
    assert controller.executor.idle()  # every clause failed to play: let all those failures arrive
    while controller.inputs.qsize():
        controller.step(0.0)
    monkeypatch.undo()
    monkeypatch.setitem(machine._HANDLERS, ButtonEvent, lambda model, msg: 1 / 0)
    controller.post(ButtonEvent("select", "press"))
    controller.step(0.01)
    assert controller.error[0] == "INTERNAL" and "ZeroDivisionError" in controller.error[1]
    monkeypatch.undo()
    controller.post(ButtonEvent("select", "press"))
    run_until(controller, lambda: controller.state is State.READY)
    start_talking(controller, mic, speech_clip)


def test_a_too_long_recording_stays_on_screen_not_taken_for_a_missing_device(tmp_path):
    from tolk.device.inputs import EffectFailed
    from tolk.models.errors import ErrorCode

    controller, mic, speaker, states = make_controller(tmp_path)
    controller.start()
    controller.post(EffectFailed(ErrorCode.AUDIO_TOO_LONG, "40 s of audio is over the 30 s limit"))
    for _ in range(5):
        controller.step(timeout=0.01)
    assert controller.state is State.ERROR and controller.error[0] == "AUDIO-TOO-LONG"
    assert controller.notice != "Audio device found again"
