"""Playback sinks for the latency bench: they time the first sample handed to the output device.

"First audio" is measured at the playback write, not at the ``AudioOut`` event: the sink's
writer thread stamps ``time.monotonic()`` just before its first ``write`` call. Two sinks share
that writer loop (50 ms blocks, like the device's ``SoundDeviceSpeaker``):

* ``PortAudioSink``: a PortAudio output stream (sounddevice), used when the machine has an output
  device. ``tolk.audio.devices.SoundDeviceSpeaker`` has no hook on its write, so this sink opens the
  same kind of stream (48 kHz mono float32, the device chosen by ``tolk.audio.devices``) itself.
* ``FileSink``: a 16-bit WAV file written at real-time pace, for machines without an output
  device (a container, CI). Its first write is a file write, so it slightly flatters the result
  next to a real device (no device buffer to open); the report says which sink ran.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import wave
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from tolk.audio.clip import resample

log = logging.getLogger(__name__)
BLOCK_SECONDS = 0.05


class TimedSink(Protocol):
    kind: str
    first_write_at: float | None

    def play(self, samples: np.ndarray, rate: int) -> None: ...  # queued, returns at once
    def wait_first_write(self, timeout: float) -> float | None: ...
    def close(self, drain: bool = True) -> None: ...  # drain=False: drop what is not played yet


class _WriterSink:
    """Queue + writer thread; subclasses open/write/close the actual output."""

    kind = "abstract"

    def __init__(self, rate: int = 48000, realtime: bool = True) -> None:
        self.rate, self.realtime = rate, realtime
        self.first_write_at: float | None = None
        self.samples_written = 0
        self._first = threading.Event()
        self._stop = threading.Event()
        self._queue: "queue.Queue[tuple[np.ndarray, int] | None]" = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"bench-{self.kind}-sink", daemon=True)
        self._thread.start()

    # -- subclass interface
    def _open(self) -> None: ...
    def _write(self, block: np.ndarray) -> None: ...
    def _close(self) -> None: ...

    # -- public
    def play(self, samples: np.ndarray, rate: int) -> None:
        self._queue.put((np.asarray(samples, dtype=np.float32), rate))

    def wait_first_write(self, timeout: float) -> float | None:
        self._first.wait(timeout)
        return self.first_write_at

    def close(self, drain: bool = True) -> None:
        if not drain:
            self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=60)

    # -- the writer loop
    def _write_block(self, block: np.ndarray) -> None:
        if self.first_write_at is None:
            self.first_write_at = time.monotonic()
            self._first.set()
        self._write(block)
        self.samples_written += block.size

    def _run(self) -> None:
        opened, started = False, 0.0
        try:
            while (item := self._queue.get()) is not None:
                samples, rate = item
                signal = resample(samples, rate, self.rate) if rate != self.rate else samples
                if not opened:
                    self._open()
                    opened, started = True, time.monotonic()
                step = max(1, int(self.rate * BLOCK_SECONDS))
                for i in range(0, signal.size, step):
                    if self._stop.is_set():
                        break
                    self._write_block(signal[i:i + step])
                    if self.realtime:  # a file takes data at once; a speaker at its rate
                        time.sleep(max(0.0, started + self.samples_written / self.rate - time.monotonic()))
        except Exception:  # noqa: BLE001 - the bench reports a missing first write, not a traceback
            log.exception("%s sink failed", self.kind)
        finally:
            if opened:
                self._close()
            self._first.set()


class FileSink(_WriterSink):
    """Writes 16-bit mono WAV at real-time pace; ``path`` keeps what was 'played'."""

    kind = "file"

    def __init__(self, path: Path, rate: int = 48000, realtime: bool = True) -> None:
        self.path = Path(path)
        self._wav: wave.Wave_write | None = None
        super().__init__(rate, realtime)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wav = wave.open(str(self.path), "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(self.rate)

    def _write(self, block: np.ndarray) -> None:
        assert self._wav is not None
        self._wav.writeframes((np.clip(block, -1.0, 1.0) * 32767).astype("<i2").tobytes())

    def _close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None


class NullSink(_WriterSink):
    """Discards the audio (warm-up turns)."""

    kind = "null"

    def __init__(self) -> None:
        super().__init__(realtime=False)


class PortAudioSink(_WriterSink):
    kind = "portaudio"

    def __init__(self, device: str | None = None, rate: int = 48000) -> None:
        self.device = device
        self._stream = None
        super().__init__(rate, realtime=False)  # stream.write blocks at the device's pace

    def _open(self) -> None:
        import sounddevice as sd

        from tolk.audio.devices import _find_device

        self._stream = sd.OutputStream(device=_find_device(self.device, "output"), samplerate=self.rate,
                                       channels=1, dtype="float32")
        self._stream.start()

    def _write(self, block: np.ndarray) -> None:
        self._stream.write(block.reshape(-1, 1))

    def _close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


def _present(device: str | None) -> bool:
    """A PortAudio output device exists (``tolk.audio.devices`` decides, as on the device)."""
    try:
        from tolk.audio.devices import _present as present

        return present(device, "output")
    except (ImportError, OSError):
        return False


SinkFactory = Callable[[str], TimedSink]


def sink_factory(folder: Path, prefer: str = "auto") -> tuple[SinkFactory, str]:
    """A factory of fresh sinks (one per turn, named by the turn) and the sink kind it makes."""
    if prefer in ("auto", "portaudio") and _present(None):
        return (lambda name: PortAudioSink()), PortAudioSink.kind
    if prefer == "portaudio":
        log.warning("no PortAudio output device: using the file sink")
    return (lambda name: FileSink(Path(folder) / f"{name}.wav")), FileSink.kind
