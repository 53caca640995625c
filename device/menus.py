"""The device's menus: main menu, language choice, history; button navigation inside them.

A mixin of :class:`tolk.device.controller.Controller` (it uses the controller's settings, history, interpreter
and state), kept apart so the state machine itself stays short.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tolk.device.settings import MODES
from tolk.device.state import State
from tolk.models import languages


@dataclass
class Menu:
    title: str
    items: list[tuple[str, Callable[[], None]]]
    selected: int = 0


class MenuActions:
    """Menu behaviour; expects the Controller's attributes (settings, history, interpreter, menu_stack, ...)."""

    def _open_main_menu(self) -> None:
        self.menu_stack = [self._main_menu()]
        self._set_state(State.MENU)

    def _main_menu(self) -> Menu:
        s = self.settings
        lang_name = lambda code: languages.get(code).native_name  # noqa: E731
        count = self.history.count() if self.history is not None else 0
        items = [
            (f"Language A: {lang_name(s.lang_a)}", lambda: self._push_language_menu("lang_a")),
            (f"Language B: {lang_name(s.lang_b)}", lambda: self._push_language_menu("lang_b")),
            (f"Mode: {s.mode}", self._next_mode),
            (f"Volume: {round(s.volume * 100)}%", self._next_volume),
            (f"Back-translation: {'on' if s.back_translation else 'off'}",
             lambda: self._refresh_after(back_translation=not s.back_translation)),
            (f"History: {'on' if s.history else 'off'} ({count})", self._push_history_menu),
            ("Wipe history", self._wipe_history),
            ("Close menu", self._close_menu),
        ]
        return Menu("Settings", items)

    def _refresh_after(self, **changes) -> None:
        self.set_settings(**changes)
        selected = self.menu_stack[-1].selected
        self.menu_stack[-1] = self._main_menu()
        self.menu_stack[-1].selected = selected

    def _next_mode(self) -> None:
        self._refresh_after(mode=MODES[(MODES.index(self.settings.mode) + 1) % len(MODES)])
        if self.settings.mode == "hands-free":
            self._start_hands_free()
        elif self._mic_on:
            self.mic.stop()
            self._mic_on = False

    def _next_volume(self) -> None:
        steps = (0.2, 0.4, 0.6, 0.8, 1.0)
        current = min(range(len(steps)), key=lambda i: abs(steps[i] - self.settings.volume))
        self._refresh_after(volume=steps[(current + 1) % len(steps)])

    def _push_language_menu(self, field: str) -> None:
        other = self.settings.lang_b if field == "lang_a" else self.settings.lang_a
        choices = [lang for lang in languages.LANGUAGES
                   if lang.code != other and lang.code in self.interpreter.translator.manifest.languages]

        def choose(code: str) -> Callable[[], None]:
            def apply() -> None:
                self.set_settings(**{field: code})
                self.menu_stack = [self._main_menu()]
            return apply

        current = getattr(self.settings, field)
        menu = Menu("Language A" if field == "lang_a" else "Language B",
                     [(f"{lang.native_name} ({lang.english_name})", choose(lang.code)) for lang in choices])
        menu.selected = next((i for i, lang in enumerate(choices) if lang.code == current), 0)
        self.menu_stack.append(menu)

    def _push_history_menu(self) -> None:
        entries = self.history.recent(50) if self.history is not None else []
        items = [(f"Turn history: {'on' if self.settings.history else 'off'}",
                  lambda: (self.set_settings(history=not self.settings.history), self._close_menu()))]
        for entry in entries:
            items.append((f"{entry.source_text} → {entry.translation}",
                          lambda e=entry: self._replay(e.translation, e.target_lang)))
        self.menu_stack.append(Menu("History", items))

    def _wipe_history(self) -> None:
        if self.history is not None:
            self.history.wipe()
        self.notice = "History wiped"
        self._close_menu()

    def _close_menu(self) -> None:
        self.menu_stack = []
        self._set_state(State.READY)

    def _menu_button(self, name: str) -> None:
        menu = self.menu_stack[-1]
        if name == "up":
            menu.selected = (menu.selected - 1) % len(menu.items)
        elif name == "down":
            menu.selected = (menu.selected + 1) % len(menu.items)
        elif name == "select":
            menu.items[menu.selected][1]()
        elif name == "menu":  # back
            self.menu_stack.pop()
            if not self.menu_stack:
                self._set_state(State.READY)
