"""Recent log lines kept in RAM (logs live in RAM on the device) for `log tail`."""
from __future__ import annotations

import logging
import threading
from collections import deque


class RingLogHandler(logging.Handler):
    def __init__(self, capacity: int = 1000) -> None:
        super().__init__()
        self.lines: deque[tuple[int, str]] = deque(maxlen=capacity)
        self._counter = 0
        self._lock = threading.Lock()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a bad log call must not break logging
            text = record.getMessage() if record.args is None else str(record.msg)
        with self._lock:
            self._counter += 1
            self.lines.append((self._counter, text))

    def tail(self, count: int = 20, after: int = 0) -> list[tuple[int, str]]:
        with self._lock:
            return [(n, t) for n, t in self.lines if n > after][-count:]
