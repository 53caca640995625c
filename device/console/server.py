"""The appliance's local control socket: one ``Console`` per connection, one JSON reply per line.

A Unix socket (mode 0600) owned by the service: only local processes of the
same user (the serial console service) can reach it. Nothing listens on a network.
"""
from __future__ import annotations

import logging
import os
import socketserver
import threading
from pathlib import Path

from tolk.device.console.commands import MAX_LINE, ApplianceHandle, Console, fail
from tolk.models import paths
from tolk.models.errors import ErrorCode

log = logging.getLogger(__name__)


def socket_path() -> Path:
    env = os.environ.get("TOLK_CONTROL_SOCKET")
    return Path(env) if env else paths.data_dir() / "control.sock"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        console = Console(self.server.handle, self.server.passphrase)
        while True:
            line = self.rfile.readline(MAX_LINE + 2)
            if not line:
                return
            if not line.endswith(b"\n"):  # over-long: skip the rest of it
                while (more := self.rfile.readline(MAX_LINE + 2)) and not more.endswith(b"\n"):
                    pass
                reply = fail(ErrorCode.CONSOLE_TOO_LONG, f"line too long (limit {MAX_LINE} bytes)")
            else:
                reply = console.execute(line.rstrip(b"\r\n"))
            self.wfile.write(reply.to_json().encode("utf-8") + b"\n")
            self.wfile.flush()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class ControlServer:
    def __init__(self, handle: ApplianceHandle, path: Path | None = None, passphrase: str | None = None) -> None:
        self.path = Path(path or socket_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()
        old_umask = os.umask(0o177)
        try:
            self._server = _Server(str(self.path), _Handler)
        finally:
            os.umask(old_umask)
        self._server.handle = handle
        self._server.passphrase = passphrase
        self._thread = threading.Thread(target=self._server.serve_forever, name="tolk-control", daemon=True)

    def start(self) -> "ControlServer":
        self._thread.start()
        log.info("control socket at %s", self.path)
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)
