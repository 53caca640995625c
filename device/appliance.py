"""The whole appliance, wired: controller + display + devices; used by `tolk run` and `tolk simulate`."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from tolk.device.controller import Controller, State
from tolk.ui import screens as sc

log = logging.getLogger(__name__)


@dataclass
class Appliance:
    controller: Controller
    display: object  # ui.outputs.Display: .show(image)
    size: tuple[int, int]
    render: Callable[[sc.Screen, tuple[int, int]], object]
    _last: object = None

    def refresh(self) -> bool:
        """Draw the screen if it changed; True when a frame was shown."""
        screen = self.controller.screen()
        if screen == self._last:
            return False
        self._last = screen
        self.display.show(self.render(screen, self.size))
        return True

    def tick(self, timeout: float = 0.05) -> None:
        self.controller.step(timeout)
        self.refresh()

    def run(self, watchdog: Callable[[], None] | None = None, until: Callable[[], bool] | None = None) -> None:
        self.controller.start()
        self.refresh()
        try:
            while not self.controller.stopped.is_set() and not (until and until()):
                self.tick()
                if watchdog:
                    watchdog()
        finally:
            self.controller.close()  # the power-off queued by the last step runs before `tolk run` returns

    @property
    def state(self) -> State:
        return self.controller.state
