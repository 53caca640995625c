"""Device configuration (pins, audio devices, display), parsed once at start from TOML into frozen dataclasses.

Example ``/etc/tolk/config.toml``::

    [buttons]
    talk_a = 5
    talk_b = 6
    [audio]
    input_device = "USB PnP Sound Device"
    output_device = "bcm2835 Headphones"
    [display]
    driver = "st7789"
    width = 240
    height = 240
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from tolk.models.errors import ErrorCode, TolkError


class ConfigError(TolkError, ValueError):
    code = ErrorCode.CONFIG_BAD


@dataclass(frozen=True)
class ButtonPins:
    """BCM GPIO numbers. GPIO 3 for power also wakes a halted Pi."""

    talk_a: int = 5
    talk_b: int = 6
    swap: int = 13
    menu: int = 19
    select: int = 26
    up: int = 20
    down: int = 21
    power: int = 3
    hold_seconds: float = 0.05  # a press shorter than this is contact bounce
    power_hold_seconds: float = 3.0

    def __post_init__(self) -> None:
        pins = self.pins()
        if len(set(pins.values())) != len(pins):
            raise ConfigError(f"two buttons share a GPIO pin: {pins}")
        if not all(0 <= p <= 27 for p in pins.values()):
            raise ConfigError("button pins must be BCM GPIO 0-27")

    def pins(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "int"}


@dataclass(frozen=True)
class AudioConfig:
    input_device: str | None = None  # a substring of the sounddevice name; None: the default device
    output_device: str | None = None
    capture_rate: int = 48000
    block_seconds: float = 0.05
    retry_seconds: float = 2.0  # how often a missing device is looked for again


@dataclass(frozen=True)
class DisplayConfig:
    driver: str = "png"  # st7789 | framebuffer | png | window
    width: int = 240
    height: int = 240
    rotate: int = 0
    spi_port: int = 0
    spi_device: int = 0
    gpio_dc: int = 24
    gpio_rst: int = 25
    frames_dir: str = "frames"

    def __post_init__(self) -> None:
        if self.driver not in ("st7789", "framebuffer", "png", "window", "memory"):
            raise ConfigError(f"display driver '{self.driver}' is not one of st7789, framebuffer, png, window")
        if (self.width, self.height) not in ((240, 240), (320, 240)):
            raise ConfigError("display size must be 240x240 or 320x240")


@dataclass(frozen=True)
class ConsoleConfig:
    passphrase: str | None = None  # release builds: required for commands that change state or read history
    debug: bool = False  # `debug hang|eat-memory|kill|service` fault injection: test images only (the qemu profile)

    def __post_init__(self) -> None:
        if not isinstance(self.debug, bool):
            raise ConfigError("[console] debug must be true or false")


@dataclass(frozen=True)
class PowerConfig:
    low_battery_percent: int = 5  # discharging at or below this: clean shutdown
    battery_check_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not 0 <= self.low_battery_percent <= 50:
            raise ConfigError("low_battery_percent must be between 0 and 50")
        if self.battery_check_seconds <= 0:
            raise ConfigError("battery_check_seconds must be positive")


@dataclass(frozen=True)
class LedConfig:
    pin: int | None = 12  # BCM GPIO of the status LED (device/leds.py); none: no LED

    def __post_init__(self) -> None:
        if self.pin is not None and not 0 <= self.pin <= 27:
            raise ConfigError("the status LED pin must be a BCM GPIO 0-27")


@dataclass(frozen=True)
class DeviceConfig:
    buttons: ButtonPins = field(default_factory=ButtonPins)
    audio: AudioConfig = field(default_factory=AudioConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    power: PowerConfig = field(default_factory=PowerConfig)
    led: LedConfig = field(default_factory=LedConfig)


_KINDS = {"int": int, "float": (int, float), "str": str, "bool": bool}
_ABOVE_ZERO = frozenset({"capture_rate", "block_seconds"})


def _check_values(section, name: str) -> None:
    """Each value of the type its field declares (``true`` is not a pin number, ``"5"`` is not a number), numbers
    finite (TOML allows ``nan`` and ``inf``), no ``*_seconds`` negative, and the capture rate and block above zero."""
    for f in fields(section):
        value, kinds = getattr(section, f.name), f.type.replace(" ", "").split("|")
        if value is None and "None" in kinds:
            continue
        if not any(isinstance(value, _KINDS[k]) and (k == "bool") == isinstance(value, bool)
                   for k in kinds if k in _KINDS):
            raise ConfigError(f"[{name}] {f.name} must be {' or '.join(kinds)}, not {value!r:.40}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"[{name}] {f.name} must be a finite number, not {value}")
        if f.name.endswith("_seconds") and value < 0:
            raise ConfigError(f"[{name}] {f.name} must not be negative, not {value}")
        if f.name in _ABOVE_ZERO and value <= 0:
            raise ConfigError(f"[{name}] {f.name} must be above zero, not {value}")


def _section(cls, data: dict, name: str):
    if not isinstance(data, dict):
        raise ConfigError(f"[{name}] must be a table")
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise ConfigError(f"[{name}]: unknown keys {', '.join(sorted(unknown))}")
    try:
        section = cls(**data)
    except TypeError as err:
        raise ConfigError(f"[{name}]: {err}") from err
    _check_values(section, name)
    return section


def load_config(path: Path | None) -> DeviceConfig:
    if path is None or not Path(path).exists():
        return DeviceConfig()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from err
    return DeviceConfig(buttons=_section(ButtonPins, data.get("buttons", {}), "buttons"),
                        audio=_section(AudioConfig, data.get("audio", {}), "audio"),
                        display=_section(DisplayConfig, data.get("display", {}), "display"),
                        console=_section(ConsoleConfig, data.get("console", {}), "console"),
                        power=_section(PowerConfig, data.get("power", {}), "power"),
                        led=_section(LedConfig, data.get("led", {}), "led"))
