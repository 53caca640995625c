"""The serial side: a line editor on raw bytes (echo, backspace, history, tab completion), one reply per line.

Works on anything with ``read(n)`` / ``write(bytes)``: a pyserial port (UART, USB
gadget serial, a pty) or stdin/stdout. Bytes are collected up to a bound; a line
that grows past it is discarded up to its newline and answered with an error.
"""
from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path
from typing import Callable

from tolk.device.console.commands import COMMANDS, MAX_LINE, Console, Reply, fail
from tolk.models.errors import ErrorCode

log = logging.getLogger(__name__)
PROMPT = b"tolk> "


class SocketBackend:
    """Sends lines to the running appliance's control socket; None when it is not running."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._file = None

    def _connect(self) -> bool:
        if self._sock is not None:
            return True
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(600)
            sock.connect(str(self.path))
        except OSError:
            return False
        self._sock, self._file = sock, sock.makefile("rwb")
        return True

    def execute(self, line: bytes) -> Reply | None:
        """The appliance's reply, or None if it is down."""
        for _ in range(2):  # one reconnect if the appliance restarted
            if not self._connect():
                return None
            try:
                self._file.write(line + b"\n")
                self._file.flush()
                raw = self._file.readline()
                if raw:
                    data = json.loads(raw)
                    return Reply(data["ok"], data["text"], data.get("data"), data.get("code"))
            except (OSError, ValueError):
                pass
            self.close()
        return None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock, self._file = None, None


class Session:
    """One terminal: editing state, history, JSON mode; routes lines to the live appliance or offline."""

    def __init__(self, read: Callable[[int], bytes], write: Callable[[bytes], None],
                 backend: SocketBackend | None, offline: Console | None = None, echo: bool = True) -> None:
        self.read, self.write, self.backend = read, write, backend
        self.offline = offline or Console(None)
        self.echo = echo
        self.json_mode = False
        self.history: list[bytes] = []
        self._buffer = bytearray()
        self._overflow = False
        self._escape = b""
        self._history_pos = 0

    # -- output ----------------------------------------------------------------------
    def _out(self, data: bytes) -> None:
        try:
            self.write(data)
        except OSError as err:
            log.warning("console write failed: %s", err)

    def prompt(self) -> None:
        if not self.json_mode:
            self._out(PROMPT)

    def respond(self, reply: Reply) -> None:
        if self.json_mode:
            self._out(reply.to_json().encode("utf-8") + b"\n")
        elif reply.ok:
            if reply.text:
                self._out(reply.text.replace("\n", "\r\n").encode("utf-8") + b"\r\n")
        else:
            self._out(f"error [{reply.code}]: {reply.text}".replace("\n", "\r\n").encode("utf-8") + b"\r\n")

    # -- lines -------------------------------------------------------------------------
    def run_line(self, line: bytes) -> Reply:
        reply = self.backend.execute(line) if self.backend is not None else None
        if reply is None:  # appliance down: a few commands still work here
            reply = self.offline.execute(line)
        if reply.ok and isinstance(reply.data, dict) and "json" in reply.data and line.strip().startswith(b"json"):
            self.json_mode = bool(reply.data["json"])
        if reply.ok and isinstance(reply.data, dict) and reply.data.get("follow"):
            self._follow(line, reply)
            return reply
        self.respond(reply)
        return reply

    def _follow(self, line: bytes, first: Reply) -> None:
        """`log tail -f`: print new lines until any key arrives."""
        self.respond(first)
        last = first.data.get("last", 0)
        while True:
            key = self.read(1)
            if key:
                return
            reply = self.backend.execute(f"log tail 200 after={last}".encode()) if self.backend else None
            if reply is None or not reply.ok:
                return
            for _, text in reply.data.get("lines", []):
                self._out(text.encode("utf-8", "replace") + b"\r\n")
            last = reply.data.get("last", last)
            time.sleep(0.2)

    def feed(self, data: bytes) -> None:
        """Handle bytes as they arrive from the terminal."""
        for byte in data:
            self._byte(byte)

    def _byte(self, byte: int) -> None:
        if self._escape == b"\x1b" and byte != 0x5B:
            self._escape = b""  # a lone ESC: drop it, but the byte after it (Enter, a letter) still counts
        if self._escape or byte == 0x1B:
            self._escape += bytes([byte])
            if len(self._escape) >= 3:
                seq, self._escape = self._escape, b""
                if seq in (b"\x1b[A", b"\x1b[B"):
                    self._history_step(-1 if seq == b"\x1b[A" else 1)
            return
        if byte in (0x0D, 0x0A):
            if byte == 0x0A and getattr(self, "_last_cr", False):
                self._last_cr = False
                return
            self._last_cr = byte == 0x0D
            if self.echo and not self.json_mode:
                self._out(b"\r\n")
            self._submit()
            return
        self._last_cr = False
        if byte in (0x7F, 0x08):
            if self._buffer:
                while self._buffer and (self._buffer.pop() & 0xC0) == 0x80:  # drop a whole UTF-8 character
                    pass
                if self.echo and not self.json_mode:
                    self._out(b"\b \b")
            return
        if byte == 0x03:  # Ctrl-C: drop the line
            self._buffer.clear()
            self._overflow = False
            self._out(b"^C\r\n")
            self.prompt()
            return
        if byte == 0x09:
            self._complete()
            return
        if len(self._buffer) >= MAX_LINE:
            self._overflow = True
            return
        self._buffer.append(byte)
        if self.echo and not self.json_mode and 0x20 <= byte:
            self._out(bytes([byte]))

    def _submit(self) -> None:
        line, overflow = bytes(self._buffer), self._overflow
        self._buffer.clear()
        self._overflow = False
        if overflow:
            self.respond(fail(ErrorCode.CONSOLE_TOO_LONG, f"line too long (limit {MAX_LINE} bytes)"))
        elif line.strip():
            if not self.history or self.history[-1] != line:
                self.history = (self.history + [line])[-100:]
            self._history_pos = len(self.history)
            self.run_line(line)
        self.prompt()

    def _history_step(self, step: int) -> None:
        if not self.history:
            return
        self._history_pos = max(0, min(len(self.history), self._history_pos + step))
        entry = self.history[self._history_pos] if self._history_pos < len(self.history) else b""
        if self.echo and not self.json_mode:
            self._out(b"\b \b" * len(self._buffer.decode("utf-8", "replace")) + entry)
        self._buffer = bytearray(entry)

    def _complete(self) -> None:
        text = self._buffer.decode("utf-8", "replace")
        if " " in text:
            return
        matches = [name for name in COMMANDS if name.startswith(text)]
        if len(matches) == 1:
            rest = matches[0][len(text):] + " "
            self._buffer.extend(rest.encode())
            if self.echo and not self.json_mode:
                self._out(rest.encode())
        elif matches and self.echo and not self.json_mode:
            self._out(b"\r\n" + " ".join(matches).encode() + b"\r\n" + PROMPT + bytes(self._buffer))

    def serve(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Read and answer until ``stop()`` or end of input."""
        self._out(b"Tolk debug console - type help\r\n")
        self.prompt()
        while not stop():
            try:
                data = self.read(256)
            except OSError as err:
                log.warning("console read failed: %s", err)
                time.sleep(0.5)
                continue
            if data is None:
                return
            if data:
                self.feed(data)
