"""What the speech worker process costs: ``python -m tolk.device.bench.speech_worker [--runs 20]``.

Measures, on the installed packs, with the runs of the two ways interleaved (so load on the machine hits both):

- the IPC round trip: a request the worker answers at once (an engine it does not have), no synthesis;
- one audio frame through a pipe (3 s at 24 kHz, float32: 288 kB), written and read as the worker and client do;
- the first audio of a 6-word clause, in this process vs through the worker: Kokoro (Spanish, with its
  libespeak-ng phonemes) and espeak-ng (the command, run from this process vs from the worker);
- the worker's start-up (spawn to ready, Kokoro and Piper loaded and warmed up) and its restart after a SIGKILL
  (kill to ready); and the RAM (VmRSS) of the worker against this process.

Prints one JSON object: per measure the median, min, max and the 10th/90th percentiles in milliseconds, and n.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

from tolk.device.bench.metrics import status_mb

CLAUSE_ES = "¿Dónde está la estación de tren?"  # 6 words, as voice_figures' first_audio_s
FRAME_SECONDS = 3.0


def summary(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    deciles = statistics.quantiles(ms, n=10) if len(ms) > 1 else [ms[0]] * 9
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2), "p10_ms": round(deciles[0], 2),
            "p90_ms": round(deciles[-1], 2), "min_ms": round(ms[0], 2), "max_ms": round(ms[-1], 2)}


def first_audio(chunks) -> float:
    started = time.perf_counter()
    iterator = iter(chunks)
    next(iterator)
    took = time.perf_counter() - started
    for _ in iterator:  # the rest of the clause, so the next run starts clean
        pass
    return took


def frame_through_pipe(runs: int) -> list[float]:
    from tolk.models.speech_wire import FrameReader, write_frame

    audio = np.random.default_rng(0).uniform(-0.5, 0.5, int(24000 * FRAME_SECONDS)).astype(np.float32)
    read_fd, write_fd = os.pipe()
    out, reader, times = os.fdopen(write_fd, "wb", buffering=0), FrameReader(read_fd), []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            writer = threading.Thread(target=write_frame, args=(out, {"type": "chunk"}, memoryview(audio).cast("B")))
            writer.start()
            _, payload = reader.read(10.0)
            times.append(time.perf_counter() - started)
            writer.join()
            assert np.array_equal(np.frombuffer(payload, dtype=np.float32), audio)
    finally:
        out.close()
        os.close(read_fd)
    return times


def rss_mb(pid: int) -> float:
    return status_mb("VmRSS", Path(f"/proc/{pid}/status").read_text())


def measure(runs: int, restarts: int) -> dict:
    from tolk.models import paths
    from tolk.models.manifest import Engine, Kind
    from tolk.models.speech_client import SpeechWorker
    from tolk.models.speech_worker import EngineSpec
    from tolk.models.store import PackStore
    from tolk.models.tts import EspeakTts, TtsError
    from tolk.models.tts_kokoro import KokoroTts

    store = PackStore(paths.packs_dir())
    tts = [p for p in store.installed() if p.manifest.kind is Kind.TTS]
    kokoro_pack = next(p for p in tts if p.manifest.engine is Engine.KOKORO)
    specs = [EngineSpec("kokoro", "kokoro", str(kokoro_pack.path)), EngineSpec("espeak-ng", "espeak-ng")]
    specs += [EngineSpec(f"piper:{p.id}", "piper", str(p.path)) for p in tts if p.manifest.engine is Engine.PIPER]
    results: dict = {"machine": {"cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)},
                     "clause": CLAUSE_ES, "frame_seconds": FRAME_SECONDS}
    rss_before = status_mb("VmRSS")
    worker = SpeechWorker(specs)
    started = time.perf_counter()
    worker.start()
    if not worker.wait_ready():
        raise SystemExit("the speech worker did not start")
    results["start_up"] = summary([time.perf_counter() - started])
    try:
        results["rss_mb"] = {"worker": round(rss_mb(worker.pid), 1), "this_process_before_kokoro":
                             round(rss_before, 1)}
        local_kokoro, local_espeak = KokoroTts(kokoro_pack.path, kokoro_pack.manifest), EspeakTts()
        local_kokoro.warm_up()
        results["rss_mb"]["this_process_with_kokoro"] = round(status_mb("VmRSS"), 1)
        round_trip, kokoro_here, kokoro_worker, espeak_here, espeak_worker = [], [], [], [], []
        for _ in range(runs):
            started = time.perf_counter()
            try:
                list(worker.speak("none", "x", "es"))
            except TtsError:
                round_trip.append(time.perf_counter() - started)
            kokoro_here.append(first_audio(local_kokoro.speak(CLAUSE_ES, "es")))
            kokoro_worker.append(first_audio(worker.speak("kokoro", CLAUSE_ES, "es")))
            espeak_here.append(first_audio(local_espeak.speak(CLAUSE_ES, "es")))
            espeak_worker.append(first_audio(worker.speak("espeak-ng", CLAUSE_ES, "es")))
        results["ipc_round_trip"] = summary(round_trip)
        results["frame_3s_24khz_through_pipe"] = summary(frame_through_pipe(runs))
        results["first_audio"] = {"kokoro_es_in_process": summary(kokoro_here),
                                  "kokoro_es_worker": summary(kokoro_worker),
                                  "espeak_es_in_process": summary(espeak_here),
                                  "espeak_es_worker": summary(espeak_worker),
                                  "paired_difference_kokoro_ms": summary(
                                      [w - h for w, h in zip(kokoro_worker, kokoro_here)]),
                                  "paired_difference_espeak_ms": summary(
                                      [w - h for w, h in zip(espeak_worker, espeak_here)])}
        restart = []
        for _ in range(restarts):
            killed = time.perf_counter()
            os.kill(worker.pid, signal.SIGKILL)
            try:
                list(worker.speak("kokoro", CLAUSE_ES, "es"))  # finds it dead, starts another
            except TtsError:
                pass
            worker.wait_ready()
            restart.append(time.perf_counter() - killed)
        if restart:
            results["restart_after_sigkill"] = summary(restart)
    finally:
        worker.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="runs per measure (default %(default)s)")
    parser.add_argument("--restarts", type=int, default=3, help="worker restarts timed (default %(default)s)")
    args = parser.parse_args(argv)
    if args.runs < 2 or args.restarts < 0:
        parser.error("--runs must be at least 2 and --restarts at least 0")
    print(json.dumps(measure(args.runs, args.restarts), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
