"""The speech worker process: every voice engine that runs native code on arbitrary text, outside the appliance.

Piper (its C++ extension), Kokoro (onnxruntime, and libespeak-ng for its phonemes) and any later engine with native
code (MBROLA, RHVoice) run here, so a crash in them (an abort, a segfault) ends this process and costs one clause;
the appliance's process keeps running and restarts it (``speech_client.SpeechWorker``). Run as
``python -m tolk.models.speech_worker``: frames (``speech_wire``) on stdin, frames on stdout.

Requests: ``start`` (the engines to load, as :class:`EngineSpec` dicts; answered by ``ready``), ``speak`` (one
clause; answered by ``chunk`` frames with the samples as payload, then ``end`` or ``error``) and ``cancel`` (stop a
clause after its current chunk). Log records travel as ``log`` frames, so they land in the appliance's log. The
worker ends at the end of its stdin: when the appliance goes, so does it.

Adding an engine: one builder in :data:`ENGINES` that returns an object with ``speak(text, language[, voice])``
yielding ``tts.Speech`` chunks; the loader names it in an :class:`EngineSpec`.
"""
from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from tolk.models.errors import ErrorCode, TolkError
from tolk.models.speech_wire import WireError, read_frame_blocking, write_frame

log = logging.getLogger("tolk.models.speech_worker")  # not "__main__" when run with -m

# Set in the worker's environment, the worker speaks text exactly as given: espeak_text.safe_text no longer spaces
# out dotted-letter runs in it (tests feed it the input that aborts libespeak-ng). Never set on a device.
UNSAFE_TEXT_ENV = "TOLK_SPEECH_WORKER_UNSAFE_TEXT"


@dataclass(frozen=True)
class EngineSpec:
    """One engine for the worker to load: ``name`` is how requests address it, ``kind`` picks its builder from
    :data:`ENGINES`, ``pack_dir`` is its (verified) pack folder when it has one, ``pack_id`` that pack's id (for
    the notice when it does not load)."""

    name: str
    kind: str
    pack_dir: str = ""
    pack_id: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "EngineSpec":
        return cls(str(data["name"]), str(data["kind"]), str(data.get("pack_dir", "")), str(data.get("pack_id", "")))


def _piper(spec: EngineSpec):
    from tolk.models.manifest import PackManifest
    from tolk.models.tts import PiperTts

    return PiperTts(Path(spec.pack_dir), PackManifest.load(Path(spec.pack_dir)))


def _kokoro(spec: EngineSpec):
    from tolk.models.manifest import PackManifest
    from tolk.models.tts_kokoro import KokoroTts

    kokoro = KokoroTts(Path(spec.pack_dir), PackManifest.load(Path(spec.pack_dir)))
    log.info("Kokoro voices ready (warm-up %.2f s)", kokoro.warm_up())
    return kokoro


def _espeak(spec: EngineSpec):
    from tolk.models.tts import EspeakTts

    return EspeakTts()


ENGINES: dict[str, Callable[[EngineSpec], object]] = {"piper": _piper, "kokoro": _kokoro, "espeak-ng": _espeak}


class _Out:
    """The worker's stdout, written by one thread at a time (the speaking loop and the log handler)."""

    def __init__(self, stream) -> None:
        self.stream, self.lock = stream, threading.Lock()

    def send(self, header: dict, payload: bytes | memoryview = b"") -> None:
        with self.lock:
            write_frame(self.stream, header, payload)


class _FrameLog(logging.Handler):
    def __init__(self, out: _Out) -> None:
        super().__init__(logging.DEBUG)
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.out.send({"type": "log", "level": record.levelno, "name": record.name,
                           "message": record.getMessage()})
        except (OSError, ValueError):
            pass  # the appliance is gone; the worker ends at its next read


def _load(specs: list[EngineSpec]) -> tuple[dict[str, object], dict[str, tuple[str, str]]]:
    """The engines that loaded, and for each that did not: its error code and why."""
    engines, failed = {}, {}
    for spec in specs:
        try:
            engines[spec.name] = ENGINES[spec.kind](spec)
        except Exception as err:  # noqa: BLE001 - one engine that does not load leaves the others speaking
            log.error("voice engine %s (%s) did not load: %s", spec.name, spec.kind, err)
            code = err.code if isinstance(err, TolkError) else ErrorCode.PACK_BROKEN
            failed[spec.name] = (str(code), f"{type(err).__name__}: {err}")
    return engines, failed


def _error_frame(request_id: int, err: Exception) -> dict:
    code = err.code.value if isinstance(err, TolkError) else None
    message = err.message if isinstance(err, TolkError) else f"{type(err).__name__}: {err}"
    return {"type": "error", "id": request_id, "code": code, "message": message}


def _speak(engines: dict[str, object], request: dict, out: _Out, cancelled: set[int]) -> None:
    request_id = int(request["id"])
    try:
        engine = engines.get(request["engine"])
        if engine is None:
            raise LookupError(f"no voice engine '{request['engine']}' in the speech worker")
        voice = request.get("voice")
        chunks = engine.speak(request["text"], request["language"], **({"voice": voice} if voice else {}))
        for speech in chunks:
            if request_id in cancelled:
                chunks.close()
                break
            audio = speech.audio if speech.audio.dtype.name == "float32" else speech.audio.astype("float32")
            out.send({"type": "chunk", "id": request_id, "rate": int(speech.sample_rate), "text": speech.text,
                      "fallback": bool(speech.fallback), "voice": speech.voice},
                     memoryview(audio.reshape(-1)).cast("B"))
    except Exception as err:  # noqa: BLE001 - the appliance decides what a failure means (espeak-ng speaks)
        out.send(_error_frame(request_id, err))
        return
    finally:
        cancelled.discard(request_id)
    out.send({"type": "end", "id": request_id})


def serve(stdin, stdout) -> None:
    """Answer requests until stdin ends."""
    out = _Out(stdout)
    root = logging.getLogger()
    root.handlers[:] = [_FrameLog(out)]
    root.setLevel(logging.INFO)
    if os.environ.get(UNSAFE_TEXT_ENV) == "1":
        from tolk.models import espeak_text

        espeak_text.BYPASS = True
        log.warning("speech worker: text goes to espeak-ng unchanged (%s=1, a test setting)", UNSAFE_TEXT_ENV)
    requests: "queue.Queue[dict | None]" = queue.Queue()
    cancelled: set[int] = set()

    def read() -> None:  # its own thread, so a cancel arrives while a clause is spoken
        try:
            while True:
                header, _ = read_frame_blocking(stdin)
                if header.get("op") == "cancel":
                    cancelled.add(int(header["id"]))
                else:
                    requests.put(header)
        except (WireError, OSError, ValueError):
            requests.put(None)

    threading.Thread(target=read, name="speech-worker-stdin", daemon=True).start()
    engines: dict[str, object] = {}
    while (request := requests.get()) is not None:
        if request.get("op") == "start":
            started = time.monotonic()
            engines, failed = _load([EngineSpec.from_dict(d) for d in request.get("engines", [])])
            out.send({"type": "ready", "failed": failed, "seconds": round(time.monotonic() - started, 3),
                      "pid": os.getpid()})
        elif request.get("op") == "speak":
            if int(request["id"]) in cancelled:
                cancelled.discard(int(request["id"]))
                out.send({"type": "end", "id": int(request["id"])})
                continue
            _speak(engines, request, out, cancelled)


def main() -> None:
    # The protocol gets its own copy of stdout; fd 1 then points at stderr, so a native library that prints
    # cannot corrupt a frame.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        serve(sys.stdin.buffer, protocol)
    except (BrokenPipeError, WireError):
        pass  # the appliance closed the pipe


if __name__ == "__main__":
    main()
