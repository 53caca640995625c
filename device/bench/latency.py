"""Latency benchmark: end of speech -> the first audio sample written to the playback device.

Each clip is fed to a live turn (``start_live`` -> ``feed`` -> ``finish``) in 100 ms chunks at
real-time pace, so partial decodes compete for the CPU as they do on the device. A consumer thread
reads the turn's events while it runs and hands every ``AudioOut`` to a playback sink
(``tolk.device.bench.playback``); first audio is the sink's first write minus the moment the
last chunk was fed and ``finish()`` called. Every event is kept (time after end of speech) for the
per-turn timeline, and every ``StageTiming`` per run.

Clips: three synthesised ones (Piper, ~2/5/10 s; a weak stand-in for real voices) and three real
human recordings from the Asterisk prompts dev set (``tolk.models.build.speechset``, CC-BY-SA-3.0).
Nothing here is asserted by tests; the numbers go into the report.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from tolk.audio.clip import ASR_RATE
from tolk.device import events as ev
from tolk.device.bench import metrics
from tolk.device.bench.playback import SinkFactory, TimedSink
from tolk.device.bench.timeline import record_event

log = logging.getLogger(__name__)

SYNTHETIC = {
    "2s": "Where is the train station?",
    "5s": "Good morning. I would like two tickets to the airport, please. How much are they?",
    "10s": ("Excuse me, my son has had a fever since last night and he is very tired. Is there a pharmacy or "
            "a doctor near here that is open on Sunday? We do not have a car."),
}
SYNTHETIC_TARGET = "es"
# real recordings: language -> (prompt id in the dev set, target language); 4-8 s, two sentences each
REAL = {"en": ("queue-periodic-announce", "es"), "es": ("pbx-invalidpark", "en"), "fr": ("conf-invalid", "en")}
CHUNK_SECONDS = 0.1
DEFAULT_RUNS = 5
FIRST_WRITE_GRACE = 10.0  # s to wait for the sink's first write after the turn finished


@dataclass(frozen=True)
class BenchClip:
    name: str
    language: str
    target: str
    audio: np.ndarray = field(repr=False)
    kind: str  # "synthetic" or "real"
    transcript: str
    credit: str = ""

    @property
    def seconds(self) -> float:
        return self.audio.size / ASR_RATE


@dataclass
class LatencyRun:
    clip: str
    language: str
    target: str
    speech_s: float
    first_audio: float | None  # end of speech -> first sample written to the sink
    first_audio_event: float | None  # end of speech -> the first AudioOut event (for comparison)
    stages: dict[str, float]  # StageTiming seconds by stage (the last value of each)
    timings: dict[str, float]  # TurnFinished.timings
    events: list[dict]  # timeline.record_event dicts
    first_write_t: float | None
    sink: str
    transcript: str = ""
    translation: str = ""
    played_s: float = 0.0


# ---- clips ------------------------------------------------------------------------------------------
def clip_names() -> tuple[str, ...]:
    """The names `tolk bench --clips` takes (as in the report)."""
    return (*SYNTHETIC, *(f"{language}:{prompt}" for language, (prompt, _) in REAL.items()))


def synthetic_clips(speak: Callable[[str, str], np.ndarray]) -> list[BenchClip]:
    """The Piper-voiced English clips; ``speak(text, language)`` returns 16 kHz mono float32."""
    return [BenchClip(name, "en", SYNTHETIC_TARGET, speak(text, "en"), "synthetic", text, "Piper (synthetic)")
            for name, text in SYNTHETIC.items()]


def real_clips(languages: tuple[str, ...] = tuple(REAL)) -> list[BenchClip]:
    """Real human speech from the Asterisk prompts (fetched once into the cache, see speechset)."""
    from tolk.models.build import speechset  # build-side: only the bench reaches it, lazily

    root = speechset.ensure_speechset()
    clips = speechset.load_clips(root, languages)
    out = []
    for language in languages:
        prompt, target = REAL[language]
        clip = speechset.find(clips, prompt, language)
        out.append(BenchClip(f"{language}:{prompt}", language, target, clip.audio(), "real", clip.transcript,
                             f"{clip.voice}, Asterisk core sounds, {speechset.LICENCE.split()[0]}"))
    return out


# ---- one run ----------------------------------------------------------------------------------------
class _Consumer(threading.Thread):
    """Reads a turn's events as they come; AudioOut goes to the sink at once."""

    def __init__(self, turn, sink: TimedSink) -> None:
        super().__init__(name="bench-events", daemon=True)
        self.turn, self.sink = turn, sink
        self.events: list[ev.Event] = []
        self.played_s = 0.0

    def run(self) -> None:
        for event in self.turn.events(timeout=600):
            if isinstance(event, ev.AudioOut):
                self.sink.play(event.samples, event.sample_rate)
                self.played_s += event.samples.size / event.sample_rate
            self.events.append(event)


def stream(turn, audio: np.ndarray, realtime: bool = True) -> float:
    """Feed ``audio`` as a microphone would (each 100 ms chunk once it has been 'spoken'), then finish.
    Returns the end-of-speech time (monotonic)."""
    step = int(CHUNK_SECONDS * ASR_RATE)
    started = time.monotonic()
    for i in range(0, audio.size, step):
        chunk = audio[i:i + step]
        if realtime:
            time.sleep(max(0.0, started + (i + chunk.size) / ASR_RATE - time.monotonic()))
        turn.feed(chunk)
    end_of_speech = time.monotonic()
    turn.finish()
    return end_of_speech


def run_once(interpreter, clip: BenchClip, sink: TimedSink, realtime: bool = True) -> LatencyRun:
    # the pair as set on the device: the language is detected among the two, the target is the other one
    turn = interpreter.start_live(pair=[clip.language, clip.target])
    consumer = _Consumer(turn, sink)
    consumer.start()
    end_of_speech = stream(turn, clip.audio, realtime)
    consumer.join(timeout=600)
    first_write = sink.wait_first_write(FIRST_WRITE_GRACE)
    sink.close(drain=False)  # the rest of the audio is not timed; the next run starts sooner
    events = consumer.events
    done = events[-1] if events else None
    errors = [e for e in events if isinstance(e, ev.TurnError)]
    if errors or not isinstance(done, ev.TurnFinished):
        raise RuntimeError(f"{clip.name}: turn failed: {errors or 'no TurnFinished'}")
    first_event = next((e.at for e in events if isinstance(e, ev.AudioOut)), None)
    return LatencyRun(
        clip=clip.name, language=clip.language, target=clip.target, speech_s=round(clip.seconds, 3),
        first_audio=None if first_write is None else first_write - end_of_speech,
        first_audio_event=None if first_event is None else first_event - end_of_speech,
        stages={e.stage: e.seconds for e in events if isinstance(e, ev.StageTiming)},
        timings=dict(done.timings), events=[record_event(e, end_of_speech) for e in events
                                            if not isinstance(e, ev.InputLevel)],
        first_write_t=None if first_write is None else round(first_write - end_of_speech, 4), sink=sink.kind,
        transcript=next((e.text for e in events if isinstance(e, ev.FinalText)), ""),
        translation=_translation(events),
        played_s=round(consumer.played_s, 3))


def _translation(events: list[ev.Event]) -> str:
    joined = getattr(ev, "joined_translation", None)  # clause-aware join of the streaming interpreter
    if joined is not None:
        return joined(events)
    return " ".join(e.text for e in events if isinstance(e, ev.TranslationText))


# ---- clause timings from events ---------------------------------------------------------------------
def first_clause(run: LatencyRun | dict) -> dict[str, float]:
    """Seconds after end of speech of: final text, first translation, first AudioOut (clause 1's path)."""
    events = run.events if isinstance(run, LatencyRun) else run["events"]

    def at(kind: str) -> float | None:
        return next((e["t"] for e in events if e["kind"] == kind), None)

    final, mt, audio = at("FinalText"), at("TranslationText"), at("AudioOut")
    out = {}
    if final is not None:
        out["asr_done"] = final
    if final is not None and mt is not None:
        out["mt1"] = mt - max(final, 0.0)
    if mt is not None and audio is not None:
        out["tts1"] = audio - mt
    return out


# ---- summary ----------------------------------------------------------------------------------------
def _summary(values: list[float | None]) -> dict:
    clean = [v for v in values if v is not None]
    s = metrics.summarise(clean)
    return {"median": round(s.median, 3), "min": round(s.low, 3), "max": round(s.high, 3), "n": s.n}


def summarise_clip(clip: BenchClip, runs: list[LatencyRun], failures: list[str] = ()) -> dict:
    """One report row: medians and min-max over the runs, every run kept for the timeline."""
    stage_names = sorted({k for r in runs for k in r.stages})
    clause = [first_clause(r) for r in runs]
    ordered = sorted(runs, key=lambda r: r.first_audio if r.first_audio is not None else float("inf"))
    return {
        "clip": clip.name, "kind": clip.kind, "language": clip.language, "target": clip.target,
        "speech_s": round(clip.seconds, 2), "reference": clip.transcript, "credit": clip.credit,
        "first_audio": _summary([r.first_audio for r in runs]),
        "first_audio_event": _summary([r.first_audio_event for r in runs]),
        "stages": {k: _summary([r.stages.get(k) for r in runs]) for k in stage_names},
        "clause1": {k: _summary([c.get(k) for c in clause]) for k in ("asr_done", "mt1", "tts1")},
        "sink": runs[0].sink if runs else "none", "runs": len(runs), "failures": list(failures),
        "median_run": asdict(ordered[len(ordered) // 2]) if ordered else None,
        "all_runs": [{k: v for k, v in asdict(r).items() if k != "events"} for r in runs],
    }


def measure(interpreter, clips: list[BenchClip], runs: int, sinks: SinkFactory, progress=print,
            realtime: bool = True, after_run: Callable[[BenchClip, int], None] | None = None) -> list[dict]:
    """``runs`` live turns per clip, clips interleaved (so a slow spell of the machine hits all of them);
    ``after_run(clip, i)`` runs after each (a peer's turn on the same clip, under the same conditions)."""
    results: dict[str, list[LatencyRun]] = {c.name: [] for c in clips}
    failures: dict[str, list[str]] = {c.name: [] for c in clips}
    for i in range(runs):
        for clip in clips:
            try:
                run = run_once(interpreter, clip, sinks(clip.name.replace(":", "-")), realtime)
            except RuntimeError as err:  # a failed turn is counted and reported, the bench goes on
                failures[clip.name].append(str(err))
                progress(f"latency run {i + 1}/{runs} {clip.name}: FAILED {err}")
                continue
            results[clip.name].append(run)
            shown = "none" if run.first_audio is None else f"{run.first_audio:.2f} s"
            progress(f"latency run {i + 1}/{runs} {clip.name} ({clip.language}→{clip.target}): first audio "
                     f"{shown} [{run.sink}] stages {', '.join(f'{k} {v:.2f}' for k, v in run.stages.items())}")
            if after_run is not None:
                after_run(clip, i)
    return [summarise_clip(c, results[c.name], failures[c.name]) for c in clips]
