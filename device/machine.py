"""The appliance's state machine as one pure function: ``update(model, input) -> (model, effects)``.

Every transition of the device is in this file and ``tolk.device.menus``. Nothing here touches a device, a
file, a clock or a thread: the model is an immutable value, inputs and effects are plain data
(``tolk.device.inputs``), and the executor performs the effects. So a failure while playing, saving or
capturing can never leave the state machine half-changed; it arrives as one more input (``EffectFailed``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from tolk.audio.endpoint import EndpointState, Segment, advance, is_speech
from tolk.device import events as ev
from tolk.device import inputs as i
from tolk.device import menus
from tolk.device.settings import Settings
from tolk.device.state import State
from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

# Errors that mean a microphone or speaker is missing or failing: the device rescans for them. Other errors
# (a recording too long, a corrupt file) stay on the screen until a button is pressed.
DEVICE_ERRORS = frozenset({ErrorCode.AUDIO_NO_MIC, ErrorCode.AUDIO_NO_SPEAKER, ErrorCode.AUDIO_DEVICE})
PREROLL_CHUNKS = 6  # hands-free: audio kept from before speech was detected (its first syllable)
CAPTURE_RATE = 16000  # AudioIn samples per second


class ErrorInfo(NamedTuple):
    code: ErrorCode
    message: str
    action: str


@dataclass(frozen=True)
class Facts:
    """What does not change while the appliance runs."""

    languages: tuple[str, ...]  # the translation pack's languages (the menu's choices)
    fallback_voices: frozenset[str] = frozenset()  # languages whose default voice is the fallback (espeak-ng)
    voice_options: tuple[tuple[str, tuple[str, ...]], ...] = ()  # language → the voices it can speak with
    default_voices: tuple[tuple[str, str], ...] = ()  # language → its default voice option
    retry_seconds: float = 2.0  # device rescans while a device is missing


@dataclass(frozen=True)
class Result:
    speaker: str
    listener: str
    source_text: str = ""
    translation: str = ""
    detected: str = ""
    back_translation: str = ""


@dataclass(frozen=True)
class Model:
    facts: Facts
    settings: Settings
    state: State = State.BOOTING
    notice: str = ""
    turn_key: int | None = None  # the running turn (its events count); None: no turn
    last_key: int = 0
    speak_only: bool = False  # the running turn only speaks (a replay): not added to the history
    turn_side: str = "a"
    level: float = 0.0
    partial: str = ""
    result: Result | None = None
    error: ErrorInfo | None = None
    menu: tuple[menus.Page, ...] = ()
    history_count: int = 0
    speaker_busy: bool = False
    next_retry: float = 0.0
    endpoint: EndpointState = EndpointState()
    preroll: tuple[np.ndarray, ...] = ()
    stopped: bool = False

    @property
    def lang(self) -> dict[str, str]:
        return {"a": self.settings.lang_a, "b": self.settings.lang_b}

    @property
    def hands_free(self) -> bool:
        return self.settings.mode == "hands-free"


Step = tuple[Model, list[i.Effect]]


def update(model: Model, msg: i.Input) -> Step:
    """The next model and the effects to perform, for one input."""
    handler = _HANDLERS.get(type(msg))
    if handler is None:
        log.warning("input of unknown kind ignored: %r", msg)
        return model, []
    model, effects = handler(model, msg)
    if model.error is not None and model.state is not State.ERROR:  # recovered (a turn, a replay, the menu closed):
        model = replace(model, error=None)                         # the error is over, status must not show it
    return model, effects


# ---- helpers -----------------------------------------------------------------------------------------------
def show_error(model: Model, code: ErrorCode, message: str) -> Step:
    log.warning("[%s] %s %s", code, message, code.action)
    return replace(model, state=State.ERROR, error=ErrorInfo(code, message, code.action), turn_key=None), \
        [i.CancelTurn()]


def _devices_ok(model: Model, mic: bool, speaker: bool) -> Step | None:
    if not mic:
        return show_error(model, ErrorCode.AUDIO_NO_MIC, "No microphone found.")
    if not speaker:
        return show_error(model, ErrorCode.AUDIO_NO_SPEAKER, "No speaker found.")
    return None


def voice_of(model: Model, code: str) -> str | None:
    """The voice option ``code`` speaks with, as the speech router picks it: the person's choice when this device has
    it, else the default, else the first of its options (None: no choice known here)."""
    options = dict(model.facts.voice_options).get(code, ())
    chosen = model.settings.voice(code)
    if chosen is not None and chosen in options:
        return chosen
    default = dict(model.facts.default_voices).get(code)
    return default if default in options or not options else options[0]


def speaks_fallback(model: Model, code: str) -> bool:
    option = voice_of(model, code)
    return option == "espeak-ng" if option is not None else code in model.facts.fallback_voices


def change_settings(model: Model, **changes) -> Step:
    try:
        new = model.settings.with_changes(**changes)
    except (TolkError, TypeError, ValueError) as err:  # a bad value is refused, never saved
        return replace(model, notice=f"Not changed: {err}"[:120]), []
    effects: list[i.Effect] = [i.SaveSettings(new), i.ApplySettings(new)]
    if new.mode != model.settings.mode:
        effects.append(i.StartHandsFree() if new.mode == "hands-free" else i.StopCapture())
    return replace(model, settings=new), effects


def cancel(model: Model) -> Step:
    return replace(model, turn_key=None), [i.CancelTurn()]


def replay(model: Model, text: str, language: str) -> Step:
    key = model.last_key + 1
    model = replace(model, menu=(), state=State.READY, turn_key=key, last_key=key, speak_only=True,
                    result=Result(language, language, translation=text), notice="")
    return model, [i.CancelTurn(), i.SayText(key, text, language)]


# ---- inputs ------------------------------------------------------------------------------------------------
def _started(model: Model, msg: i.Started) -> Step:
    model = replace(model, history_count=msg.history_count)
    failed = _devices_ok(model, msg.mic, msg.speaker)
    if failed:
        return failed
    return replace(model, state=State.READY), ([i.StartHandsFree()] if model.hands_free else [])


def _devices_checked(model: Model, msg: i.DevicesChecked) -> Step:
    missing = model.state is State.ERROR and model.error is not None and model.error.code in DEVICE_ERRORS
    if missing and not (msg.mic and msg.speaker):
        return model, []  # still missing: the screen stays as it is
    failed = _devices_ok(model, msg.mic, msg.speaker)
    if failed:
        return failed
    if missing:
        model = replace(model, state=State.READY, error=None, notice="Audio device found again")
        return model, ([i.StartHandsFree()] if model.hands_free else [])
    return model, []


def _tick(model: Model, msg: i.Tick) -> Step:
    model = replace(model, speaker_busy=msg.speaker_busy) if msg.speaker_busy != model.speaker_busy else model
    if model.state is State.SPEAKING and model.turn_key is None and not msg.speaker_busy:
        return replace(model, state=State.READY), []  # the last sentence has finished playing
    if (model.state is State.ERROR and model.error and model.error.code in DEVICE_ERRORS
            and msg.now >= model.next_retry):
        return replace(model, next_retry=msg.now + model.facts.retry_seconds), [i.CheckDevices(rescan=True)]
    return model, []


def _effect_failed(model: Model, msg: i.EffectFailed) -> Step:
    return show_error(model, msg.code, msg.message)


def _button(model: Model, msg: i.ButtonEvent) -> Step:
    name, action = msg.button, msg.action
    if name == "power":
        return _power_off(model, i.PowerOff()) if action == "hold" else (model, [])
    if model.state is State.MENU:
        return menus.button(model, name) if action == "press" else (model, [])
    if model.state is State.BOOTING:
        return model, []
    if name in ("talk_a", "talk_b") and not model.hands_free:
        side = name[-1]
        if action == "press" and model.state is State.ERROR and model.error and model.error.code in DEVICE_ERRORS:
            return model, [i.CheckDevices(rescan=True)]  # still missing: look again, no listening screen
        if action == "press":
            return _start_listening(model, side)
        if action == "release" and model.state is State.LISTENING and model.turn_side == side:
            return replace(model, state=State.TRANSCRIBING), [i.FinishTurn()]
        return model, []
    if action != "press":
        return model, []
    if name == "swap":
        return change_settings(model, lang_a=model.settings.lang_b, lang_b=model.settings.lang_a)
    if name == "menu":
        model, effects = cancel(model)
        return menus.open_main(model), effects
    if name == "select" and model.state is State.ERROR:  # dismissed; a device still missing shows again
        model = replace(model, state=State.READY, error=None, notice="")
        return model, [i.CheckDevices(rescan=False)] + ([i.StartHandsFree()] if model.hands_free else [])
    return model, []


def _start_listening(model: Model, side: str) -> Step:
    other = "b" if side == "a" else "a"
    speaker, listener = model.lang[side], model.lang[other]
    key = model.last_key + 1
    model = replace(model, state=State.LISTENING, error=None, turn_key=key, last_key=key, speak_only=False,
                    turn_side=side, level=0.0, partial="", notice="", result=Result(speaker, listener))
    return model, [i.CancelTurn(), i.StartLiveTurn(key, (speaker, listener), speaker, listener, capture=True)]


def _audio_in(model: Model, msg: i.AudioIn) -> Step:
    if not model.hands_free or model.state in (State.SPEAKING, State.MENU, State.ERROR, State.BOOTING) \
            or model.speaker_busy:
        return model, []  # the microphone is muted while the device speaks
    samples = msg.samples
    endpoint, segment = advance(model.endpoint, samples.size / CAPTURE_RATE, is_speech(samples))
    effects: list[i.Effect] = []
    if segment is Segment.STARTED and model.state is not State.LISTENING:
        key = model.last_key + 1
        pair = (model.settings.lang_a, model.settings.lang_b)
        model = replace(model, state=State.LISTENING, turn_key=key, last_key=key, speak_only=False, turn_side="a",
                        partial="", level=0.0, notice="", result=Result(*pair))
        effects += [i.CancelTurn(), i.StartLiveTurn(key, pair, None, None, capture=False, preroll=model.preroll)]
    if model.turn_key is not None and model.state is State.LISTENING:
        effects.append(i.FeedTurn(samples))
        if segment is Segment.ENDED:
            effects.append(i.FinishTurn())
            model = replace(model, state=State.TRANSCRIBING)
    preroll = (model.preroll + (samples,))[-PREROLL_CHUNKS:]
    return replace(model, endpoint=endpoint, preroll=preroll), effects


def _turn_event(model: Model, msg: i.TurnEvent) -> Step:
    if msg.key != model.turn_key:
        return model, []  # an older (cancelled) turn
    event, result = msg.event, model.result
    if isinstance(event, ev.InputLevel):
        return replace(model, level=event.level), []
    if isinstance(event, ev.PartialText):
        return replace(model, partial=event.text), []
    if isinstance(event, ev.FinalText) and result:
        detected = f"{languages.get(event.language).english_name} ({event.confidence:.2f})"
        result = replace(result, source_text=event.text, detected=detected, speaker=event.language)
        return replace(model, result=result, state=State.TRANSLATING), []
    if isinstance(event, ev.NoSpeech):
        return replace(model, notice="No speech heard", result=None), []
    if isinstance(event, ev.TranslationText) and result:
        joined = (result.translation + event.gap + event.text) if result.translation else event.text
        return replace(model, result=replace(result, translation=joined, listener=event.language)), []
    if isinstance(event, ev.AudioOut):
        state = model.state if model.state is State.ERROR else State.SPEAKING
        return replace(model, state=state, speaker_busy=True), [i.Play(event.samples, event.sample_rate)]
    if isinstance(event, ev.BackTranslation) and result:
        return replace(model, result=replace(result, back_translation=event.text)), []
    if isinstance(event, ev.TurnError):
        return show_error(model, event.code, event.message)
    if isinstance(event, ev.TurnFinished):
        return _turn_finished(model)
    return model, []


def _turn_finished(model: Model) -> Step:
    r, effects = model.result, []
    if r and r.translation and r.source_text and not model.speak_only and model.settings.history:
        effects.append(i.AddHistory(r.speaker, r.listener, r.source_text, r.translation))
    model = replace(model, turn_key=None)
    if model.state not in (State.ERROR, State.MENU) and not (model.state is State.SPEAKING and model.speaker_busy):
        model = replace(model, state=State.READY)
    return model, effects


def _history_count(model: Model, msg: i.HistoryCount) -> Step:
    return menus.refresh(replace(model, history_count=msg.count)), []


def _history_loaded(model: Model, msg: i.HistoryLoaded) -> Step:
    return menus.push_history(model, msg.entries), []


def _change_settings(model: Model, msg: i.ChangeSettings) -> Step:
    model, effects = change_settings(model, **msg.changes)
    return menus.refresh(model), effects


def _replay(model: Model, msg: i.Replay) -> Step:
    return replay(model, msg.text, msg.language)


def _power_off(model: Model, msg: i.PowerOff) -> Step:
    model = replace(model, turn_key=None, stopped=True, notice=msg.notice or model.notice)
    return model, [i.CancelTurn(), i.StopCapture(), i.Shutdown()]


_HANDLERS = {
    i.Started: _started, i.DevicesChecked: _devices_checked, i.Tick: _tick, i.EffectFailed: _effect_failed,
    i.ButtonEvent: _button, i.AudioIn: _audio_in, i.TurnEvent: _turn_event, i.HistoryCount: _history_count,
    i.HistoryLoaded: _history_loaded, i.ChangeSettings: _change_settings, i.Replay: _replay,
    i.PowerOff: _power_off,
}
