"""Microphone and speaker behind small interfaces: sounddevice on the device, fakes for tests and the simulator.

Audio callbacks only copy frames into a queue; a worker thread resamples to
16 kHz mono and hands chunks on, so a slow consumer never makes PortAudio drop
input. A missing device is an ``AudioDeviceError`` with a code the screen shows;
the controller retries and recovers when the device comes back.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from tolk.audio.clip import ASR_RATE, load_audio, resample, write_wav
from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)
AudioCallback = Callable[[np.ndarray], None]


class AudioDeviceError(TolkError):
    code = ErrorCode.AUDIO_DEVICE


def no_mic(detail: str) -> AudioDeviceError:
    return AudioDeviceError(f"No microphone: {detail}", code=ErrorCode.AUDIO_NO_MIC)


def no_speaker(detail: str) -> AudioDeviceError:
    return AudioDeviceError(f"No speaker: {detail}", code=ErrorCode.AUDIO_NO_SPEAKER)


def rescan() -> None:
    """Make PortAudio look for devices again (it lists them once, at start): for hot-plugged USB audio.
    Only call while no stream is open (the controller does, from its error state)."""
    try:
        import sounddevice as sd

        sd._terminate()
        sd._initialize()
    except (OSError, ImportError, AttributeError) as err:
        log.warning("cannot rescan audio devices: %s", err)


class Microphone(Protocol):
    def available(self) -> bool: ...
    def start(self, on_audio: AudioCallback) -> None: ...  # 16 kHz mono float32 chunks
    def stop(self) -> None: ...


class Speaker(Protocol):
    volume: float

    def available(self) -> bool: ...
    def play(self, samples: np.ndarray, rate: int) -> None: ...  # queued, returns at once
    def stop(self) -> None: ...  # interrupt what is playing
    def busy(self) -> bool: ...


# ---- sounddevice ----------------------------------------------------------------------------------
def _find_device(name: str | None, kind: str) -> int | None:
    import sounddevice as sd

    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = [(i, d) for i, d in enumerate(sd.query_devices()) if d[channels] > 0]
    if not devices:
        raise (no_mic if kind == "input" else no_speaker)("no audio device found")
    if name is None:
        return None
    for index, device in devices:
        if name.lower() in device["name"].lower():
            return index
    raise (no_mic if kind == "input" else no_speaker)(f"no device named '{name}'")


def _present(name: str | None, kind: str) -> bool:
    try:
        _find_device(name, kind)
        return True
    except (AudioDeviceError, OSError):
        return False


class SoundDeviceMicrophone:
    def __init__(self, device: str | None = None, rate: int = 48000, block_seconds: float = 0.05) -> None:
        self.device, self.rate, self.block = device, rate, int(rate * block_seconds)
        self._stream = None
        self._frames: "queue.Queue[np.ndarray | None]" = queue.Queue()
        self._thread: threading.Thread | None = None

    def available(self) -> bool:
        return _present(self.device, "input")

    def start(self, on_audio: AudioCallback) -> None:
        try:
            import sounddevice as sd

            index = _find_device(self.device, "input")
            self._stream = sd.InputStream(device=index, samplerate=self.rate, channels=1, dtype="float32",
                                          blocksize=self.block, callback=self._callback)
            self._stream.start()
        except (OSError, AudioDeviceError) as err:
            raise err if isinstance(err, AudioDeviceError) else no_mic(str(err)) from err
        self._thread = threading.Thread(target=self._pump, args=(on_audio,), name="tolk-mic", daemon=True)
        self._thread.start()

    def _callback(self, indata, frames, time_info, status) -> None:
        self._frames.put(indata[:, 0].copy())  # only copy: no work in the audio callback

    def _pump(self, on_audio: AudioCallback) -> None:
        while (block := self._frames.get()) is not None:
            on_audio(resample(block, self.rate, ASR_RATE))

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        self._frames.put(None)
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None


class SoundDeviceSpeaker:
    """Plays queued clips on a PortAudio output stream from its own thread.

    Consecutive clips (the clauses of one answer) go through one open stream, so there is no stream set-up
    between them; the stream closes once the queue has been empty for ``linger_seconds``. A failure of the
    device (PortAudio's own error type included) is logged and the clip dropped: the thread never dies, and the
    next clip tries the device again.
    """

    def __init__(self, device: str | None = None, rate: int = 48000, volume: float = 0.8,
                 linger_seconds: float = 0.3) -> None:
        self.device, self.rate, self.volume, self.linger = device, rate, volume, linger_seconds
        self._queue: "queue.Queue[tuple[np.ndarray, int]]" = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending = 0  # clips queued or playing: busy() never misses one between queue and stream
        self.failures = 0
        threading.Thread(target=self._run, name="tolk-playback", daemon=True).start()

    def available(self) -> bool:
        return _present(self.device, "output")

    def play(self, samples: np.ndarray, rate: int) -> None:
        with self._lock:
            self._stop.clear()
            self._pending += 1
            self._queue.put((samples, rate))

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            while True:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
                self._pending -= 1

    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def _done_one(self) -> None:
        with self._lock:
            self._pending = max(0, self._pending - 1)

    def _run(self) -> None:
        while True:
            clip = self._queue.get()
            try:
                self._play_run(clip)
            except Exception as err:  # noqa: BLE001 - sounddevice.PortAudioError is not an OSError
                self.failures += 1
                log.warning("playback failed: %s: %s", type(err).__name__, err)
                self._done_one()

    def _play_run(self, clip: tuple[np.ndarray, int]) -> None:
        """Play ``clip`` and whatever follows it closely, in one stream."""
        import sounddevice as sd

        index = _find_device(self.device, "output")
        with sd.OutputStream(device=index, samplerate=self.rate, channels=1, dtype="float32") as stream:
            while clip is not None:
                samples, rate = clip
                signal = resample(samples, rate, self.rate) * self.volume
                step = self.rate // 20
                for i in range(0, signal.size, step):
                    if self._stop.is_set():
                        break
                    stream.write(signal[i:i + step].reshape(-1, 1))
                self._done_one()
                try:
                    clip = self._queue.get(timeout=self.linger)
                except queue.Empty:
                    clip = None


# ---- fakes: test instruments and the simulator's devices ------------------------------------------
class FileMicrophone:
    """Plays a clip as the microphone (real time × ``speed``), then silence, until stopped."""

    def __init__(self, clip: Path | None = None, speed: float = 1.0, chunk_seconds: float = 0.1) -> None:
        self.speed, self.chunk = speed, int(ASR_RATE * chunk_seconds)
        self.plugged = True
        self.clip_done = threading.Event()
        self._audio = np.zeros(0, dtype=np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if clip is not None:
            self.load(clip)

    def load(self, clip: Path) -> None:
        self._audio = load_audio(clip)
        self.clip_done.clear()

    def available(self) -> bool:
        return self.plugged

    def start(self, on_audio: AudioCallback) -> None:
        if not self.plugged:
            raise no_mic("the microphone is unplugged")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(on_audio,), name="fake-mic", daemon=True)
        self._thread.start()

    def _run(self, on_audio: AudioCallback) -> None:
        audio, self._audio = self._audio, np.zeros(0, dtype=np.float32)  # each clip plays once
        started, sent = time.monotonic(), 0
        while not self._stop.is_set():
            block = audio[sent:sent + self.chunk]
            if block.size < self.chunk:
                block = np.concatenate([block, np.zeros(self.chunk - block.size, dtype=np.float32)])
                if sent >= audio.size:
                    self.clip_done.set()
            on_audio(block)
            sent += self.chunk
            time.sleep(max(0.0, started + sent / ASR_RATE / self.speed - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None


class RecordingSpeaker:
    """Records what would be played (at ``rate``); can write it to a WAV file."""

    def __init__(self, rate: int = 22050, volume: float = 0.8) -> None:
        self.rate, self.volume = rate, volume
        self.plugged = True
        self.chunks: list[np.ndarray] = []
        self.stopped = 0

    def available(self) -> bool:
        return self.plugged

    def play(self, samples: np.ndarray, rate: int) -> None:
        if not self.plugged:
            raise no_speaker("the speaker is unplugged")
        self.chunks.append(resample(samples, rate, self.rate) * self.volume)

    def stop(self) -> None:
        self.stopped += 1

    def busy(self) -> bool:
        return False

    @property
    def seconds(self) -> float:
        return sum(c.size for c in self.chunks) / self.rate

    def write(self, path: Path) -> Path:
        signal = np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)
        return write_wav(path, signal, self.rate)
