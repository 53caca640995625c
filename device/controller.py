"""The appliance's main loop: one bounded input queue, the pure state machine, the executor.

Buttons, microphone audio, turn events, console requests and the results of effects all arrive on one queue
(``post``). ``step()`` takes one input, computes the next model with ``machine.update`` and hands the effects to
the executor; then a clock tick. Nothing in here can end the loop: a failure in the state machine or in an
effect becomes an error screen with a code (``EffectFailed``), and the supervisor restarts dead threads. The
screen is a pure function of the model (``view.screen``); the display, speaker and LEDs only consume it.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from tolk.audio.devices import Microphone, Speaker
from tolk.device import inputs as i
from tolk.device import machine, view
from tolk.device.executor import Executor, failure
from tolk.device.history import History
from tolk.device.inputs import BUTTONS, AudioIn, ButtonEvent  # noqa: F401 - the names callers post
from tolk.device.interpreter import Interpreter
from tolk.device.settings import SettingsFile
from tolk.device.state import State  # noqa: F401 - re-exported for callers
from tolk.device.workers import InputQueue
from tolk.models import languages
from tolk.models.errors import ErrorCode
from tolk.ui import screens as sc

log = logging.getLogger(__name__)


def _voice_options(voices) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Language → its voice options, for the languages that have a choice (more than one)."""
    if not hasattr(voices, "options"):
        return ()
    every = ((lang.code, tuple(voices.options(lang.code))) for lang in languages.LANGUAGES)
    return tuple((code, options) for code, options in every if len(options) > 1)


class Controller:
    def __init__(self, interpreter: Interpreter, mic: Microphone, speaker: Speaker, settings_file: SettingsFile,
                 history: History | None, *, on_state: Callable[[State, State], None] | None = None,
                 shutdown: Callable[[], None] | None = None, retry_seconds: float = 2.0,
                 rescan_devices: Callable[[], None] | None = None) -> None:
        self.interpreter, self.mic, self.speaker, self.history = interpreter, mic, speaker, history
        settings, notice = settings_file.load()
        notice = " · ".join(filter(None, [notice, *interpreter.notices]))  # e.g. a voice pack left out
        if history is not None and history.moved_aside is not None:  # both damaged: both notices shown
            damaged = f"History was damaged: kept aside, a new one started [{ErrorCode.HISTORY_DAMAGED}]"
            notice = f"{notice} · {damaged}" if notice else damaged
        voices = interpreter.voices
        facts = machine.Facts(
            languages=tuple(interpreter.translator.manifest.languages),
            fallback_voices=frozenset(lang.code for lang in languages.LANGUAGES if voices.is_fallback(lang.code)),
            voice_options=_voice_options(voices), default_voices=tuple(sorted(getattr(voices, "defaults", {}).items())),
            retry_seconds=retry_seconds)
        self.model = machine.Model(facts, settings, notice=notice)
        self.on_state = on_state
        self.inputs = InputQueue()
        self.executor = Executor(interpreter, mic, speaker, settings_file, history, self.post)
        self.executor.shutdown_hook, self.executor.rescan_devices = shutdown, rescan_devices
        self.executor.perform(i.ApplySettings(settings))
        self.stopped = threading.Event()
        self._started = False

    # ---- what callers read (a consistent snapshot: the model is immutable) ---------------------------
    @property
    def state(self) -> State:
        return self.model.state

    @property
    def settings(self):
        return self.model.settings

    @property
    def error(self) -> machine.ErrorInfo | None:
        return self.model.error

    @property
    def notice(self) -> str:
        return self.model.notice

    @property
    def result(self) -> machine.Result | None:
        return self.model.result

    @property
    def turn_side(self) -> str:
        return self.model.turn_side

    @property
    def turn(self):
        """The interpreter turn running now (None between turns)."""
        return self.executor.turn if self.model.turn_key is not None else None

    def screen(self) -> sc.Screen:
        return view.screen(self.model)

    # ---- what callers do (thread-safe: everything goes through the queue) ----------------------------
    def post(self, item: object) -> None:
        """Buttons, console, turn events and audio threads hand inputs in here."""
        self.inputs.put(item, droppable=isinstance(item, AudioIn))

    def set_settings(self, **changes) -> None:
        self.post(i.ChangeSettings(changes))

    def replay(self, text: str, language: str) -> None:
        self.post(i.Replay(text, language))

    def history_changed(self) -> None:
        """The history was changed from outside the loop (the console): recount it for the menu."""
        if self.history is not None:
            self.post(i.HistoryCount(self.history.count()))

    def power_off(self, notice: str = "") -> None:
        self.post(i.PowerOff(notice))

    def low_battery_shutdown(self, percent: int) -> None:
        """Say why on the screen, then shut down cleanly (the appliance draws once more)."""
        self.power_off(f"Battery {percent}% - shutting down")

    # ---- the loop ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Booting -> ready (or an error screen when a device is missing). Runs on the loop's thread; once."""
        if self._started:
            return
        self._started = True
        try:
            started = i.Started(self.mic.available(), self.speaker.available(),
                                self.history.count() if self.history is not None else 0)
        except Exception as err:  # noqa: BLE001 - e.g. PortAudio failing to enumerate
            log.exception("device check at start failed")
            started = i.Started(False, False, 0)
            self._apply(failure(err))
        self._apply(started)

    def step(self, timeout: float = 0.05) -> None:
        """Handle one input (or none), then the clock. Never raises."""
        item = self.inputs.get(timeout)
        if item is not None:
            self._apply(item)
        now = time.monotonic()
        try:
            busy = self.executor.speaker_busy()
        except Exception:  # noqa: BLE001 - a broken speaker reads as idle; its failure arrives as an input
            busy = False
        self._apply(i.Tick(now, busy))
        self.executor.supervise(now)

    def run_forever(self, watchdog: Callable[[], None] | None = None) -> None:
        self.start()
        try:
            while not self.stopped.is_set():
                self.step()
                if watchdog:
                    watchdog()  # pinged from this loop only: a hung loop stops the pings
        finally:
            self.close()

    def close(self) -> None:
        """At the loop's end: the effects still queued run (a power-off among them), then the workers stop."""
        self.executor.close()

    def _apply(self, item: object) -> None:
        if isinstance(item, i.Call) or (callable(item) and not isinstance(item, type)):
            self._call(item.fn if isinstance(item, i.Call) else item)
            return
        old = self.model
        try:
            model, effects = machine.update(old, item)
        except Exception as err:  # noqa: BLE001 - a bug in a transition must not end the loop
            log.exception("state machine failed on %s", type(item).__name__)
            model, effects = machine.show_error(old, ErrorCode.INTERNAL, f"{type(err).__name__}: {err}"[:200])
        self.model = model
        if model.state is not old.state:
            log.info("state %s -> %s", old.state.value, model.state.value)
            if self.on_state:
                self.on_state(old.state, model.state)
        for effect in effects:
            try:
                self.executor.perform(effect)
            except Exception as err:  # noqa: BLE001 - becomes an error screen, not an exit
                log.warning("effect %s failed: %s", type(effect).__name__, err)
                if not isinstance(item, i.EffectFailed):  # never loop on a failure that fails again
                    self.post(failure(err))
        if model.stopped:
            self.stopped.set()

    def _call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a console query's own failure is handed back by its wrapper
            log.exception("call on the main loop failed")
