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
import weakref
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


ErrorCallback = Callable[[AudioDeviceError], None]  # a device failed under an open stream


# PortAudio lists its devices once, when it is initialised; ``rescan()`` initialises it again, which must never
# happen under an open stream (Pa_Terminate closes them all from under their threads). Opening and closing
# streams and rescanning all hold this lock; ``_OPEN_OUTPUTS`` counts the speakers' open streams, and
# ``_LIVE_MICS`` are the started microphones, whose streams a rescan closes and opens again on the new list.
_PA_LOCK = threading.RLock()
_OPEN_OUTPUTS = [0]
_LIVE_MICS: "weakref.WeakSet[SoundDeviceMicrophone]" = weakref.WeakSet()


def rescan() -> bool:
    """Make PortAudio look for devices again (it lists them once, at start): for hot-plugged USB audio.

    Safe with streams open: while a clip plays it does nothing and returns False (the caller tries again
    later); a started microphone's stream is closed around the rescan and opened again on the device found
    anew (when that fails, the microphone reports itself unavailable). True when the devices were listed again.
    """
    try:
        import sounddevice as sd
    except (OSError, ImportError) as err:
        log.warning("cannot rescan audio devices: %s", err)
        return False
    with _PA_LOCK:
        if _OPEN_OUTPUTS[0]:
            log.info("audio rescan deferred: a clip is playing")
            return False
        mics = list(_LIVE_MICS)
        for mic in mics:
            mic._suspend()
        try:
            sd._terminate()
            sd._initialize()
            done = True
        except Exception as err:  # noqa: BLE001 - sounddevice.PortAudioError is not an OSError
            log.warning("cannot rescan audio devices: %s: %s", type(err).__name__, err)
            done = False
        for mic in mics:
            mic._resume()
    return done


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
def _portaudio_errors() -> tuple[type[BaseException], ...]:
    import sounddevice as sd

    return (OSError, sd.PortAudioError)


def _find_device(name: str | None, kind: str) -> int | None:
    import sounddevice as sd

    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    with _PA_LOCK:
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
    except (AudioDeviceError, OSError, ImportError):
        return False


def _report(on_error: ErrorCallback | None, err: AudioDeviceError) -> None:
    if on_error is not None:
        try:
            on_error(err)
        except Exception:  # noqa: BLE001 - a failing listener must not take the audio thread down
            log.exception("the audio error listener failed")


FRAMES_QUEUED = 200  # capture blocks held between PortAudio's callback and the consumer (10 s at 50 ms)


class SoundDeviceMicrophone:
    """A PortAudio input stream; its callback only queues frames, the ``tolk-mic`` thread resamples and hands on.

    When the stream dies under it (the device unplugged, a host error) the microphone keeps the error in
    ``error``, calls ``on_error`` (from PortAudio's thread: it must only post) and reports itself unavailable
    until a ``rescan()`` opens its stream again or it is stopped.
    """

    def __init__(self, device: str | None = None, rate: int = 48000, block_seconds: float = 0.05,
                 on_error: ErrorCallback | None = None) -> None:
        self.device, self.rate, self.block = device, rate, int(rate * block_seconds)
        self.on_error = on_error
        self.error: AudioDeviceError | None = None
        self.dropped = 0  # blocks dropped because nobody took them (FRAMES_QUEUED)
        self._stream = None
        self._generation = 0  # bumped when we close a stream: its end is then ours, not the device's
        self._frames: "queue.Queue[np.ndarray | None] | None" = None
        self._thread: threading.Thread | None = None

    def available(self) -> bool:
        return self.error is None and _present(self.device, "input")

    def start(self, on_audio: AudioCallback) -> None:
        """Open the stream and start delivering chunks; a second start restarts with the new callback."""
        self.stop()
        self._frames = queue.Queue(FRAMES_QUEUED)
        with _PA_LOCK:
            self._open()
            _LIVE_MICS.add(self)
        self._on_audio = on_audio
        self._start_pump()

    def _start_pump(self) -> None:
        self._thread = threading.Thread(target=self._pump, args=(self._frames, self._on_audio), name="tolk-mic",
                                        daemon=True)
        self._thread.start()

    def revive(self) -> bool:
        """The supervisor's check: a capture thread that died while the stream runs is started again."""
        if self._thread is not None and not self._thread.is_alive() and self._frames is not None:
            log.error("the capture thread had died: started again")
            self._start_pump()
            return True
        return False

    def _open(self) -> None:
        import sounddevice as sd

        generation = self._generation
        try:
            index = _find_device(self.device, "input")
            stream = sd.InputStream(device=index, samplerate=self.rate, channels=1, dtype="float32",
                                    blocksize=self.block, callback=self._callback,
                                    finished_callback=lambda: self._finished(generation))
            stream.start()
        except _portaudio_errors() as err:
            raise no_mic(f"{type(err).__name__}: {err}") from err
        self._stream = stream

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        self._generation += 1
        if stream is not None:
            try:
                stream.abort()
            except Exception as err:  # noqa: BLE001 - a dead device may fail again on abort
                log.info("closing the input stream: %s: %s", type(err).__name__, err)
            stream.close(ignore_errors=True)

    def _callback(self, indata, frames, time_info, status) -> None:
        queued = self._frames
        if queued is not None:
            try:
                queued.put_nowait(indata[:, 0].copy())  # only copy: no work in the audio callback
            except queue.Full:
                self.dropped += 1  # the consumer is stuck: stale audio is dropped, the callback never blocks

    def _finished(self, generation: int) -> None:
        """PortAudio's thread: the stream has ended. Unless we closed it, the device failed."""
        if generation != self._generation:
            return
        self._generation += 1  # reported once
        err = no_mic("the input stream stopped (device unplugged or failing)")
        self.error = err
        log.warning("%s", err)
        _report(self.on_error, err)

    def _pump(self, frames: "queue.Queue[np.ndarray | None]", on_audio: AudioCallback) -> None:
        while (block := frames.get()) is not None:
            on_audio(resample(block, self.rate, ASR_RATE))

    def _suspend(self) -> None:  # rescan(), holding _PA_LOCK
        self._close()

    def _resume(self) -> None:  # rescan(), holding _PA_LOCK
        try:
            self._open()
            self.error = None
        except AudioDeviceError as err:
            self.error = err
            log.warning("the microphone did not come back after a rescan: %s", err)

    def stop(self) -> None:
        with _PA_LOCK:
            _LIVE_MICS.discard(self)
            self._close()
        if self._frames is not None:
            self._frames.put(None)
            self._frames = None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.error = None


_CLOSE = object()  # queued by SoundDeviceSpeaker.close(): the playback thread ends


class SoundDeviceSpeaker:
    """Plays queued clips on a PortAudio output stream from its own thread.

    Consecutive clips (the clauses of one answer) go through one open stream, so there is no stream set-up
    between them; the stream closes once the queue has been empty for ``linger_seconds``. A failure of the
    device (PortAudio's own error type included) becomes an ``AudioDeviceError`` in ``error``, passed to
    ``on_error`` (from the playback thread: it must only post), and the clip is dropped: the thread never
    dies, and the next clip tries the device again. ``stop()`` cuts the clip playing and drops the queue.
    """

    def __init__(self, device: str | None = None, rate: int = 48000, volume: float = 0.8,
                 linger_seconds: float = 0.3, on_error: ErrorCallback | None = None) -> None:
        self.device, self.rate, self.volume, self.linger = device, rate, volume, linger_seconds
        self.on_error = on_error
        self.error: AudioDeviceError | None = None
        self._queue: "queue.Queue[tuple[np.ndarray, int, int]]" = queue.Queue()
        self._epoch = 0  # bumped by stop(): a clip queued in an older epoch is cut
        self._lock = threading.Lock()
        self._pending = 0  # clips queued or playing: busy() never misses one between queue and stream
        self._playing = False  # the clip taken from the queue is not counted off yet
        self.failures = 0
        self._closed = False
        self.thread = threading.Thread(target=self._run, name="tolk-playback", daemon=True)
        self.thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Cut what plays, drop the queue and end the playback thread (its stream closes on the way out)."""
        self._closed = True
        self.stop()
        self._queue.put(_CLOSE)
        self.thread.join(timeout)

    def revive(self) -> bool:
        """The supervisor's check: a playback thread that died is started again (clips queued meanwhile play)."""
        if self.thread.is_alive() or self._closed:
            return False
        log.error("the playback thread had died: started again")
        with self._lock:
            self._playing = False
        self.thread = threading.Thread(target=self._run, name="tolk-playback", daemon=True)
        self.thread.start()
        return True

    def available(self) -> bool:
        return _present(self.device, "output")

    def play(self, samples: np.ndarray, rate: int) -> None:
        with self._lock:
            self._pending += 1
            self._queue.put((samples, rate, self._epoch))

    def stop(self) -> None:
        with self._lock:
            self._epoch += 1
            while True:
                try:
                    clip = self._queue.get_nowait()
                except queue.Empty:
                    break
                if clip is _CLOSE:
                    self._queue.put(_CLOSE)  # close() came first: the thread still has to see it
                    break
                self._pending -= 1

    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def _take(self, timeout: float | None) -> tuple[np.ndarray, int, int] | None:
        try:
            clip = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if clip is _CLOSE:
            return None
        with self._lock:
            self._playing = True
        return clip

    def _done_one(self) -> None:
        with self._lock:
            if self._playing:
                self._playing = False
                self._pending = max(0, self._pending - 1)

    def _run(self) -> None:
        while not self._closed:
            clip = self._take(None)
            if clip is None:  # closed
                return
            try:
                self._play_run(clip)
            except Exception as err:  # noqa: BLE001 - sounddevice.PortAudioError is not an OSError
                self.failures += 1
                failure = err if isinstance(err, AudioDeviceError) else no_speaker(
                    f"playback failed: {type(err).__name__}: {err}")
                self.error = failure
                log.warning("playback failed: %s", failure)
                _report(self.on_error, failure)
            finally:
                self._done_one()

    def _play_run(self, clip: tuple[np.ndarray, int, int] | None) -> None:
        """Play ``clip`` and whatever follows it closely, in one stream."""
        import sounddevice as sd

        with _PA_LOCK:
            index = _find_device(self.device, "output")
            stream = sd.OutputStream(device=index, samplerate=self.rate, channels=1, dtype="float32")
            _OPEN_OUTPUTS[0] += 1
        try:
            stream.start()
            while clip is not None:
                if not self._play_clip(stream, clip):
                    stream.abort()  # stopped: drop what the device still buffers
                    return
                self.error = None  # a clip played: the device works
                self._done_one()
                clip = self._take(self.linger)
        finally:
            with _PA_LOCK:
                stream.close(ignore_errors=True)
                _OPEN_OUTPUTS[0] -= 1

    def _play_clip(self, stream, clip: tuple[np.ndarray, int, int]) -> bool:
        """Write one clip in 50 ms steps; False when ``stop()`` cut it."""
        samples, rate, epoch = clip
        signal = (resample(samples, rate, self.rate) * self.volume).astype(np.float32)
        step = self.rate // 20
        for i in range(0, signal.size, step):
            if epoch != self._epoch:
                return False
            stream.write(signal[i:i + step].reshape(-1, 1))
        return epoch == self._epoch


# ---- fakes: test instruments and the simulator's devices ------------------------------------------
class FileMicrophone:
    """Plays a clip as the microphone (real time × ``speed``), then silence, until stopped."""

    def __init__(self, clip: Path | None = None, speed: float = 1.0, chunk_seconds: float = 0.1,
                 max_seconds: float | None = None) -> None:
        self.speed, self.chunk = speed, int(ASR_RATE * chunk_seconds)
        self.max_seconds = max_seconds  # a longer clip is AUDIO-TOO-LONG, its decoding stopped at the limit
        self.plugged = True
        self.clip_done = threading.Event()
        self._audio = np.zeros(0, dtype=np.float32)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if clip is not None:
            self.load(clip)

    def load(self, clip: Path) -> None:
        self._audio = load_audio(clip, max_seconds=self.max_seconds)
        self.clip_done.clear()

    def available(self) -> bool:
        return self.plugged

    def start(self, on_audio: AudioCallback) -> None:
        if not self.plugged:
            raise no_mic("the microphone is unplugged")
        self.stop()  # a second start restarts with the new callback
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
