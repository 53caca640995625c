"""The appliance's one state machine.

Inputs (button events, console commands, interpreter events, ticks) arrive on one
queue and are handled in ``step()`` on the main thread: every transition is in
this file. The screen is a pure function of the state (``screen()``); the display,
speaker and LEDs only consume it. A new talk press cancels whatever is running.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from tolk.audio.devices import AudioDeviceError, Microphone, Speaker
from tolk.audio.endpoint import Endpointer, Segment
from tolk.device import events as ev
from tolk.device.history import History
from tolk.device.interpreter import Interpreter, LiveTurn, Turn
from tolk.device.menus import Menu, MenuActions
from tolk.device.settings import SettingsFile
from tolk.device.state import State
from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError
from tolk.ui import screens as sc

log = logging.getLogger(__name__)


# Errors that mean a microphone or speaker is missing or failing: the controller rescans for them. Other audio
# errors (a recording too long, a corrupt file) stay on the screen until a button is pressed.
DEVICE_ERRORS = frozenset({ErrorCode.AUDIO_NO_MIC, ErrorCode.AUDIO_NO_SPEAKER, ErrorCode.AUDIO_DEVICE})

BUTTONS = ("talk_a", "talk_b", "swap", "menu", "select", "up", "down", "power")


@dataclass(frozen=True)
class ButtonEvent:
    button: str  # one of BUTTONS
    action: str  # "press" | "release" | "hold"


@dataclass(frozen=True)
class AudioIn:
    samples: np.ndarray  # hands-free microphone audio (16 kHz)


@dataclass
class _Result:
    speaker: str
    listener: str
    source_text: str = ""
    translation: str = ""
    detected: str = ""
    back_translation: str = ""


class Controller(MenuActions):
    def __init__(self, interpreter: Interpreter, mic: Microphone, speaker: Speaker, settings_file: SettingsFile,
                 history: History | None, *, on_state: Callable[[State, State], None] | None = None,
                 shutdown: Callable[[], None] | None = None, retry_seconds: float = 2.0,
                 rescan_devices: Callable[[], None] | None = None) -> None:
        self.interpreter, self.mic, self.speaker = interpreter, mic, speaker
        self.settings_file, self.history = settings_file, history
        self.settings, self.notice = settings_file.load()
        if history is not None and history.moved_aside is not None:
            self.notice = "History was damaged: kept aside, a new one started"
        self.on_state, self.shutdown_hook, self.retry_seconds = on_state, shutdown, retry_seconds
        self.rescan_devices = rescan_devices  # e.g. audio.devices.rescan on the board
        self.inputs: "queue.Queue[object]" = queue.Queue()
        self.state = State.BOOTING
        self.turn: Turn | None = None
        self.turn_side: str = "a"
        self.level = 0.0
        self.partial = ""
        self.result: _Result | None = None
        self.error: tuple[ErrorCode, str, str] | None = None  # code, message, action
        self.menu_stack: list[Menu] = []
        self._mic_on = False
        self._endpointer = Endpointer()
        self._preroll: deque[np.ndarray] = deque(maxlen=6)
        self._next_retry = 0.0
        self.stopped = threading.Event()
        self._apply_settings()

    # ---- plumbing ---------------------------------------------------------
    def post(self, item: object) -> None:
        """Thread-safe: buttons, console and audio threads hand inputs in here."""
        self.inputs.put(item)

    def _set_state(self, new: State) -> None:
        if new is not self.state:
            old, self.state = self.state, new
            log.info("state %s -> %s", old.value, new.value)
            if self.on_state:
                self.on_state(old, new)

    @property
    def lang(self) -> dict[str, str]:
        return {"a": self.settings.lang_a, "b": self.settings.lang_b}

    def start(self) -> None:
        """Booting -> ready (or an error screen when a device is missing)."""
        if self.settings.mode == "hands-free":
            self._start_hands_free()
        if self.state is State.BOOTING:
            self._check_devices() and self._set_state(State.READY)

    def step(self, timeout: float = 0.05) -> None:
        """Handle one input (or none), drain the running turn's events, run timers. Never raises: a failure
        anywhere in here (an audio library's own error type, a bug) becomes an error screen with a code."""
        try:
            self._step(timeout)
        except Exception as err:  # noqa: BLE001 - the appliance's loop must outlive any single failure
            log.exception("controller step failed")
            try:
                self.cancel_turn()
            except Exception:  # noqa: BLE001 - the device that failed may fail again on stop
                log.exception("cancelling the turn after a failure failed too")
                self.turn = None
            code = err.code if isinstance(err, TolkError) else (
                ErrorCode.AUDIO_DEVICE if "PortAudio" in type(err).__name__ else ErrorCode.INTERNAL)
            self._show_error(code, f"{type(err).__name__}: {err}"[:200])

    def _step(self, timeout: float) -> None:
        try:
            item = self.inputs.get(timeout=timeout)
        except queue.Empty:
            item = None
        if isinstance(item, ButtonEvent):
            self._on_button(item)
        elif isinstance(item, AudioIn):
            self._on_hands_free_audio(item.samples)
        elif callable(item):
            item()  # a console command run on the main thread
        self._drain_turn()
        self._timers()

    def run_forever(self, watchdog: Callable[[], None] | None = None) -> None:
        self.start()
        while not self.stopped.is_set():
            self.step()
            if watchdog:
                watchdog()  # pinged from this loop only: a hung controller stops the pings

    # ---- devices and errors ---------------------------------------------------
    def _show_error(self, code: ErrorCode, message: str, action: str | None = None) -> None:
        action = action or code.action
        self.error = (code, message, action)
        log.warning("[%s] %s %s", code, message, action)
        self._set_state(State.ERROR)

    def _check_devices(self) -> bool:
        if not self.mic.available():
            self._show_error(ErrorCode.AUDIO_NO_MIC, "No microphone found.")
            return False
        if not self.speaker.available():
            self._show_error(ErrorCode.AUDIO_NO_SPEAKER, "No speaker found.")
            return False
        return True

    def _timers(self) -> None:
        now = time.monotonic()
        if self.state is State.SPEAKING and self.turn is None and not self.speaker.busy():
            self._set_state(State.READY)  # the last sentence has finished playing
        if self.state is State.ERROR and self.error and self.error[0] in DEVICE_ERRORS and now >= self._next_retry:
            self._next_retry = now + self.retry_seconds
            if self.rescan_devices:
                self.rescan_devices()
            if self._check_devices():
                self.error = None
                self.notice = "Audio device found again"
                self._set_state(State.READY)
                if self.settings.mode == "hands-free":
                    self._start_hands_free()

    # ---- buttons -----------------------------------------------------------------
    def _on_button(self, event: ButtonEvent) -> None:
        name, action = event.button, event.action
        if name == "power":
            if action == "hold":
                self.shutdown()
            return
        if self.state is State.MENU:
            if action == "press":
                self._menu_button(name)
            return
        if name in ("talk_a", "talk_b") and self.settings.mode != "hands-free":
            side = name[-1]
            if action == "press":
                self.start_listening(side)
            elif action == "release" and self.state is State.LISTENING and self.turn_side == side:
                self.stop_listening()
        elif action == "press" and name == "swap":
            self.set_settings(lang_a=self.settings.lang_b, lang_b=self.settings.lang_a)
        elif action == "press" and name == "menu":
            self.cancel_turn()
            self._open_main_menu()
        elif action == "press" and name == "select" and self.state is State.ERROR:
            self.error = None
            self._check_devices() and self._set_state(State.READY)

    # ---- turns -------------------------------------------------------------------
    def cancel_turn(self) -> None:
        if self.turn is not None and not self.turn.done:
            self.turn.cancel()
        if self._mic_on and self.settings.mode != "hands-free":
            self.mic.stop()
            self._mic_on = False
        self.speaker.stop()
        self.turn = None

    def start_listening(self, side: str) -> None:
        self.cancel_turn()
        if not self._check_devices():
            return
        other = "b" if side == "a" else "a"
        self.turn_side, self.level, self.partial, self.notice = side, 0.0, "", ""
        self.result = _Result(self.lang[side], self.lang[other])
        turn = self.interpreter.start_live(pair=(self.lang[side], self.lang[other]), forced=self.lang[side],
                                           target=self.lang[other])
        self.turn = turn
        try:
            self.mic.start(turn.feed)
            self._mic_on = True
        except AudioDeviceError as err:
            turn.cancel()
            self._show_error(err.code, err.message)
            return
        self._set_state(State.LISTENING)

    def stop_listening(self) -> None:
        if self._mic_on and self.settings.mode != "hands-free":
            self.mic.stop()
            self._mic_on = False
        if isinstance(self.turn, LiveTurn):
            self.turn.finish()
            self._set_state(State.TRANSCRIBING)

    def _drain_turn(self) -> None:
        turn = self.turn
        while turn is not None:
            try:
                event = turn._events.get_nowait()
            except queue.Empty:
                return
            self._on_turn_event(turn, event)
            if isinstance(event, ev.TurnFinished):
                return

    def _on_turn_event(self, turn: Turn, event: ev.Event) -> None:
        result = self.result
        if isinstance(event, ev.InputLevel):
            self.level = event.level
        elif isinstance(event, ev.PartialText):
            self.partial = event.text
        elif isinstance(event, ev.FinalText) and result:
            result.source_text = event.text
            name = languages.get(event.language).english_name
            result.detected = f"{name} ({event.confidence:.2f})"
            result.speaker = event.language
            self._set_state(State.TRANSLATING)
        elif isinstance(event, ev.NoSpeech):
            self.notice = "No speech heard"
            self.result = None
        elif isinstance(event, ev.TranslationText) and result:
            result.translation = (result.translation + event.gap + event.text) if result.translation else event.text
            result.listener = event.language
        elif isinstance(event, ev.AudioOut):
            try:
                self.speaker.play(event.samples, event.sample_rate)
            except AudioDeviceError as err:
                self._show_error(err.code, err.message)
                return
            if self.state is not State.ERROR:
                self._set_state(State.SPEAKING)
        elif isinstance(event, ev.BackTranslation) and result:
            result.back_translation = event.text
        elif isinstance(event, ev.TurnError):
            self._show_error(event.code, event.message)
        elif isinstance(event, ev.TurnFinished):
            if (result and result.translation and result.source_text and not turn.speak_only
                    and self.history is not None and self.settings.history):
                self.history.add(result.speaker, result.listener, result.source_text, result.translation)
            self.turn = None
            if self.state is not State.ERROR and not (self.state is State.SPEAKING and self.speaker.busy()):
                self._set_state(State.READY)

    # ---- hands-free ------------------------------------------------------------------
    def _start_hands_free(self) -> None:
        if self._mic_on or not self.mic.available():
            return
        self._endpointer.reset()
        self.mic.start(lambda samples: self.post(AudioIn(samples)))
        self._mic_on = True

    def _on_hands_free_audio(self, samples: np.ndarray) -> None:
        if self.state in (State.SPEAKING, State.MENU, State.ERROR) or self.speaker.busy():
            return  # the microphone is muted while the device speaks
        segment = self._endpointer.update(samples.size / 16000, self._endpointer.is_speech(samples))
        if segment is Segment.STARTED and self.state is not State.LISTENING:
            self.turn_side, self.partial = "a", ""
            self.result = _Result(self.settings.lang_a, self.settings.lang_b)
            self.turn = self.interpreter.start_live(pair=(self.settings.lang_a, self.settings.lang_b))
            for chunk in self._preroll:
                self.turn.feed(chunk)
            self._set_state(State.LISTENING)
        if isinstance(self.turn, LiveTurn) and self.state is State.LISTENING:
            self.turn.feed(samples)
            if segment is Segment.ENDED:
                self.turn.finish()
                self._set_state(State.TRANSCRIBING)
        self._preroll.append(samples)

    # ---- settings and menu ------------------------------------------------------------
    def set_settings(self, **changes) -> None:
        new = self.settings.with_changes(**changes)
        self.settings_file.save(new)
        self.settings = new
        self._apply_settings()

    def _apply_settings(self) -> None:
        self.speaker.volume = self.settings.volume
        if self.interpreter.config.back_translation != self.settings.back_translation:
            self.interpreter.config = replace(self.interpreter.config,
                                              back_translation=self.settings.back_translation)

    def _replay(self, text: str, language: str) -> None:
        self._close_menu()
        self.cancel_turn()
        self.result = _Result(language, language, translation=text)
        self.turn = self.interpreter.say(text, language)

    def low_battery_shutdown(self, percent: int) -> None:
        """Say why on the screen, then shut down cleanly (posted by the battery watch; runs on the main loop)."""
        self.notice = f"Battery {percent}% - shutting down"  # the appliance draws once more after this step
        self.shutdown()

    def shutdown(self) -> None:
        self.cancel_turn()
        if self._mic_on:
            self.mic.stop()
            self._mic_on = False
        self.stopped.set()
        if self.shutdown_hook:
            self.shutdown_hook()

    # ---- the screen ------------------------------------------------------------------
    def _side(self, code: str) -> sc.Side:
        lang = languages.get(code)
        fallback = self.interpreter.voices.is_fallback(code)
        return sc.Side(lang.code, lang.native_name, fallback)

    def screen(self) -> sc.Screen:
        s, r = self.settings, self.result
        if self.state is State.BOOTING:
            return sc.BootScreen()
        if self.state is State.ERROR and self.error:
            return sc.ErrorScreen(*self.error)
        if self.state is State.MENU and self.menu_stack:
            menu = self.menu_stack[-1]
            return sc.MenuScreen(menu.title, tuple(label for label, _ in menu.items), menu.selected,
                                 "▲▼ choose · select · menu = back")
        if self.state is State.LISTENING and r:
            return sc.ListeningScreen(self._side(r.speaker), self._side(r.listener), self.level, self.partial)
        if self.state in (State.TRANSCRIBING, State.TRANSLATING) and r:
            return sc.WorkingScreen(self.state.value, self._side(r.speaker), self._side(r.listener),
                                    r.source_text or self.partial, r.translation)
        if r and r.translation:
            return sc.ResultScreen(self._side(r.speaker), self._side(r.listener), r.source_text, r.translation,
                                   r.detected, r.back_translation, split=s.mode == "face-to-face")
        return sc.ReadyScreen(self._side(s.lang_a), self._side(s.lang_b), s.mode, self.notice)
