"""Low battery: watch the battery (Linux power_supply class) and shut down cleanly before the cell gives out.

A UPS/battery HAT with a kernel fuel-gauge driver (e.g. MAX17040, BQ27xxx) shows up as
``/sys/class/power_supply/<name>`` with ``type`` = Battery, ``capacity`` and ``status``.
A cut while writing settings or history is survivable (atomic writes, journalled data
partition) but a clean shutdown is better, and the screen says why the device turned off.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatteryReading:
    percent: int
    discharging: bool


def read_battery(sys_root: Path = Path("/sys")) -> BatteryReading | None:
    """The first battery's charge and whether it is discharging; None when the board reports no battery."""
    supplies = sys_root / "class" / "power_supply"
    for supply in sorted(supplies.glob("*")) if supplies.is_dir() else ():
        try:
            if (supply / "type").read_text().strip() != "Battery":
                continue
            percent = int((supply / "capacity").read_text().strip())
            status = (supply / "status").read_text().strip() if (supply / "status").exists() else "Unknown"
        except (OSError, ValueError):
            continue
        return BatteryReading(percent, status == "Discharging")
    return None


class LowBatteryWatch:
    """Calls ``on_low(percent)`` once, after ``readings`` checks in a row found the battery discharging at or
    below ``threshold`` percent (one noisy fuel-gauge reading never powers the device off)."""

    def __init__(self, on_low: Callable[[int], None], *, threshold: int = 5, readings: int = 2,
                 interval: float = 30.0, read: Callable[[], BatteryReading | None] = read_battery) -> None:
        self.on_low, self.threshold, self.readings, self.interval, self.read = on_low, threshold, readings, interval, read
        self._low_count = 0
        self.fired = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """One reading; True when it fired the shutdown."""
        if self.fired:
            return False
        reading = self.read()
        low = reading is not None and reading.discharging and reading.percent <= self.threshold
        self._low_count = self._low_count + 1 if low else 0
        if self._low_count >= self.readings:
            self.fired = True
            log.warning("battery at %d%% and discharging: shutting down", reading.percent)
            self.on_low(reading.percent)
            return True
        return False

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.check()
                except Exception:  # a flaky sensor must never take the appliance down
                    log.exception("battery check failed")

        self._thread = threading.Thread(target=loop, name="battery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
