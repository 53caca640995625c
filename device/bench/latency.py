"""Latency benchmark: speech streamed in real time, per-stage times and end-of-speech -> first audio.

Clips of about 2, 5 and 10 s are synthesised with the installed Piper voice
(synthetic speech is a weak stand-in for real voices: say so in any report),
fed to a live turn in 100 ms chunks at real-time pace (so partial decodes
compete for the CPU as they do on the device), then the turn is finished and
timed. Nothing here is asserted by tests; the numbers go into the README.
"""
from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tolk.audio.clip import ASR_RATE, resample
from tolk.device import events as ev

CLIPS = {
    "2s": "Where is the train station?",
    "5s": "Good morning. I would like two tickets to the airport, please. How much are they?",
    "10s": ("Excuse me, my son has had a fever since last night and he is very tired. Is there a pharmacy or "
            "a doctor near here that is open on Sunday? We do not have a car."),
}
CHUNK_SECONDS = 0.1
STAGES = ("asr", "mt", "tts", "first_audio", "total")


@dataclass(frozen=True)
class LatencyRun:
    clip: str
    speech_seconds: float
    asr: float
    mt: float
    tts: float
    first_audio: float
    total: float
    transcript: str
    translation: str


def synthesise(voice, text: str) -> np.ndarray:
    audio = np.concatenate([s.audio for s in voice.speak(text, "en")])
    return resample(audio, voice.sample_rate, ASR_RATE)


def run_once(interpreter, name: str, audio: np.ndarray, target: str, realtime: bool = True, source: str = "en",
             forced: str | None = None) -> LatencyRun:
    turn = interpreter.start_live(pair=[source, target], forced=forced)
    step = int(CHUNK_SECONDS * ASR_RATE)
    started = time.monotonic()
    for i in range(0, audio.size, step):
        turn.feed(audio[i:i + step])
        if realtime:
            time.sleep(max(0.0, started + (i + step) / ASR_RATE - time.monotonic()))
    turn.finish()
    events = turn.collect(timeout=600)
    done = events[-1]
    errors = [e for e in events if isinstance(e, ev.TurnError)]
    if errors or not isinstance(done, ev.TurnFinished):
        raise RuntimeError(f"{name}: turn failed: {errors}")
    final = next((e.text for e in events if isinstance(e, ev.FinalText)), "")
    translation = " ".join(e.text for e in events if isinstance(e, ev.TranslationText))
    t = done.timings
    return LatencyRun(name, audio.size / ASR_RATE, t.get("asr", 0), t.get("mt", 0), t.get("tts", 0),
                      t.get("first_audio", 0), t.get("total", 0), final, translation)


def summarise(runs: list[LatencyRun]) -> str:
    rows = ["| clip | speech s | ASR s | MT s (all sentences) | TTS s | **end of speech → first audio s** | total s | runs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in dict.fromkeys(r.clip for r in runs):
        group = [r for r in runs if r.clip == name]

        def med(field: str) -> str:
            values = [getattr(r, field) for r in group]
            spread = f" ({min(values):.2f}–{max(values):.2f})" if len(values) > 1 else ""
            return f"{statistics.median(values):.2f}{spread}"

        rows.append(f"| {name} | {group[0].speech_seconds:.1f} | {med('asr')} | {med('mt')} | {med('tts')} | "
                    f"**{med('first_audio')}** | {med('total')} | {len(group)} |")
    return "\n".join(rows)


def run(interpreter, voice, out_dir: Path, runs: int = 3, target: str = "es", progress=print) -> str:
    clips = {name: synthesise(voice, text) for name, text in CLIPS.items()}
    interpreter.translate_text("Hello.", "en", target).collect(timeout=300)  # warm-up
    results = []
    for i in range(runs):
        for name, audio in clips.items():
            result = run_once(interpreter, name, audio, target)
            progress(f"run {i + 1}/{runs} {name}: first audio {result.first_audio:.2f} s "
                     f"(asr {result.asr:.2f}, mt {result.mt:.2f}, tts {result.tts:.2f})")
            results.append(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latency.json").write_text(json.dumps([asdict(r) for r in results], indent=2, ensure_ascii=False))
    table = summarise(results)
    (out_dir / "latency.md").write_text(table + "\n")
    return table
