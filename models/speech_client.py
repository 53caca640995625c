"""The appliance's side of the speech worker: starts it, speaks through it, restarts it when it dies.

Why a plain child process on pipes (``subprocess``) rather than ``multiprocessing``: the appliance's process holds
CTranslate2 and onnxruntime threads, so it must never ``fork`` a copy of itself; ``subprocess`` starts a fresh
interpreter (``posix_spawn``/``vfork`` + ``exec``), as the "spawn" context would, but without pickling, a manager
thread or a resource tracker: the worker is one process with two pipes, its exit status says which signal ended it,
and the end of its stdin ends it (nothing is left behind if the appliance is killed). The audio crosses as raw
float32 bytes (``speech_wire``); ``tolk.device.bench.speech_worker`` measures what that costs.

A worker that dies (a signal, an exit, a closed pipe) or stays silent past ``CHUNK_TIMEOUT_S`` (then it is killed)
fails that request with ``TTS-CRASHED``: the router speaks the clause with espeak-ng instead. The crash is logged with
the signal and a new worker starts in the background; until it is ready, requests fail at once (espeak-ng speaks).
"""
from __future__ import annotations

import itertools
import logging
import signal
import subprocess
import sys
import threading
import time
from typing import Iterator

import numpy as np

from tolk.models.errors import ErrorCode
from tolk.models.speech_wire import FrameReader, WireError, WireTimeout, write_frame
from tolk.models.speech_worker import EngineSpec
from tolk.models.tts import Speech, TtsError

log = logging.getLogger(__name__)

# Start-up: Python, numpy, onnxruntime, Piper and the Kokoro session with its warm-up took 2-3 s on the build PC;
# a Pi 5 is about 3x slower. A worker that is not ready by then is killed and tried again.
START_TIMEOUT_S = 60.0
# The longest wait for one chunk: Kokoro's largest piece (400 phonemes, ~30 s of speech) takes ~9 s on the build
# PC at a real-time factor of 0.3; on a Pi 5 at ~1.0 it would take ~30 s. Past this the worker counts as hung.
CHUNK_TIMEOUT_S = 45.0
START_ATTEMPTS = 3  # a worker that dies while starting is tried again after 1, 2 s; then the neural voices stay off
CLOSE_WAIT_S = 3.0  # after its stdin closes, the worker ends within a chunk; then it is killed


def exit_reason(returncode: int | None) -> str:
    """``killed by SIGABRT`` / ``exited with status 1`` / ``still running`` for a process's return code."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


class _Process:
    """One running worker: the child process and the reader of its frames."""

    def __init__(self, env: dict[str, str] | None) -> None:
        self.popen = subprocess.Popen([sys.executable, "-m", "tolk.models.speech_worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, close_fds=True)
        self.reader = FrameReader(self.popen.stdout.fileno())
        self.pid = self.popen.pid

    def send(self, header: dict) -> None:
        write_frame(self.popen.stdin, header)

    def end(self, kill: bool = False) -> int:
        """Stop it (closing its stdin, which ends it; killed if ``kill`` or if it does not end) and reap it."""
        if kill:
            self.popen.kill()
        for stream in (self.popen.stdin, self.popen.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            return self.popen.wait(timeout=CLOSE_WAIT_S)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


def _relay_log(header: dict) -> None:
    logging.getLogger(str(header.get("name", __name__))).log(int(header.get("level", logging.INFO)),
                                                             "[speech worker] %s", header.get("message", ""))


class SpeechWorker:
    """A supervised speech worker loaded with ``specs``; :meth:`speak` from one thread at a time (it is locked)."""

    def __init__(self, specs: list[EngineSpec], *, env: dict[str, str] | None = None,
                 start_timeout: float = START_TIMEOUT_S, chunk_timeout: float = CHUNK_TIMEOUT_S) -> None:
        self.specs = list(specs)
        self.env = env
        self.start_timeout, self.chunk_timeout = start_timeout, chunk_timeout
        self.failed: dict[str, tuple[str, str]] = {}  # engine name -> (error code, why) it did not load in the worker
        self.starts = 0  # workers that became ready (1 + restarts)
        self.crashes = 0
        self.last_exit: int | None = None  # the return code of the last worker that died
        self.start_seconds: float | None = None  # the last start-up: spawn to ready
        self._ids = itertools.count(1)
        self._lock = threading.Lock()  # one request at a time
        self._state = threading.Lock()  # guards the fields below
        self._process: _Process | None = None
        self._starting: _Process | None = None
        self._starter: threading.Thread | None = None
        self._start_done = threading.Event()
        self._closed = threading.Event()
        self._unfinished: int | None = None  # a request left before its end (cancelled): its frames are skipped

    # ---- life cycle ------------------------------------------------------
    def start(self) -> "SpeechWorker":
        """Start the worker in the background (see :meth:`wait_ready`)."""
        with self._state:
            if self._closed.is_set() or (self._starter is not None and self._starter.is_alive()):
                return self
            self._start_done.clear()
            self._starter = threading.Thread(target=self._start_with_retries, name="speech-worker-start",
                                             daemon=True)
            self._starter.start()
        return self

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for the start in progress; True if a worker is ready."""
        self._start_done.wait(self.start_timeout * START_ATTEMPTS + 5 if timeout is None else timeout)
        return self.ready

    @property
    def ready(self) -> bool:
        return self._process is not None

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process else None

    def close(self) -> None:
        """Stop the worker (and a start in progress); nothing is left running."""
        self._closed.set()
        with self._state:
            processes = [p for p in (self._process, self._starting) if p is not None]
            self._process = self._starting = None
            starter = self._starter
        for process in processes:
            process.end()
        if starter is not None and starter is not threading.current_thread():
            starter.join(timeout=CLOSE_WAIT_S + 1)

    def __enter__(self) -> "SpeechWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _start_with_retries(self) -> None:
        try:
            for attempt in range(START_ATTEMPTS):
                if self._closed.is_set() or self._start_once():
                    return
                self._closed.wait(2.0 ** attempt)
            log.error("the speech worker did not start %d times; neural voices are off, espeak-ng speaks",
                      START_ATTEMPTS)
        finally:
            self._start_done.set()

    def _start_once(self) -> bool:
        started = time.monotonic()
        try:
            process = _Process(self.env)
        except OSError as err:
            log.error("the speech worker cannot be started: %s", err)
            return False
        with self._state:
            if self._closed.is_set():
                process.end(kill=True)
                return True
            self._starting = process
        try:
            process.send({"op": "start", "engines": [spec.to_dict() for spec in self.specs]})
            deadline = started + self.start_timeout
            while True:
                header, _ = process.reader.read(max(deadline - time.monotonic(), 0.0))
                if header.get("type") == "log":
                    _relay_log(header)
                elif header.get("type") == "ready":
                    break
        except (WireError, OSError, ValueError) as err:
            code = process.end(kill=isinstance(err, WireTimeout))
            if not self._closed.is_set():
                log.error("the speech worker did not start (%s): %s", exit_reason(code), err)
            with self._state:
                self._starting = None
            return False
        with self._state:
            self._starting = None
            if self._closed.is_set():
                process.end()
                return True
            self._process = process
            self._unfinished = None
        self.failed = {name: (str(code), str(why)) for name, (code, why) in header.get("failed", {}).items()}
        self.starts += 1
        self.start_seconds = time.monotonic() - started
        log.info("speech worker %d ready in %.2f s (%s)%s", process.pid, self.start_seconds,
                 ", ".join(spec.name for spec in self.specs) or "no engines",
                 f"; not loaded: {', '.join(self.failed)}" if self.failed else "")
        return True

    def _lost(self, process: _Process, why: str, kill: bool = False) -> TtsError:
        """``process`` is gone or hung: reap it, log how it ended, start another; the error for the request."""
        code = process.end(kill=kill)
        with self._state:
            if self._process is process:
                self._process = None
        self.crashes += 1
        self.last_exit = code
        log.error("speech worker %d %s (%s); restarting it, espeak-ng speaks meanwhile", process.pid,
                  exit_reason(code), why)
        if not self._closed.is_set():
            self.start()
        return TtsError(f"the speech worker {exit_reason(code)} ({why})", code=ErrorCode.TTS_CRASHED)

    # ---- speaking --------------------------------------------------------
    def speak(self, engine: str, text: str, language: str, voice: str | None = None) -> Iterator[Speech]:
        """``engine``'s chunks for ``text``; TtsError TTS-CRASHED if the worker dies, hangs or is not ready."""
        # held while the chunks are read; a bounded wait, so a request left open elsewhere cannot block this one
        if not self._lock.acquire(timeout=self.chunk_timeout):
            raise TtsError("the speech worker is busy with another request", code=ErrorCode.TTS_FAILED)
        try:
            process = self._process
            if process is None:
                raise TtsError("the speech worker is not running (it is restarting)", code=ErrorCode.TTS_CRASHED)
            request_id = next(self._ids)
            what = f"{engine}, {len(text)} characters in '{language}'"
            try:
                self._skip_unfinished(process)
                process.send({"op": "speak", "id": request_id, "engine": engine, "text": text, "language": language,
                              "voice": voice})
            except OSError as err:
                raise self._lost(process, f"{type(err).__name__} sending {what}") from None
            done = False
            try:
                while True:
                    header, payload = self._next(process, request_id, what)
                    kind = header.get("type")
                    if kind == "chunk":
                        audio = np.frombuffer(payload, dtype=np.float32)
                        yield Speech(audio, int(header["rate"]), str(header.get("text", text)),
                                     fallback=bool(header.get("fallback")), voice=str(header.get("voice", "")))
                    elif kind == "end":
                        done = True
                        return
                    elif kind == "error":
                        done = True
                        raise _worker_error(header)
            finally:
                if not done and self._process is process:  # left early (the turn was cancelled): stop the rest
                    self._unfinished = request_id
                    try:
                        process.send({"op": "cancel", "id": request_id})
                    except OSError:
                        pass  # gone: the next request finds out
        finally:
            self._lock.release()

    def _next(self, process: _Process, request_id: int, what: str) -> tuple[dict, bytearray]:
        """The next frame of ``request_id`` (log frames relayed, older requests' frames skipped)."""
        while True:
            try:
                header, payload = process.reader.read(self.chunk_timeout)
            except WireTimeout:
                raise self._lost(process, f"no answer in {self.chunk_timeout:.0f} s speaking {what}",
                                 kill=True) from None
            except (WireError, OSError, ValueError) as err:
                raise self._lost(process, f"{err} speaking {what}") from None
            if header.get("type") == "log":
                _relay_log(header)
            elif header.get("id") == request_id:
                return header, payload

    def _skip_unfinished(self, process: _Process) -> None:
        """Read past the rest of a request that was left early, up to its end (bounded by the chunk timeout)."""
        if self._unfinished is None:
            return
        left, self._unfinished = self._unfinished, None
        while True:
            header, _ = self._next(process, left, "the rest of a cancelled clause")
            if header.get("type") in ("end", "error"):
                return


def _worker_error(header: dict) -> TtsError:
    codes = {code.value: code for code in ErrorCode}
    code = codes.get(header.get("code") or "", ErrorCode.TTS_FAILED)
    return TtsError(str(header.get("message", "")), code=code)


class WorkerVoice:
    """A voice engine that runs in the speech worker, as the router sees it (in place of PiperTts / KokoroTts):
    ``voices`` are the Kokoro pack's voices per language, read from its manifest (nothing is loaded here)."""

    def __init__(self, worker: SpeechWorker, engine: str, voices: dict[str, list[str]] | None = None) -> None:
        self.worker, self.engine = worker, engine
        self.voices = voices or {}

    def speak(self, text: str, language: str, voice: str | None = None) -> Iterator[Speech]:
        return self.worker.speak(self.engine, text, language, voice)
