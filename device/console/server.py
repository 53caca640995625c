"""The appliance's local control socket: one ``Console`` per connection, one JSON reply per line.

A Unix socket (mode 0600) owned by the service: only local processes of the
same user (the serial console service) can reach it. Nothing listens on a network.
"""
from __future__ import annotations

import fcntl
import logging
import os
import socket
import socketserver
import stat
import threading
from pathlib import Path

from tolk.device.console.commands import MAX_LINE, ApplianceHandle, Console, fail
from tolk.models import paths
from tolk.models.errors import ErrorCode, TolkError

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


class SocketClaim:
    """This process's hold on the control socket's path, taken before models load and kept until it exits.

    An exclusive ``flock`` on ``<socket>.lock`` (the kernel drops it when the holder dies, however it dies) says
    whether another appliance is alive; a socket that still answers a connection (a holder without the lock) says
    so too. Either is APPLIANCE-RUNNING and nothing is touched. A socket left by a dead process is removed.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or socket_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = self.path.with_name(self.path.name + ".lock")
        self._fd: int | None = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = False
        except BlockingIOError:
            held = True
        if held or _answers(self.path):
            self.release()
            raise TolkError(f"{self.path}: another appliance is running and answering on it",
                            code=ErrorCode.APPLIANCE_RUNNING) from None
        if self.path.is_symlink() or self.path.exists():
            if not (self.path.is_symlink() or stat.S_ISSOCK(self.path.lstat().st_mode)):
                self.release()
                raise TolkError(f"{self.path}: not a socket; move it away", code=ErrorCode.FILE_ERROR)
            self.path.unlink()  # left by a process that died without closing it
            log.info("removed the stale control socket %s", self.path)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _answers(path: Path, timeout: float = 1.0) -> bool:
    """True when a process accepts connections on the socket ``path`` (or is too busy to say no in time)."""
    if not (path.exists() and stat.S_ISSOCK(path.stat().st_mode)):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(timeout)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except OSError:  # a timeout: a full backlog is a live listener
            return True
    return True


class ControlServer:
    def __init__(self, handle: ApplianceHandle, path: Path | None = None, passphrase: str | None = None,
                 claim: SocketClaim | None = None) -> None:
        self.claim = claim or SocketClaim(path)
        self.path = self.claim.path
        old_umask = os.umask(0o177)
        try:
            self._server = _Server(str(self.path), _Handler)
        except OSError:
            if claim is None:
                self.claim.release()
            raise
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
        self.claim.release()
