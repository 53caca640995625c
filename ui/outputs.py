"""Display drivers behind one small interface: ``size`` and ``show(image)``.

PNG files (headless simulator, screenshots), memory (tests), the Linux
framebuffer (RGB565), and an ST7789 SPI panel through luma.lcd (imported only
when used, with a clear error when the SPI device is absent).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import numpy as np

from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)


class DisplayError(TolkError):
    code = ErrorCode.UI_DISPLAY


class Display(Protocol):
    def show(self, image) -> None: ...


class MemoryDisplay:
    def __init__(self) -> None:
        self.frames: list = []

    def show(self, image) -> None:
        self.frames.append(image.copy())


class PngDisplay:
    """Writes frame-0001.png, frame-0002.png… for every changed frame."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("frame-*.png"):
            old.unlink()
        self.count = 0
        self.last = None

    def show(self, image) -> None:
        if self.last is not None and image.tobytes() == self.last.tobytes():
            return
        self.count += 1
        image.save(self.folder / f"frame-{self.count:04d}.png")
        self.last = image.copy()


def rgb565(image) -> bytes:
    pixels = np.asarray(image.convert("RGB"), dtype=np.uint16)
    value = ((pixels[..., 0] >> 3) << 11) | ((pixels[..., 1] >> 2) << 5) | (pixels[..., 2] >> 3)
    return value.astype("<u2").tobytes()


class FramebufferDisplay:
    """Linux framebuffer in RGB565 (e.g. an SPI panel driven by the kernel's fbtft/panel-mipi-dbi)."""

    def __init__(self, device: Path = Path("/dev/fb0"), size: tuple[int, int] | None = None,
                 sysfs: Path = Path("/sys/class/graphics/fb0")) -> None:
        self.device = Path(device)
        if not self.device.exists():
            raise DisplayError(f"no framebuffer at {self.device}")
        if size is None:
            try:
                w, h = (int(v) for v in (sysfs / "virtual_size").read_text().strip().split(","))
            except (OSError, ValueError) as err:
                raise DisplayError(f"cannot read the framebuffer size: {err}") from err
            size = (w, h)
        self.size = size

    def show(self, image) -> None:
        if image.size != self.size:
            image = image.resize(self.size)
        with open(self.device, "r+b") as fb:
            fb.write(rgb565(image))


class St7789Display:
    """ST7789 over SPI with luma.lcd. ``serial_interface`` replaces the SPI bus (tests pass one of luma's own
    interfaces that records what the driver sends) and ``gpio`` the backlight's GPIO module; ``device`` replaces
    the whole driver (luma's dummy device)."""

    def __init__(self, config, serial_interface=None, device=None, gpio=None) -> None:
        if device is not None:
            self.device = device
            return
        try:
            from luma.core.interface.serial import spi
            from luma.lcd.device import st7789
        except ImportError as err:
            raise DisplayError("luma.lcd is not installed (pip install luma.lcd)") from err
        try:
            interface = serial_interface or spi(port=config.spi_port, device=config.spi_device,
                                                gpio_DC=config.gpio_dc, gpio_RST=config.gpio_rst)
            backlight = {"gpio": gpio} if gpio is not None else {}
            self.device = st7789(interface, width=config.width, height=config.height, rotate=config.rotate,
                                 **backlight)
        except Exception as err:  # noqa: BLE001 - luma raises several kinds when the bus is missing
            raise DisplayError(f"no ST7789 on SPI {config.spi_port}.{config.spi_device}: {err}") from err

    def show(self, image) -> None:
        self.device.display(image.convert(self.device.mode))
