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


def read_mounts(proc: Path = Path("/proc")) -> dict[str, dict]:
    """Mount point -> {device, type, read_only} from /proc/mounts (the last mount on a point wins)."""
    mounts: dict[str, dict] = {}
    try:
        for line in (proc / "mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 4:
                point = parts[1].replace("\\040", " ")
                mounts[point] = {"device": parts[0], "type": parts[2], "read_only": "ro" in parts[3].split(",")}
    except OSError:
        pass
    return mounts


def failed_units(run: Path = Path("/run/systemd/system")) -> list[str] | None:
    """Units systemd reports as failed; None when systemd is not PID 1 (a PC, a container)."""
    import shutil
    import subprocess

    if not run.is_dir() or not shutil.which("systemctl"):
        return None
    try:
        out = subprocess.run(["systemctl", "--failed", "--plain", "--no-legend", "--no-pager"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def read_health(data_dir: Path, proc: Path = Path("/proc")) -> dict:
    """What a firmware image's boot test and a support person want at a glance: root read-only, failed
    units, the data partition's size and free space."""
    import os

    mounts = read_mounts(proc)
    root = mounts.get("/")
    out: dict = {"root_fs": ("ro" if root["read_only"] else "rw") if root else "unknown"}
    units = failed_units()
    if units is not None:
        out["failed_units"] = units
    try:
        st = os.statvfs(data_dir)
        out["data_mb"] = st.f_blocks * st.f_frsize // 2**20
        out["data_free_mb"] = st.f_bavail * st.f_frsize // 2**20
    except OSError:
        pass
    return out
