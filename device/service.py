"""systemd integration without dependencies: sd_notify over $NOTIFY_SOCKET (READY, WATCHDOG, STATUS)."""
from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends notifications when run under systemd with Type=notify; does nothing otherwise."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC")
        self.watchdog_interval = int(usec) / 1e6 / 2 if usec and usec.isdigit() else None
        self._last_ping = 0.0

    def notify(self, message: str) -> None:
        if not self.address:
            return
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), address)
        except OSError as err:
            log.warning("sd_notify failed: %s", err)

    def ready(self, status: str = "ready") -> None:
        self.notify(f"READY=1\nSTATUS={status}")

    def watchdog(self) -> None:
        """Call from the controller's main loop only; rate-limited to half the watchdog period."""
        if self.watchdog_interval is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.watchdog_interval:
            self._last_ping = now
            self.notify("WATCHDOG=1")
