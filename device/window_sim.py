"""The simulator's desktop window (tkinter): the screen, and keys as buttons.

Keys: hold A = left talk (language A), hold L = right talk (language B), S = swap,
M = menu/back, Enter = select, Up/Down, hold P = power. Key auto-repeat is
filtered so a held key is one press and one release.
"""
from __future__ import annotations

from typing import Callable

from tolk.device.controller import ButtonEvent

KEYS = {"a": "talk_a", "l": "talk_b", "s": "swap", "m": "menu", "Return": "select", "Up": "up", "Down": "down",
        "p": "power"}
RELEASE_SETTLE_MS = 60  # X11 sends a key's auto-repeat release and press within a millisecond of each other
POWER_HOLD_MS = 3000


class HeldKeys:
    """Keys as buttons, with auto-repeat filtered out. While a key is held, X11 sends KeyRelease + KeyPress
    pairs: a release only counts when no press of the same key follows within ``RELEASE_SETTLE_MS``; the press
    that follows cancels it. ``after(ms, fn) -> id`` and ``cancel(id)`` are the window's timers (tk's
    ``after``/``after_cancel``)."""

    def __init__(self, post: Callable[[ButtonEvent], None], after: Callable[[int, Callable[[], None]], object],
                 cancel: Callable[[object], None]) -> None:
        self.post, self.after, self.cancel = post, after, cancel
        self.held: dict[str, str] = {}
        self._pending: dict[str, object] = {}  # keysym -> the timer of a release not yet confirmed

    def down(self, keysym: str) -> None:
        pending = self._pending.pop(keysym, None)
        if pending is not None:
            self.cancel(pending)  # auto-repeat: the key is still held
            return
        name = KEYS.get(keysym)
        if name and keysym not in self.held:
            self.held[keysym] = name
            self.post(ButtonEvent(name, "press"))
            if name == "power":
                self.after(POWER_HOLD_MS, lambda: keysym in self.held and self.post(ButtonEvent("power", "hold")))

    def up(self, keysym: str) -> None:
        if keysym in self.held and keysym not in self._pending:
            self._pending[keysym] = self.after(RELEASE_SETTLE_MS, lambda: self._release(keysym))

    def _release(self, keysym: str) -> None:
        self._pending.pop(keysym, None)
        name = self.held.pop(keysym, None)
        if name:
            self.post(ButtonEvent(name, "release"))


def run_window(appliance, scale: int = 2) -> None:
    import tkinter as tk

    from PIL import ImageTk

    root = tk.Tk()
    root.title("Tolk simulator")
    label = tk.Label(root)
    label.pack()
    tk.Label(root, text="hold A / L: talk · S swap · M menu · Enter select · ↑↓ · hold P power").pack()
    controller = appliance.controller
    keys = HeldKeys(controller.post, root.after, root.after_cancel)

    def show(image) -> None:
        photo = ImageTk.PhotoImage(image.resize((image.width * scale, image.height * scale)))
        label.configure(image=photo)
        label.image = photo

    class _Window:
        def show(self, image) -> None:
            show(image)

    appliance.display = _Window()
    appliance._last = None

    root.bind("<KeyPress>", lambda event: keys.down(event.keysym))
    root.bind("<KeyRelease>", lambda event: keys.up(event.keysym))

    def pump() -> None:
        appliance.tick(0.0)
        if controller.stopped.is_set():
            root.destroy()
            return
        root.after(20, pump)

    controller.start()
    appliance.refresh()
    pump()
    root.mainloop()
