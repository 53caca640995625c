"""The latency parts of the bench report: the table, per-stage times, the Pi 5 projection, the per-turn
timelines and the Home Assistant comparison. Pure functions of the results dict (tested on fabricated ones)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from tolk.device.bench import projection, timeline

Table = Callable[[list[str], list[list[Any]]], str]


def _s(summary: dict | None, spread: bool = True) -> str:
    """A {"median", "min", "max", "n"} summary as '1.23 (1.10–1.40)'; '—' when nothing was measured."""
    if not summary or not summary.get("n"):
        return "—"
    text = f"{summary['median']:.2f}"
    if spread and summary["n"] > 1:
        text += f" ({summary['min']:.2f}–{summary['max']:.2f})"
    return text


def timeline_name(row: dict) -> str:
    return "timeline-" + re.sub(r"[^A-Za-z0-9]+", "-", f"{row['clip']}-{row['language']}").strip("-") + ".png"


def _intro(section: dict) -> str:
    rows = section["rows"]
    real = [r for r in rows if r.get("kind") == "real"]
    runs = sorted({r["runs"] for r in rows})
    parts = [f"Each clip is fed to a live turn in {section.get('chunk_s', 0.1) * 1000:.0f} ms chunks at real-time "
             f"pace; {'/'.join(map(str, runs))} timed run(s) per clip after one warm-up turn per direction, clips "
             f"interleaved. End of speech = the last chunk fed and `finish()` called. {section['sink_note']}."]
    parts.append("Synthetic clips: Piper (en_US joe), a weak stand-in for real voices.")
    if real:
        voices = ", ".join(sorted({r["credit"].split(",")[0] for r in real}))
        parts.append(f"Real clips: human recordings of the Asterisk core sound prompts (voices {voices}; "
                     "Debian asterisk-core-sounds 1.6.1-1, CC-BY-SA-3.0; fetched by "
                     "tolk.models.build.speechset, never committed).")
    for key, note in section.get("notes", {}).items():
        parts.append(f"*{key}: {note}*")
    return " ".join(parts)


def latency_table(section: dict, table: Table) -> str:
    proj = (section.get("projection") or {}).get("rows", {})
    out = []
    for r in section["rows"]:
        pi = proj.get(r["clip"])
        out.append([r["clip"], r.get("kind", ""), f"{r['language']}→{r['target']}", f"{r['speech_s']:.1f}",
                    _s(r["stages"].get("asr"), False), _s(r["clause1"].get("mt1"), False),
                    _s(r["clause1"].get("tts1"), False), f"**{_s(r['first_audio'])}**",
                    _s(r.get("first_audio_event"), False), f"{pi['first_audio']:.2f}" if pi else "—",
                    f"{r['runs']} ({len(r['failures'])} failed)" if r.get("failures") else r["runs"]])
    return table(["clip", "kind", "direction", "speech s", "ASR s", "MT clause 1 s", "TTS clause 1 s",
                  "end of speech → first audio written s", "→ first AudioOut event s", "Pi 5 projection s",
                  "runs"], out)


def stages_table(section: dict, table: Table) -> str:
    names = sorted({k for r in section["rows"] for k in r["stages"]})
    return table(["clip", *names], [[r["clip"], *(_s(r["stages"].get(n)) for n in names)] for r in section["rows"]])


def texts_table(section: dict, table: Table) -> str:
    out = []
    for r in section["rows"]:
        median = r.get("median_run") or {}
        out.append([r["clip"], r.get("reference", ""), median.get("transcript", ""), median.get("translation", "")])
    return table(["clip", "reference", "heard (median run)", "translation (median run)"], out)


def projection_md(section: dict, table: Table) -> str:
    proj = section.get("projection")
    if not proj:
        return "*Pi 5 projection: not computed in this run.*"
    rows = []
    for clip, p in proj["rows"].items():
        if p:
            rows.append([clip, p["encoder_gmac"], p["encoder"], p["asr"], p["mt1"], p["tts1"], p["rest"],
                         f"**{p['first_audio']:.2f}**"])
        else:
            rows.append([clip, "—", "—", "—", "—", "—", "—", "not projected (a stage was not measured)"])
    return "\n".join([projection.formula_md(proj), "",
                      table(["clip", "encoder GMAC", "encoder s", "ASR s", "MT1 s", "TTS1 s", "rest s",
                             "first audio s (Pi 5)"], rows)])


def latency_md(section: dict, table: Table) -> str:
    failed = [f"*{r['clip']}: {len(r['failures'])} failed run(s): {r['failures'][0]}*"
              for r in section["rows"] if r.get("failures")]
    out = [_intro(section), "", latency_table(section, table), *failed, "",
           "Per-stage times (the turn's `StageTiming` events; median (min–max) over the runs, each run in "
           "report.json):", "", stages_table(section, table), "", texts_table(section, table), "",
           projection_md(section, table), ""]
    cache = section.get("prompt_cache")
    if cache:
        full, cached = cache["full prompt"], cache["static prompt cached"]
        out.append(f"Time to the first translated token, en→es, {full['n']} sentences per mode: whole prompt "
                   f"prefilled {full['median']:.2f} s ({full['low']:.2f}–{full['high']:.2f}), prompt head "
                   f"({cache['head_tokens']} tokens) cached as CTranslate2's static prompt {cached['median']:.2f} s "
                   f"({cached['low']:.2f}–{cached['high']:.2f}).\n")
    loads = ", ".join(f"{k} {v:.2f} s" for k, v in section.get("load_seconds", {}).items())
    out.append(f"Model load: {loads}. Peak RSS of the bench process: {section['peak_rss_mb']:.0f} MB.")
    out.append("\nTimeline of the median run per clip (0 = end of speech):\n")
    out += [f"![{timeline_name(r)}]({timeline_name(r)})" for r in section["rows"] if r.get("median_run")]
    return "\n".join(out)


def home_assistant_md(ha: dict, table: Table) -> str:
    versions = ha["versions"]
    rows = [[r["clip"], f"{r['language']}→{r['target']}", "—" if r["ours"] is None else r["ours"],
             _s({"median": r["peer"], "min": r["peer_min"], "max": r["peer_max"], "n": r["peer_n"]})
             + (f" ({r['peer_failed']} failed)" if r.get("peer_failed") else ""),
             f"**{r['ratio']:.2f}**" if r["ratio"] else "—"] for r in ha["rows"]]
    out = [f"**Home Assistant voice stack** (wyoming-faster-whisper {versions['wyoming-faster-whisper']}, "
           f"wyoming-piper {versions['wyoming-piper']}, on 127.0.0.1, same Whisper pack and Piper voice "
           f"({ha.get('voice', 'ours')}, which HA uses for every target language), our translation step between "
           "them (the whole transcript at once: HA's pipeline does not stream), "
           f"speech streamed at real-time pace, first audio = the first write of the same {ha.get('sink', '')} "
           f"sink{'; each HA turn right after Tolk’s turn on the same clip' if ha.get('interleaved') else ''}). "
           "Tolk's column is the latency section's median on the same clip:\n",
           table(["clip", "direction", "Tolk first audio s", "HA stack first audio s", "HA ÷ Tolk"], rows)]
    if ha.get("median_ratio"):
        out.append(f"\nMedian HA stack ÷ Tolk over the clips: **{ha['median_ratio']:.2f}×**")
    return "\n".join(out)


def plot_latency(section: dict, folder: Path) -> list[str]:
    """The first-audio bar chart (median, min–max whiskers) and one timeline PNG per clip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in section["rows"] if r["first_audio"]["n"]]
    names = []
    if rows:
        fig, ax = plt.subplots(figsize=(8, 3.5))
        labels = [f"{r['clip'].replace(':', chr(10))}\n{r['language']}→{r['target']}" for r in rows]
        medians = [r["first_audio"]["median"] for r in rows]
        errors = [[max(m - r["first_audio"]["min"], 0.0) for m, r in zip(medians, rows)],
                  [max(r["first_audio"]["max"] - m, 0.0) for m, r in zip(medians, rows)]]
        colours = ["#4c72b0" if r.get("kind") == "real" else "#8c8c8c" for r in rows]
        ax.bar(labels, medians, yerr=errors, capsize=3, color=colours)
        ax.set_ylabel("s after end of speech")
        ax.set_title("End of speech → first audio written (median, min–max); blue = real speech", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        fig.tight_layout()
        fig.savefig(folder / "latency.png", dpi=100)
        plt.close(fig)
        names.append("latency.png")
    for r in section["rows"]:
        if r.get("median_run"):
            title = f"{r['clip']} ({r['language']}→{r['target']}), median run of {r['runs']}"
            timeline.plot_turn(r["median_run"], folder / timeline_name(r), title)
            names.append(timeline_name(r))
    return names
