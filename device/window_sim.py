"""The simulator's desktop window (tkinter): the screen, and keys as buttons.

Keys: hold A = left talk (language A), hold L = right talk (language B), S = swap,
M = menu/back, Enter = select, Up/Down, hold P = power. Key auto-repeat is
filtered so a held key is one press and one release.
"""
from __future__ import annotations

from tolk.device.controller import ButtonEvent

KEYS = {"a": "talk_a", "l": "talk_b", "s": "swap", "m": "menu", "Return": "select", "Up": "up", "Down": "down",
        "p": "power"}


def run_window(appliance, scale: int = 2) -> None:
    import tkinter as tk

    from PIL import ImageTk

    root = tk.Tk()
    root.title("Tolk simulator")
    label = tk.Label(root)
    label.pack()
    tk.Label(root, text="hold A / L: talk · S swap · M menu · Enter select · ↑↓ · hold P power").pack()
    held: dict[str, str] = {}
    controller = appliance.controller

    def show(image) -> None:
        photo = ImageTk.PhotoImage(image.resize((image.width * scale, image.height * scale)))
        label.configure(image=photo)
        label.image = photo

    class _Window:
        def show(self, image) -> None:
            show(image)

    appliance.display = _Window()
    appliance._last = None

    def key_down(event) -> None:
        name = KEYS.get(event.keysym)
        if name and event.keysym not in held:
            held[event.keysym] = name
            controller.post(ButtonEvent(name, "press"))
            if name == "power":
                root.after(3000, lambda: event.keysym in held and controller.post(ButtonEvent("power", "hold")))

    def key_up(event) -> None:
        def release() -> None:
            name = held.pop(event.keysym, None)
            if name:
                controller.post(ButtonEvent(name, "release"))
        root.after(30, release)  # auto-repeat sends up/down pairs: a quick down cancels this

    root.bind("<KeyPress>", key_down)
    root.bind("<KeyRelease>", key_up)

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
