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
    def __init__(self, device: str | None = None, rate: int = 48000, volume: float = 0.8) -> None:
        self.device, self.rate, self.volume = device, rate, volume
        self._queue: "queue.Queue[tuple[np.ndarray, int]]" = queue.Queue()
        self._stop = threading.Event()
        self._playing = threading.Event()
        threading.Thread(target=self._run, name="tolk-playback", daemon=True).start()

    def available(self) -> bool:
        return _present(self.device, "output")

    def play(self, samples: np.ndarray, rate: int) -> None:
        self._stop.clear()
        self._queue.put((samples, rate))

    def stop(self) -> None:
        self._stop.set()
        while not self._queue.empty():
            self._queue.get_nowait()

    def busy(self) -> bool:
        return self._playing.is_set() or not self._queue.empty()

    def _run(self) -> None:
        import sounddevice as sd

        while True:
            samples, rate = self._queue.get()
            self._playing.set()
            try:
                index = _find_device(self.device, "output")
                signal = resample(samples, rate, self.rate) * self.volume
                with sd.OutputStream(device=index, samplerate=self.rate, channels=1, dtype="float32") as stream:
                    step = self.rate // 20
                    for i in range(0, signal.size, step):
                        if self._stop.is_set():
                            break
                        stream.write(signal[i:i + step].reshape(-1, 1))
            except (OSError, AudioDeviceError) as err:
                log.warning("playback failed: %s", err)
            finally:
                self._playing.clear()


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
