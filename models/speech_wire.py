"""The speech worker's wire format: frames over a pipe, a small JSON header and raw bytes (the audio).

A frame is 8 bytes (header length, payload length; big-endian unsigned 32-bit), the header as UTF-8 JSON, then the
payload: for audio, the float32 samples as they are in memory (no pickle, no copy into text). Both ends are this
machine, so the byte order of the samples is the native one.
"""
from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import BinaryIO

_PREFIX = struct.Struct(">II")
MAX_HEADER = 1 << 20  # a header is a few hundred bytes; a larger length means the stream is out of step
MAX_PAYLOAD = 1 << 28  # 256 MB: far above the longest chunk (400 phonemes ≈ 30 s at 24 kHz = 2.9 MB)


class WireError(Exception):
    """The other end closed the pipe (EOF), or sent something that is not a frame."""


class WireTimeout(WireError):
    """No complete frame before the deadline."""


def write_frame(stream: BinaryIO, header: dict, payload: bytes | memoryview = b"") -> None:
    data = json.dumps(header, ensure_ascii=False).encode("utf-8")
    stream.write(_PREFIX.pack(len(data), len(payload)) + data)
    if len(payload):
        stream.write(payload)
    stream.flush()


def read_frame_blocking(stream: BinaryIO) -> tuple[dict, bytes]:
    """The next frame from a blocking stream (the worker's stdin); WireError at EOF."""
    head_len, payload_len = _PREFIX.unpack(_read_exactly(stream, _PREFIX.size))
    _check_lengths(head_len, payload_len)
    return json.loads(_read_exactly(stream, head_len)), _read_exactly(stream, payload_len)


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) != size:
        raise WireError("end of stream")
    return data


def _check_lengths(head_len: int, payload_len: int) -> None:
    if head_len > MAX_HEADER or payload_len > MAX_PAYLOAD:
        raise WireError(f"not a frame (header {head_len} bytes, payload {payload_len} bytes)")


class FrameReader:
    """Frames from a pipe's file descriptor, each read with a deadline (the client's side: a hung worker must not
    hang the appliance)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()

    def read(self, timeout: float) -> tuple[dict, bytearray]:
        deadline = time.monotonic() + timeout
        head_len, payload_len = _PREFIX.unpack(self._take(_PREFIX.size, deadline))
        _check_lengths(head_len, payload_len)
        header = json.loads(self._take(head_len, deadline))
        return header, self._take(payload_len, deadline)

    def _take(self, size: int, deadline: float) -> bytearray:
        while len(self._buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise WireTimeout(f"no answer within the deadline ({len(self._buffer)} of {size} bytes)")
            data = os.read(self.fd, max(size - len(self._buffer), 1 << 16))
            if not data:
                raise WireError("end of stream")
            self._buffer += data
        out = self._buffer[:size]  # a copy the caller owns (numpy views of it are writable)
        del self._buffer[:size]
        return out
