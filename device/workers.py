"""Background threads for the appliance's slow work, and the bounded input queue of its main loop.

A :class:`Worker` runs jobs in order on its own thread (sound devices on one, storage on another, so a slow
SD-card fsync never delays a stream start). A job that raises is reported, never fatal: the worker carries on.
The supervisor (``Executor.supervise``) restarts a worker whose thread has died all the same.
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

Job = Callable[[], None]


class Worker:
    def __init__(self, name: str, on_error: Callable[[BaseException], None], maxsize: int = 256) -> None:
        self.name, self.on_error = name, on_error
        self._jobs: "queue.Queue[Job | None]" = queue.Queue(maxsize)
        self._thread: threading.Thread | None = None
        self.restarts = 0
        self.start()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def restart(self) -> None:
        self.restarts += 1
        log.error("worker %s had died: restarted (%d)", self.name, self.restarts)
        self.start()

    def submit(self, job: Job, timeout: float = 2.0) -> None:
        """Queue ``job``; when the worker is this far behind (``maxsize`` jobs), wait up to ``timeout`` s."""
        try:
            self._jobs.put(job, timeout=timeout)
        except queue.Full:
            log.error("worker %s is stuck: a job was dropped", self.name)
            self.on_error(TolkError(f"{self.name} is not answering: a job was dropped", code=ErrorCode.INTERNAL))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued job has run (tests, shutdown)."""
        done = threading.Event()
        try:
            self._jobs.put(done.set, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._jobs.put(None, timeout=timeout)
        except queue.Full:
            return
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception as err:  # noqa: BLE001 - one failed job must not end the worker
                log.warning("%s: %s: %s", self.name, type(err).__name__, err)
                self.on_error(err)


class InputQueue:
    """The main loop's one input queue, bounded. Policy when it fills (only when the loop is stuck):
    microphone audio is dropped at once (it is stale by the time the loop catches up, and a full queue must
    leave room for buttons); every other input waits up to ``block_seconds`` and is then dropped with an
    error in the log (systemd's watchdog restarts a loop stuck that long)."""

    def __init__(self, maxsize: int = 512, block_seconds: float = 2.0) -> None:
        self._queue: "queue.Queue[object]" = queue.Queue(maxsize)
        self.maxsize, self.block_seconds = maxsize, block_seconds
        self.dropped_audio = 0
        self.dropped = 0

    def put(self, item: object, *, droppable: bool = False) -> None:
        if droppable:
            if self._queue.qsize() >= self.maxsize // 2:
                self.dropped_audio += 1
                if self.dropped_audio % 100 == 1:
                    log.warning("main loop behind: %d audio chunks dropped so far", self.dropped_audio)
                return
            self._queue.put_nowait(item)
            return
        try:
            self._queue.put(item, timeout=self.block_seconds)
        except queue.Full:
            self.dropped += 1
            log.error("main loop not answering: input dropped (%s)", type(item).__name__)

    def get(self, timeout: float) -> object | None:
        try:
            return self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def qsize(self) -> int:
        return self._queue.qsize()

