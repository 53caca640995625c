"""Facts about the board Tolk runs on: model name and RAM."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BoardInfo:
    model: str
    ram_mb: int


def read_board(proc: Path = Path("/proc"), device_tree: Path = Path("/proc/device-tree/model")) -> BoardInfo:
    ram_mb = 0
    try:
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_mb = int(line.split()[1]) // 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    try:
        model = device_tree.read_bytes().rstrip(b"\x00").decode("utf-8", "replace").strip()
    except OSError:
        model = "PC (no device tree)"
    return BoardInfo(model=model or "unknown", ram_mb=ram_mb)
