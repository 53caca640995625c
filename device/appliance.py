"""The whole appliance, wired: controller + display + devices; used by `tolk run` and `tolk simulate`."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from tolk.device.controller import Controller, State
from tolk.models.errors import ErrorCode, TolkError
from tolk.ui import screens as sc

log = logging.getLogger(__name__)


def fallback_frame(size: tuple[int, int], err: BaseException):
    """A frame that needs no font file: the screen's background and the code of what went wrong."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", tuple(size), (16, 20, 24))
    ImageDraw.Draw(image).text((8, 8), f"{ErrorCode.UI_RENDER.value}: {type(err).__name__}"[:40], fill=(231, 76, 60))
    return image


@dataclass
class Appliance:
    controller: Controller
    display: object  # ui.outputs.Display: .show(image)
    size: tuple[int, int]
    render: Callable[[sc.Screen, tuple[int, int]], object]
    _last: object = None

    def refresh(self) -> bool:
        """Draw the screen if it changed; True when a frame was shown. Never raises: the screen is an output of
        the model, and a frame that fails to draw or show (logged with its code) must not end the loop, nor
        the turn the model holds. A frame that fails to draw is replaced by the bare frame (``fallback_frame``)
        and tried again when the screen next changes."""
        try:
            screen = self.controller.screen()
        except Exception:  # noqa: BLE001 - a bug in the view: the last frame stays up
            log.exception("[%s] the screen could not be built from the state", ErrorCode.UI_RENDER.value)
            return False
        if screen == self._last:
            return False
        self._last = screen
        try:
            image = self.render(screen, self.size)
        except Exception as err:  # noqa: BLE001 - render draws what it can; this is a bug in a layout
            log.exception("[%s] %s could not be drawn", ErrorCode.UI_RENDER.value, type(screen).__name__)
            image = fallback_frame(self.size, err)
        try:
            self.display.show(image)
        except Exception as err:  # noqa: BLE001 - e.g. the SPI bus gone: the appliance still speaks
            code = err.code.value if isinstance(err, TolkError) else ErrorCode.UI_DISPLAY.value
            log.error("[%s] the frame could not be shown: %s: %s", code, type(err).__name__, err)
            return False
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
