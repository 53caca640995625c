"""Clean shutdown on a low battery: sysfs readings, debouncing, and the controller's shutdown path."""
from __future__ import annotations

from pathlib import Path

from tolk.device.config import PowerConfig
from tolk.device.power import BatteryReading, LowBatteryWatch, read_battery
from tests.test_controller import make_controller, run_until


def fake_sys(root: Path, capacity: int, status: str) -> Path:
    ac = root / "class/power_supply/AC"
    ac.mkdir(parents=True, exist_ok=True)
    (ac / "type").write_text("Mains\n")
    bat = root / "class/power_supply/BAT0"
    bat.mkdir(parents=True, exist_ok=True)
    (bat / "type").write_text("Battery\n")
    (bat / "capacity").write_text(f"{capacity}\n")
    (bat / "status").write_text(f"{status}\n")
    return root


def test_reads_the_battery_from_sysfs(tmp_path):
    assert read_battery(fake_sys(tmp_path, 42, "Discharging")) == BatteryReading(42, True)
    assert read_battery(fake_sys(tmp_path, 100, "Full")) == BatteryReading(100, False)
    assert read_battery(tmp_path / "nothing") is None


def test_fires_once_after_consecutive_low_readings_while_discharging():
    readings = iter([BatteryReading(4, True), BatteryReading(30, True), BatteryReading(4, True),
                     BatteryReading(3, True), BatteryReading(2, True)])
    fired = []
    watch = LowBatteryWatch(fired.append, threshold=5, readings=2, read=lambda: next(readings))
    assert [watch.check() for _ in range(5)] == [False, False, False, True, False]
    assert fired == [3]


def test_charging_or_no_battery_never_shuts_down():
    fired = []
    for reading in (BatteryReading(1, False), None):
        watch = LowBatteryWatch(fired.append, readings=1, read=lambda r=reading: r)
        assert not any(watch.check() for _ in range(3))
    assert fired == []


def test_low_battery_shuts_the_appliance_down_with_a_notice(tmp_path):
    powered_off = []
    controller, *_ = make_controller(tmp_path, shutdown=lambda: powered_off.append(True))
    controller.start()
    watch = LowBatteryWatch(controller.low_battery_shutdown, readings=1, read=lambda: BatteryReading(4, True))
    assert watch.check()
    run_until(controller, lambda: controller.stopped.is_set())
    controller.close()  # what the loop does when it ends: the queued power-off runs
    assert powered_off == [True] and "Battery 4%" in controller.notice


def test_power_config_is_validated():
    assert PowerConfig().low_battery_percent == 5
    for bad in ({"low_battery_percent": 80}, {"battery_check_seconds": 0}):
        try:
            PowerConfig(**bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_holding_power_on_the_running_appliance_powers_off_before_run_returns(tmp_path):
    """`tolk run` returns when the loop stops; the power-off, queued on the devices worker by the last step,
    must have run by then (the process ends right after)."""
    from tolk.device.appliance import Appliance
    from tolk.device.controller import ButtonEvent
    from tolk.ui.frames import render
    from tolk.ui.outputs import MemoryDisplay

    powered_off = []
    controller, *_ = make_controller(tmp_path, shutdown=lambda: powered_off.append(True))
    controller.post(ButtonEvent("power", "hold"))
    Appliance(controller, MemoryDisplay(), (240, 240), render).run()
    assert controller.stopped.is_set() and powered_off == [True]
