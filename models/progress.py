"""A small progress display for long steps (downloads, joining, hashing, conversion).

On a terminal it redraws one line; elsewhere (CI logs, the serial console) it
prints a line at most every few seconds so logs stay short.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, min_interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.min_interval = 0.2 if self.tty else min_interval
        self._label = ""
        self._total = 0
        self._done = 0
        self._last = 0.0

    def step(self, message: str) -> None:
        """Announce a new step on its own line."""
        self._end_bar()
        print(message, file=self.stream, flush=True)

    def start(self, label: str, total: int) -> None:
        self._end_bar()
        self._label, self._total, self._done, self._last = label, max(total, 1), 0, time.monotonic()

    def advance(self, nbytes: int) -> None:
        self._done += nbytes
        now = time.monotonic()
        if now - self._last >= self.min_interval or self._done >= self._total:
            self._last = now
            pct = min(100.0, 100.0 * self._done / self._total)
            text = f"  {self._label}: {pct:5.1f}% of {self._total / 1e6:,.0f} MB"
            if self.tty:
                print("\r" + text, end="", file=self.stream, flush=True)
            else:
                print(text, file=self.stream, flush=True)

    def _end_bar(self) -> None:
        if self.tty and self._label:
            print(file=self.stream)
        self._label = ""


class QuietProgress(Progress):
    """Progress that shows nothing (tests, library use)."""

    def step(self, message: str) -> None:  # noqa: D102
        pass

    def advance(self, nbytes: int) -> None:  # noqa: D102
        pass
