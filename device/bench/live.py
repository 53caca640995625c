"""The live-turn parts of `tolk bench`: the clips, the latency section with its Pi 5 projection, and the Home
Assistant stack on the very same clips (so the report's "HA ÷ Tolk" compares like with like)."""
from __future__ import annotations

import logging
import os
import statistics
from pathlib import Path

from tolk.device.bench import latency, memory, metrics, playback, projection
from tolk.device.bench.latency import BenchClip

log = logging.getLogger(__name__)
SINK_NOTES = {
    "portaudio": "first audio = the first write to the PortAudio output stream (a real output device)",
    "file": ("no PortAudio output device on this machine: first audio = the first write of a WAV file sink "
             "written at real-time pace (no device buffer to open, so slightly flattering next to a speaker)"),
}


def prepare_clips(engines, options, progress) -> tuple[list[BenchClip], dict]:
    """The synthetic clips and (unless disabled or unavailable) the real recordings; notes say what is missing."""
    clips = latency.synthetic_clips(engines.speech)
    notes: dict[str, str] = {}
    if getattr(options, "real_speech", True):
        try:
            clips += latency.real_clips()
        except Exception as err:  # noqa: BLE001 - a missing dev set is reported, the synthetic clips still run
            log.exception("real speech clips unavailable")
            notes["real_skipped"] = f"{type(err).__name__}: {err}"
    wanted = tuple(getattr(options, "clips", ()) or ())
    if wanted:
        clips = [c for c in clips if c.name in wanted]
    known = set(engines.translator.manifest.languages)
    dropped = [c.name for c in clips if not {c.language, c.target} <= known]
    if dropped:
        notes["dropped"] = f"the MT pack lacks a language of {', '.join(dropped)}"
    progress(f"latency clips: {', '.join(f'{c.name} ({c.seconds:.1f} s)' for c in clips)}")
    return [c for c in clips if c.name not in dropped], notes


def warm_up(interpreter, clips: list[BenchClip]) -> None:
    """One un-timed live turn per translation direction (lazy inits, the MT pack's cached prompt per pair)."""
    seen = set()
    for clip in clips:
        if (clip.language, clip.target) in seen:
            continue
        seen.add((clip.language, clip.target))
        try:
            latency.run_once(interpreter, clip, playback.NullSink(), realtime=False)
        except RuntimeError as err:
            log.warning("warm-up %s: %s", clip.name, err)


def latency_section(engines, clips: list[BenchClip], notes: dict, options, progress, after_run=None) -> dict:
    sinks, kind = playback.sink_factory(Path(options.out) / "playback", getattr(options, "sink", "auto"))
    progress(f"latency: warm-up, then {options.runs} run(s) × {len(clips)} clips, sink: {kind}")
    warm_up(engines.interpreter, clips)
    rows = latency.measure(engines.interpreter, clips, options.runs, sinks, progress, after_run=after_run)
    section = {"rows": rows, "sink": kind, "sink_note": SINK_NOTES.get(kind, kind), "notes": notes,
               "chunk_s": latency.CHUNK_SECONDS, "load_seconds": engines.load_seconds,
               "peak_rss_mb": metrics.peak_rss_mb()}
    section["projection"] = projection_section(engines, rows, progress)
    return section


def projection_section(engines, rows: list[dict], progress) -> dict:
    progress("latency: Pi 5 projection (memory bandwidth, Whisper encoder rate here)")
    size = projection.whisper_size(engines.asr_pack.id)
    try:
        gmacs = projection.measure_encoder_gmacs(engines.asr_pack.path, size)
    except Exception as err:  # noqa: BLE001 - the projection then says it lacks the number
        log.warning("encoder rate not measured: %s", err)
        gmacs = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        cpuinfo = ""
    peak, note = projection.host_peak(cpuinfo, os.cpu_count() or 1)
    from tolk.models import asr

    facts = projection.MachineFacts(
        bandwidth_gbs=memory.read_bandwidth_gbs(), mt_bytes=(engines.mt_pack.path / "model.bin").stat().st_size,
        whisper=size, encoder_gmacs=gmacs, peak_gmacs=peak, peak_note=note,
        min_encoder_frames=getattr(asr, "MIN_ENCODER_FRAMES", projection.WINDOW_FRAMES))
    return projection.section(rows, facts)


def latency_with_home_assistant(engines, clips: list[BenchClip], notes: dict, options,
                                progress) -> tuple[dict, dict]:
    """The latency section with the HA stack's turn on the same clip right after each Tolk turn (same machine
    state for both, which matters on a shared machine); returns (latency section, HA section)."""
    from tolk.device.bench import peers

    stack = peers.HomeAssistantStack(engines.asr_pack.path, _voice(engines), clips[0].language)
    if stack.missing:
        return latency_section(engines, clips, notes, options, progress), {"skipped": stack.missing}
    sinks, kind = playback.sink_factory(Path(options.out) / "playback", getattr(options, "sink", "auto"))
    ha_rows: dict[str, dict] = {}
    progress("peers: Home Assistant stack (wyoming-faster-whisper + wyoming-piper on 127.0.0.1), interleaved "
             "with Tolk's turns on the same clips")
    try:
        with stack:
            for clip in clips:
                peers.ha_turn(stack, clip, engines.translate, None)  # warm-up

            def after_run(clip: BenchClip, i: int) -> None:
                seconds = peers.ha_turn(stack, clip, engines.translate, sinks, ha_rows)
                progress(f"  HA stack {clip.name}: first audio {'none' if seconds is None else f'{seconds:.2f} s'}")

            section = latency_section(engines, clips, notes, options, progress, after_run)
    except (RuntimeError, OSError) as err:
        log.exception("HA stack failed")
        return latency_section(engines, clips, notes, options, progress), {"skipped": f"HA stack failed: {err}"}
    ha = ha_summary(clips, ha_rows, section["rows"], stack.versions, kind, engines.voice_pack.id)
    ha["interleaved"] = True
    return section, ha


def _voice(engines) -> Path:
    return engines.voice_pack.path / engines.voice_pack.manifest.settings["model"]


def home_assistant_section(engines, clips: list[BenchClip], latency_rows: list[dict] | None, options,
                           progress) -> dict:
    """The HA stack alone on the latency clips (`--only peers`); Tolk's number is the latency section's median
    when it ran, else one live Tolk turn per clip measured here."""
    from tolk.device.bench import peers

    sinks, kind = playback.sink_factory(Path(options.out) / "playback", getattr(options, "sink", "auto"))
    progress("peers: Home Assistant stack (wyoming-faster-whisper + wyoming-piper on 127.0.0.1), same clips")
    try:
        ha = peers.home_assistant_stack(engines.asr_pack.path, _voice(engines), clips, engines.translate,
                                        runs=options.runs, sinks=sinks, progress=progress)
    except (RuntimeError, OSError) as err:
        return {"skipped": str(err)}
    if ha.get("skipped"):
        return ha
    if not latency_rows:
        latency_rows = latency.measure(engines.interpreter, clips, 1, sinks, progress)
    return ha_summary(clips, ha["rows"], latency_rows, ha["versions"], kind, engines.voice_pack.id)


def ha_summary(clips: list[BenchClip], ha_rows: dict[str, dict], latency_rows: list[dict], versions: dict,
               sink: str, voice: str) -> dict:
    """HA ÷ Tolk per clip: medians of first audio written to the same kind of sink."""
    ours = {r["clip"]: r["first_audio"] for r in latency_rows}
    rows = []
    for clip in clips:
        peer = metrics.summarise([v for v in ha_rows.get(clip.name, {}).get("runs", []) if v is not None])
        tolk = ours.get(clip.name, {}).get("median") if ours.get(clip.name, {}).get("n") else None
        rows.append({"clip": clip.name, "language": clip.language, "target": clip.target,
                     "ours": tolk, "ours_n": ours.get(clip.name, {}).get("n", 0),
                     "peer": round(peer.median, 3) if peer.n else None, "peer_min": peer.low, "peer_max": peer.high,
                     "peer_n": peer.n, "peer_failed": len(ha_rows.get(clip.name, {}).get("failures", [])),
                     "ratio": round(peer.median / tolk, 2) if peer.n and tolk else None,
                     "heard": ha_rows.get(clip.name, {}).get("heard", ""),
                     "translation": ha_rows.get(clip.name, {}).get("translation", "")})
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    return {"versions": versions, "rows": rows, "sink": sink, "voice": voice,
            "median_ratio": round(statistics.median(ratios), 2) if ratios else None}
