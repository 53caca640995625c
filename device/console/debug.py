"""Fault injection for the image's boot test: `debug hang|eat-memory|kill|service` on the console.

Only offered when the device config says ``[console] debug = true`` (the qemu profile; never the rpi default).
Each fault answers first and strikes a moment later, so its reply reaches the console before the service dies.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from typing import Any, Callable

MB = 2**20
# what the service's journal says when systemd stops or restarts it after a fault, or when Tolk starts on a
# damaged settings file or history (logged before the console's in-RAM log exists)
EVENT_WORDS = ("Watchdog timeout", "OOM", "oom-kill", "Main process exited", "Failed with result", "Scheduled restart",
               "is damaged", "bad values")


def hang(controller: Any, release: threading.Event, timeout: float = 10.0) -> bool:
    """Block the controller's main loop until ``release`` is set (on a device: never), so the loop stops pinging
    the systemd watchdog. True once the loop has entered the hang."""
    entered = threading.Event()

    def stuck() -> None:
        entered.set()
        release.wait()

    controller.post(stuck)
    return entered.wait(timeout)


class MemoryEater(threading.Thread):
    """Allocates (and touches) ``chunk_mb`` at a time until ``limit_mb``, or until the cgroup's MemoryMax has
    the kernel kill the process (``limit_mb=None``)."""

    def __init__(self, limit_mb: int | None = None, chunk_mb: int = 16, delay: float = 0.5) -> None:
        super().__init__(name="tolk-debug-eat-memory", daemon=True)
        self.limit_mb, self.chunk_mb, self.delay = limit_mb, chunk_mb, delay
        self.blocks: list[bytes] = []
        self.mb = 0

    def run(self) -> None:
        threading.Event().wait(self.delay)
        while self.limit_mb is None or self.mb < self.limit_mb:
            size = self.chunk_mb if self.limit_mb is None else min(self.chunk_mb, self.limit_mb - self.mb)
            self.blocks.append(b"\xa5" * (size * MB))  # non-zero bytes: every page is really in RAM
            self.mb += size


def kill_self(delay: float = 0.5, pid: int | None = None) -> threading.Timer:
    """SIGKILL this process (``kill -9`` of the service's main PID) after ``delay`` seconds."""
    timer = threading.Timer(delay, lambda: os.kill(os.getpid() if pid is None else pid, signal.SIGKILL))
    timer.daemon = True
    timer.start()
    return timer


def service_report(unit: str = "tolk.service", run: Callable[..., Any] = subprocess.run) -> dict:
    """The unit's restart count and limits (systemctl show) and its fault lines from this boot's journal."""
    if not shutil.which("systemctl"):
        return {"unit": unit, "show": {}, "events": [], "note": "systemd is not running here"}
    show = run(["systemctl", "show", unit, "-p", "NRestarts", "-p", "Result", "-p", "WatchdogUSec", "-p",
                "MemoryMax", "-p", "MemoryCurrent", "-p", "MainPID", "-p", "ActiveEnterTimestampMonotonic"],
               capture_output=True, text=True, timeout=20).stdout
    journal = run(["journalctl", "-b", "-u", unit, "-o", "short-monotonic", "--no-pager", "-n", "400"],
                  capture_output=True, text=True, timeout=30).stdout
    props = dict(line.split("=", 1) for line in show.splitlines() if "=" in line)
    events = [line for line in journal.splitlines() if any(word in line for word in EVENT_WORDS)]
    return {"unit": unit, "show": props, "events": events[-40:]}
