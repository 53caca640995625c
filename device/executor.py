"""Performs the state machine's effects: sound devices, the interpreter, settings and history.

Quick effects (a turn started, audio fed, settings applied) run on the main loop. Anything that can block —
opening or closing a stream, joining a capture thread, re-enumerating devices, fsync, VACUUM — runs on a worker
(``tolk.device.workers``): sound devices on one thread, in order (a stop never overtakes the play queued
before it), storage on another. Whatever fails comes back as an ``EffectFailed`` input with a code: the
appliance shows it and carries on. ``supervise()`` restarts a dead worker, playback or capture thread.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Callable

from tolk.audio.devices import Microphone, Speaker, no_mic, no_speaker
from tolk.device import inputs as i
from tolk.device.history import History
from tolk.device.interpreter import Interpreter, LiveTurn, Turn
from tolk.device.settings import SettingsFile
from tolk.device.workers import Worker
from tolk.models import languages, logtext
from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)
SUPERVISE_EVERY = 1.0  # seconds


def error_code(err: BaseException) -> ErrorCode:
    """The code shown for a failure: the error's own, else a device or file code, else INTERNAL."""
    if isinstance(err, TolkError):
        return err.code
    if "PortAudio" in type(err).__name__:  # sounddevice.PortAudioError is not an OSError
        return ErrorCode.AUDIO_DEVICE
    if isinstance(err, OSError):
        return ErrorCode.FILE_ERROR
    return ErrorCode.INTERNAL


def failure(err: BaseException) -> i.EffectFailed:
    message = err.message if isinstance(err, TolkError) else f"{type(err).__name__}: {err}"
    return i.EffectFailed(error_code(err), message[:200])


class Executor:
    def __init__(self, interpreter: Interpreter, mic: Microphone, speaker: Speaker, settings_file: SettingsFile,
                 history: History | None, post: Callable[[object], None]) -> None:
        self.interpreter, self.mic, self.speaker = interpreter, mic, speaker
        self.settings_file, self.history, self.post = settings_file, history, post
        self.rescan_devices: Callable[[], None] | None = None  # e.g. audio.devices.rescan on the board
        self.shutdown_hook: Callable[[], None] | None = None  # e.g. systemctl poweroff
        self.turn: Turn | None = None
        self.capture: str | None = None  # "turn" (push-to-talk) | "hands-free" | None; only the devices worker
        report = lambda err: self.post(failure(err))  # noqa: E731
        self.devices = Worker("tolk-devices", report)
        for device in (mic, speaker):
            if hasattr(device, "on_error"):  # a stream that dies under a turn, reported from an audio thread
                device.on_error = report
        self.storage = Worker("tolk-storage", report)
        self._next_supervise = 0.0
        self._lock = threading.Lock()
        self._plays_queued = 0
        self._check_queued = False
        self._handlers: dict[type, Callable] = {
            i.CancelTurn: self._cancel_turn, i.StartLiveTurn: self._start_live_turn, i.FeedTurn: self._feed,
            i.FinishTurn: self._finish_turn, i.SayText: self._say, i.Play: self._play,
            i.StartHandsFree: self._start_hands_free, i.StopCapture: self._stop_capture_effect,
            i.CheckDevices: self._check_devices, i.SaveSettings: self._save_settings,
            i.ApplySettings: self._apply_settings, i.AddHistory: self._add_history,
            i.LoadHistory: self._load_history, i.WipeHistory: self._wipe_history, i.Shutdown: self._shutdown,
        }

    def perform(self, effect: i.Effect) -> None:
        self._handlers[type(effect)](effect)

    # ---- turns ------------------------------------------------------------------------------------------
    def _sink(self, key: int) -> Callable:
        return lambda event: self.post(i.TurnEvent(key, event))

    def _cancel_turn(self, _: i.CancelTurn) -> None:
        turn, self.turn = self.turn, None
        if turn is not None and not turn.done:
            turn.cancel()
        self.devices.submit(self._stop_turn_capture)
        self.devices.submit(self.speaker.stop)

    def _start_live_turn(self, effect: i.StartLiveTurn) -> None:
        turn = self.interpreter.start_live(pair=effect.pair, forced=effect.forced, target=effect.target,
                                           sink=self._sink(effect.key))
        self.turn = turn
        for chunk in effect.preroll:
            turn.feed(chunk)
        if effect.capture:
            self.devices.submit(lambda: self._capture_into(turn))

    def _capture_into(self, turn: LiveTurn) -> None:
        if turn.cancelled:
            return  # a newer press came first
        if not self.mic.available():
            raise no_mic("none found")
        if not self.speaker.available():
            raise no_speaker("none found")
        self._stop_capture()
        self.mic.start(turn.feed)
        self.capture = "turn"

    def _feed(self, effect: i.FeedTurn) -> None:
        if isinstance(self.turn, LiveTurn):
            self.turn.feed(effect.samples)

    def _finish_turn(self, _: i.FinishTurn) -> None:
        self.devices.submit(self._stop_turn_capture)
        if isinstance(self.turn, LiveTurn):
            self.turn.finish()

    def _say(self, effect: i.SayText) -> None:
        self.turn = self.interpreter.say(effect.text, effect.language, sink=self._sink(effect.key))

    # ---- sound devices (on the devices worker) ---------------------------------------------------------
    def _play(self, effect: i.Play) -> None:
        with self._lock:
            self._plays_queued += 1

        def play() -> None:
            try:
                self.speaker.play(effect.samples, effect.sample_rate)
            finally:
                with self._lock:
                    self._plays_queued -= 1
        self.devices.submit(play)

    def speaker_busy(self) -> bool:
        """Playing, or a clip on its way to the speaker (queued on the devices worker)."""
        with self._lock:
            if self._plays_queued:
                return True
        return self.speaker.busy()

    def _stop_turn_capture(self) -> None:
        if self.capture == "turn":
            self._stop_capture()

    def _stop_capture_effect(self, _: i.StopCapture) -> None:
        self.devices.submit(self._stop_capture)

    def _stop_capture(self) -> None:
        if self.capture is not None:
            self.capture = None
            self.mic.stop()

    def _start_hands_free(self, _: i.StartHandsFree) -> None:
        def start() -> None:
            if self.capture == "hands-free" or not self.mic.available():
                return
            self._stop_capture()
            self.mic.start(lambda samples: self.post(i.AudioIn(samples)))
            self.capture = "hands-free"
        self.devices.submit(start)

    def _check_devices(self, effect: i.CheckDevices) -> None:
        with self._lock:
            if self._check_queued:
                return  # one check at a time: rescans never pile up behind a slow one
            self._check_queued = True

        def check() -> None:
            try:
                if effect.rescan and self.rescan_devices is not None:
                    self.rescan_devices()
                found = i.DevicesChecked(self.mic.available(), self.speaker.available())
            finally:
                with self._lock:
                    self._check_queued = False
            self.post(found)
        self.devices.submit(check)

    # ---- settings and history (on the storage worker) --------------------------------------------------
    def _save_settings(self, effect: i.SaveSettings) -> None:
        self.storage.submit(lambda: self.settings_file.save(effect.settings))

    def _apply_settings(self, effect: i.ApplySettings) -> None:
        self.speaker.volume = effect.settings.volume
        logtext.log_conversations(effect.settings.log_conversations)
        voices = self.interpreter.voices
        if hasattr(voices, "choose"):
            for lang in languages.LANGUAGES:
                option = effect.settings.voice(lang.code)
                if option is not None and option not in voices.options(lang.code):
                    log.warning("voice %s for %s is not on this device; the default speaks", option, lang.code)
                    option = None
                voices.choose(lang.code, option)
        if self.interpreter.config.back_translation != effect.settings.back_translation:
            self.interpreter.config = replace(self.interpreter.config,
                                              back_translation=effect.settings.back_translation)

    def _add_history(self, effect: i.AddHistory) -> None:
        history = self.history
        if history is None:
            return

        def add() -> None:
            history.add(effect.source_lang, effect.target_lang, effect.source_text, effect.translation)
            self.post(i.HistoryCount(history.count()))
        self.storage.submit(add)

    def _load_history(self, effect: i.LoadHistory) -> None:
        history = self.history
        self.storage.submit(lambda: self.post(i.HistoryLoaded(tuple(history.recent(effect.limit)) if history else ())))

    def _wipe_history(self, _: i.WipeHistory) -> None:
        history = self.history
        if history is None:
            return

        def wipe() -> None:
            history.wipe()
            self.post(i.HistoryCount(0))
        self.storage.submit(wipe)

    def _shutdown(self, _: i.Shutdown) -> None:
        def stop_all() -> None:
            self._stop_capture()
            self.speaker.stop()
            if self.shutdown_hook is not None:
                self.shutdown_hook()
        self.devices.submit(stop_all)

    # ---- the supervisor ----------------------------------------------------------------------------------
    def supervise(self, now: float | None = None) -> None:
        """Restart whatever thread has died (called from the main loop, at most once a second)."""
        now = time.monotonic() if now is None else now
        if now < self._next_supervise:
            return
        self._next_supervise = now + SUPERVISE_EVERY
        for worker in (self.devices, self.storage):
            if not worker.alive():
                worker.restart()
        for device in (self.speaker, self.mic):
            revive = getattr(device, "revive", None)  # restarts its own playback/capture thread if it died
            if revive is not None and revive():
                log.error("%s: its thread had died and was restarted", type(device).__name__)

    def idle(self, timeout: float = 5.0) -> bool:
        """Every queued device and storage job has run (tests, shutdown)."""
        return self.devices.wait_idle(timeout) and self.storage.wait_idle(timeout)

    def close(self) -> None:
        if self.turn is not None:
            self.turn.cancel()
        self.devices.close()
        self.storage.close()
