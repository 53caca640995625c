"""The screen as a pure function of the state machine's model (``tolk.device.machine.Model``)."""
from __future__ import annotations

from tolk.device.machine import Model, speaks_fallback
from tolk.device.state import State
from tolk.models import languages
from tolk.ui import screens as sc

MENU_HINT = "▲▼ choose · select · menu = back"


def side(model: Model, code: str) -> sc.Side:
    lang = languages.get(code)
    return sc.Side(lang.code, lang.native_name, speaks_fallback(model, code))


def screen(model: Model) -> sc.Screen:
    s, r, state = model.settings, model.result, model.state
    if state is State.BOOTING:
        return sc.BootScreen()
    if state is State.ERROR and model.error:
        return sc.ErrorScreen(*model.error)
    if state is State.MENU and model.menu:
        page = model.menu[-1]
        return sc.MenuScreen(page.title, tuple(item.label for item in page.items), page.selected, MENU_HINT)
    if state is State.LISTENING and r:
        return sc.ListeningScreen(side(model, r.speaker), side(model, r.listener), model.level, model.partial)
    if state in (State.TRANSCRIBING, State.TRANSLATING) and r:
        return sc.WorkingScreen(state.value, side(model, r.speaker), side(model, r.listener),
                                r.source_text or model.partial, r.translation)
    if r and r.translation:
        return sc.ResultScreen(side(model, r.speaker), side(model, r.listener), r.source_text, r.translation,
                               r.detected, r.back_translation, split=s.mode == "face-to-face")
    return sc.ReadyScreen(side(model, s.lang_a), side(model, s.lang_b), s.mode, model.notice)
