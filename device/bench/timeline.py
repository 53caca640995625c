"""One turn's timeline: the interpreter's events as bars on a time axis (0 = end of speech).

``record_event`` turns a typed event into a small JSON-able dict (kept per run in the bench
results); ``bars`` rebuilds the stages from those dicts, and ``plot_turn`` draws them. The
interpreter has one inference worker, so a stage ends at its event and starts where the worker's
previous output event was: ``FinalText`` closes the final ASR (its ``StageTiming("asr")`` gives
the exact start), ``TranslationText(i)`` closes MT of clause i, the last ``AudioOut(i)`` closes
TTS of clause i; when the final ASR starts after the end of speech, the wait (the worker was busy
with a partial decode or a translation made while the person talked) is a "worker busy" bar.
Partial decodes show as ticks at their ``PartialText`` (or as bars when the interpreter reports a
``StageTiming`` for them). Unknown ``StageTiming`` stages are drawn as bars
too, so a newer interpreter's extra timings show up without a change here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from tolk.device import events as ev

log = logging.getLogger(__name__)
CUMULATIVE_STAGES = {"asr", "mt", "tts", "first_audio", "total", "back_translation"}
LANES = ("speech", "partial ASR", "worker busy", "final ASR", "MT", "TTS", "playback")
COLOURS = {"speech": "#8c8c8c", "partial ASR": "#a1c9f4", "worker busy": "#cccccc", "final ASR": "#4c72b0",
           "MT": "#dd8452", "TTS": "#55a868", "playback": "#c44e52"}
BUSY_MIN_S = 0.05
WORKER_OUTPUTS = ("PartialText", "FinalText", "TranslationText", "AudioOut")


@dataclass(frozen=True)
class Bar:
    lane: str
    start: float
    end: float
    label: str


def record_event(event: ev.Event, end_of_speech: float) -> dict:
    """An event as ``{"kind", "t" (s after end of speech), ...}``; audio as its duration, not its samples."""
    out: dict = {"kind": type(event).__name__, "t": round(event.at - end_of_speech, 4)}
    if isinstance(event, ev.StageTiming):
        out.update(stage=event.stage, seconds=round(event.seconds, 4))
    elif isinstance(event, ev.AudioOut):
        out.update(index=event.index, audio_s=round(event.samples.size / event.sample_rate, 3))
    elif isinstance(event, ev.TranslationText):
        out.update(index=event.index, text=event.text)
    elif isinstance(event, (ev.PartialText, ev.FinalText)):
        out.update(text=event.text)
    return out


def _asr_bar(events: list[dict]) -> Bar | None:
    timing = next((e for e in events if e["kind"] == "StageTiming" and e["stage"] == "asr"), None)
    if timing is None:
        return None
    return Bar("final ASR", timing["t"] - timing["seconds"], timing["t"], "ASR")


def _worker_bars(events: list[dict]) -> list[Bar]:
    """MT and TTS bars (and ASR when no timing was reported) from the gaps between worker outputs."""
    bars: list[Bar] = []
    previous = None
    for event in sorted((e for e in events if e["kind"] in WORKER_OUTPUTS), key=lambda e: e["t"]):
        kind = event["kind"]
        start = previous if previous is not None else 0.0
        if kind == "FinalText":
            bars.append(Bar("final ASR", max(start, 0.0), event["t"], "ASR"))
        elif kind == "TranslationText":
            bars.append(Bar("MT", start, event["t"], f"MT {event['index']}"))
        elif kind == "AudioOut":
            label = f"TTS {event['index']}"
            if bars and bars[-1].label == label:  # a clause spoken in several chunks: one bar
                start = bars.pop().start
            bars.append(Bar("TTS", start, event["t"], label))
        previous = event["t"]
    return bars


def bars(run: dict) -> list[Bar]:
    """Every bar of one run dict (``speech_s``, ``events``, ``first_write_t``)."""
    events = run.get("events", [])
    out = [Bar("speech", -run["speech_s"], 0.0, "speech")]
    worker = _worker_bars(events)
    asr = _asr_bar(events)
    if asr is not None:  # the reported duration beats the gap estimate
        worker = [asr, *(b for b in worker if b.lane != "final ASR")]
    start = next((b.start for b in worker if b.lane == "final ASR"), 0.0)
    if start > BUSY_MIN_S:  # the final decode waited for the worker (a partial decode or an early translation)
        out.append(Bar("worker busy", 0.0, start, "busy"))
    out += worker
    for e in events:
        if e["kind"] == "StageTiming" and e["stage"] not in CUMULATIVE_STAGES:
            lane = "partial ASR" if "partial" in e["stage"] else "MT" if "mt" in e["stage"] else "TTS"
            out.append(Bar(lane, e["t"] - e["seconds"], e["t"], e["stage"]))
    if run.get("first_write_t") is not None:
        out.append(Bar("playback", run["first_write_t"], run["first_write_t"] + run.get("played_s", 0.3), "played"))
    return out


def partial_ticks(run: dict) -> list[float]:
    return [e["t"] for e in run.get("events", []) if e["kind"] == "PartialText"]


def plot_turn(run: dict, path: Path, title: str) -> Path:
    """A PNG: one lane per stage, speech end at 0 (dashed), first audio written to the sink (red line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    lanes = {name: i for i, name in enumerate(reversed(LANES))}
    for bar in bars(run):
        y = lanes[bar.lane]
        ax.barh(y, max(bar.end - bar.start, 0.01), left=bar.start, height=0.6, color=COLOURS[bar.lane],
                edgecolor="white")
        if bar.lane in ("MT", "TTS") and bar.end - bar.start > 0.15:
            ax.text((bar.start + bar.end) / 2, y, bar.label.split()[-1], ha="center", va="center", fontsize=7)
    for t in partial_ticks(run):
        ax.plot([t], [lanes["partial ASR"]], marker="|", markersize=14, color="#4c72b0")
    ax.axvline(0.0, color="black", linestyle="--", linewidth=1)
    ax.text(0.0, len(LANES) - 0.4, "end of speech ", fontsize=7, va="bottom", ha="right")
    first = run.get("first_write_t")
    if first is not None:
        ax.axvline(first, color=COLOURS["playback"], linewidth=1)
        ax.text(first, len(LANES) - 0.4, f" first audio {first:.2f} s", fontsize=7, va="bottom",
                color=COLOURS["playback"])
    ax.set_yticks(list(lanes.values()), list(lanes.keys()), fontsize=8)
    ax.set_ylim(-0.6, len(LANES) + 0.2)
    ax.set_xlabel("seconds (0 = end of speech)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
