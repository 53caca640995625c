"""The device's menus as data: main menu, language choice, history; button navigation inside them.

Pure functions of the state machine's model (``tolk.device.machine``): a menu item names its action as a tuple,
and ``button()`` returns the next model and the effects, like every other transition.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tolk.device import inputs as i
from tolk.device.settings import MODES
from tolk.device.state import State
from tolk.models import languages

if TYPE_CHECKING:
    from tolk.device.history import HistoryEntry
    from tolk.device.machine import Model, Step

VOLUME_STEPS = (0.2, 0.4, 0.6, 0.8, 1.0)
HISTORY_SHOWN = 50


@dataclass(frozen=True)
class Item:
    label: str
    action: tuple  # ("mode",), ("choose", "lang_a", "fr"), ("replay", text, language), ...


@dataclass(frozen=True)
class Page:
    title: str
    items: tuple[Item, ...]
    selected: int = 0


def voice_label(option: str | None) -> str:
    """'kokoro:ef_dora' → 'Dora (Kokoro)'; 'piper' → 'Piper'; 'espeak-ng' → 'espeak (robotic)'."""
    if option is None:
        return "none"
    if option.startswith("kokoro:"):
        return f"{option.split('_', 1)[-1].capitalize()} (Kokoro)"
    return {"piper": "Piper", "espeak-ng": "espeak (robotic)"}.get(option, option)


def main_page(model: "Model", selected: int = 0) -> Page:
    from tolk.device.machine import voice_of  # the machine imports this module

    s = model.settings
    name = lambda code: languages.get(code).native_name  # noqa: E731
    options = dict(model.facts.voice_options)
    voices = tuple(Item(f"Voice {side}: {voice_label(voice_of(model, code))}", ("voice", code))
                   for side, code in (("A", s.lang_a), ("B", s.lang_b)) if code in options)
    items = (
        Item(f"Language A: {name(s.lang_a)}", ("language", "lang_a")),
        Item(f"Language B: {name(s.lang_b)}", ("language", "lang_b")),
        *voices,
        Item(f"Mode: {s.mode}", ("mode",)),
        Item(f"Volume: {round(s.volume * 100)}%", ("volume",)),
        Item(f"Back-translation: {'on' if s.back_translation else 'off'}", ("back_translation",)),
        Item(f"History: {'on' if s.history else 'off'} ({model.history_count})", ("history",)),
        Item("Wipe history", ("wipe",)),
        Item("Close menu", ("close",)),
    )
    return Page("Settings", items, selected)


def open_main(model: "Model") -> "Model":
    return replace(model, state=State.MENU, menu=(main_page(model),))


def refresh(model: "Model") -> "Model":
    """The main page redrawn from the model (after a setting or the history count changed)."""
    if not model.menu or model.menu[0].title != "Settings":
        return model
    return replace(model, menu=(main_page(model, model.menu[0].selected),) + model.menu[1:])


def close(model: "Model") -> "Model":
    return replace(model, menu=(), state=State.READY)


def language_page(model: "Model", field: str) -> Page:
    other = model.settings.lang_b if field == "lang_a" else model.settings.lang_a
    choices = [lang for lang in languages.LANGUAGES if lang.code != other and lang.code in model.facts.languages]
    current = getattr(model.settings, field)
    selected = next((n for n, lang in enumerate(choices) if lang.code == current), 0)
    items = tuple(Item(f"{lang.native_name} ({lang.english_name})", ("choose", field, lang.code))
                  for lang in choices)
    return Page("Language A" if field == "lang_a" else "Language B", items, selected)


def push_history(model: "Model", entries: "tuple[HistoryEntry, ...]") -> "Model":
    if model.state is not State.MENU or not model.menu or model.menu[-1].title == "History":
        return model  # the menu was closed while the history was read
    items = (Item(f"Turn history: {'on' if model.settings.history else 'off'}", ("history_toggle",)),)
    items += tuple(Item(f"{e.source_text} → {e.translation}", ("replay", e.translation, e.target_lang))
                   for e in entries)
    return replace(model, menu=model.menu + (Page("History", items),))


def button(model: "Model", name: str) -> "Step":
    if not model.menu:
        return close(model), []
    page = model.menu[-1]
    if name in ("up", "down") and page.items:
        moved = replace(page, selected=(page.selected + (1 if name == "down" else -1)) % len(page.items))
        return replace(model, menu=model.menu[:-1] + (moved,)), []
    if name == "select" and page.items:
        return _select(model, page.items[page.selected].action)
    if name == "menu":  # back
        menu = model.menu[:-1]
        return (replace(model, menu=menu) if menu else close(model)), []
    return model, []


def _select(model: "Model", action: tuple) -> "Step":
    from tolk.device.machine import change_settings, replay  # the machine imports this module

    kind, s = action[0], model.settings
    if kind == "language":
        return replace(model, menu=model.menu + (language_page(model, action[1]),)), []
    if kind == "choose":
        model, effects = change_settings(model, **{action[1]: action[2]})
        return replace(model, menu=(main_page(model),)), effects
    if kind == "voice":  # the next voice this language can speak with
        from tolk.device.machine import voice_of

        options = dict(model.facts.voice_options).get(action[1], ())
        current = voice_of(model, action[1])
        following = options[(options.index(current) + 1) % len(options)] if current in options else options[0]
        model, effects = change_settings(model, voices=s.with_voice(action[1], following).voices)
    elif kind == "mode":
        model, effects = change_settings(model, mode=MODES[(MODES.index(s.mode) + 1) % len(MODES)])
    elif kind == "volume":
        current = min(range(len(VOLUME_STEPS)), key=lambda n: abs(VOLUME_STEPS[n] - s.volume))
        model, effects = change_settings(model, volume=VOLUME_STEPS[(current + 1) % len(VOLUME_STEPS)])
    elif kind == "back_translation":
        model, effects = change_settings(model, back_translation=not s.back_translation)
    elif kind == "history":
        return model, [i.LoadHistory(HISTORY_SHOWN)]
    elif kind == "history_toggle":
        model, effects = change_settings(model, history=not s.history)
        return close(model), effects
    elif kind == "wipe":
        return replace(close(model), notice="History wiped"), [i.WipeHistory()]
    elif kind == "replay":
        return replay(model, action[1], action[2])
    elif kind == "close":
        return close(model), []
    else:
        return model, []
    return refresh(model), effects
