"""The ST7789 path with luma's own code: the real st7789 driver over a serial interface that records what it
sends, and luma's dummy device; what reaches the panel is the frame Tolk rendered (both sizes, rotated)."""
from __future__ import annotations

import pytest

pytest.importorskip("luma.lcd", reason="luma.lcd is in the test extras: pip install -e '.[test]'")

import luma.core.virtual  # noqa: E402,F401 - its import starts luma's process-wide pool of 4 threads: at collection,
# not inside the first test (tests/leaks.py would count them as that test's)
from luma.core.device import dummy  # noqa: E402
from luma.core.interface.serial import noop  # noqa: E402

from tolk.device.config import DisplayConfig  # noqa: E402
from tolk.ui import screens as sc  # noqa: E402
from tolk.ui.frames import render  # noqa: E402
from tolk.ui.outputs import St7789Display  # noqa: E402


class RecordingSerial(noop):
    """luma's do-nothing interface, keeping the data bytes of the last memory write (RAMWR, 0x2C)."""

    def __init__(self) -> None:
        object.__setattr__(self, "last_command", None)
        object.__setattr__(self, "frame", b"")

    def command(self, *cmd: int) -> None:
        object.__setattr__(self, "last_command", cmd[0])

    def data(self, data) -> None:
        if self.last_command == 0x2C:
            object.__setattr__(self, "frame", bytes(data))


def frame(size):
    return render(sc.ReadyScreen(sc.Side("en", "English", False), sc.Side("es", "Español", False),
                                 "push-to-talk", ""), size)


@pytest.mark.parametrize("size,rotate", [((240, 240), 0), ((320, 240), 0), ((240, 240), 2)])
def test_the_st7789_driver_sends_the_rendered_frame(size, rotate):
    serial = RecordingSerial()
    display = St7789Display(DisplayConfig(driver="st7789", width=size[0], height=size[1], rotate=rotate),
                            serial_interface=serial, gpio=noop())
    image = frame(size)
    display.show(image)
    expected = image.convert("RGB").rotate(-90 * rotate, expand=True) if rotate else image.convert("RGB")
    assert len(serial.frame) == size[0] * size[1] * 3  # 18-bit colour: one byte per channel
    assert serial.frame == expected.tobytes()


@pytest.mark.parametrize("size", [(240, 240), (320, 240)])
def test_luma_dummy_device_holds_the_rendered_frame(size):
    device = dummy(width=size[0], height=size[1], mode="RGB")
    display = St7789Display(DisplayConfig(driver="st7789", width=size[0], height=size[1]), device=device)
    image = frame(size)
    display.show(image)
    assert device.image.size == size and device.image.tobytes() == image.convert("RGB").tobytes()
