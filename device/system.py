"""Readings about the running system for `status`: CPU temperature, RAM, battery when known."""
from __future__ import annotations

from pathlib import Path


def read_system(sys_root: Path = Path("/sys"), proc: Path = Path("/proc")) -> dict:
    out: dict = {"cpu_temp_c": None, "ram_total_mb": None, "ram_available_mb": None, "battery": "unknown"}
    try:
        out["cpu_temp_c"] = round(int((sys_root / "class/thermal/thermal_zone0/temp").read_text()) / 1000, 1)
    except (OSError, ValueError):
        pass
    try:
        info = dict(line.split(":", 1) for line in (proc / "meminfo").read_text().splitlines() if ":" in line)
        out["ram_total_mb"] = int(info["MemTotal"].split()[0]) // 1024
        out["ram_available_mb"] = int(info["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        pass
    for supply in sorted((sys_root / "class/power_supply").glob("*")) if (sys_root / "class/power_supply").is_dir() else ():
        try:
            if (supply / "type").read_text().strip() == "Battery":
                out["battery"] = f"{int((supply / 'capacity').read_text())}%"
                break
        except (OSError, ValueError):
            continue
    return out
