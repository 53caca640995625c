"""The bench report: Markdown + JSON + PNG plots in one folder, and a history file for trends.

Pure functions of the results dict, so they are tested on small fixed inputs.
Every number in the report comes from the results; a missing section is said
to be missing with its reason, never filled with a placeholder.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tolk.device.bench import report_latency, report_speech

log = logging.getLogger(__name__)
HISTORY = "history.jsonl"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _skipped(section: dict | None, name: str) -> str | None:
    if not section:
        return f"*{name}: not measured in this run.*"
    if section.get("skipped"):
        return f"*{name}: not measured — {section['skipped']}*"
    return None


def latency_md(section: dict) -> str:
    return report_latency.latency_md(section, _table)


def peers_md(section: dict) -> str:
    out = []
    ha = section.get("home_assistant")
    if ha and not ha.get("skipped"):
        out.append(report_latency.home_assistant_md(ha, _table))
    elif ha:
        out.append(f"*Home Assistant stack: not measured — {ha['skipped']}*")
    llama = section.get("llama_cpp")
    if llama and not llama.get("skipped"):
        out.append(f"\n**llama.cpp** (llama-cpp-python {llama['version']}, same GGUF) vs Tolk's CTranslate2 int8 pack, "
                   f"same prompt, {llama['tokens']} greedy tokens:\n")
        out.append(_table(["engine", "decode tok/s", "prompt tok/s"],
                          [["CTranslate2 (Tolk)", llama["ct2_tok_s"], llama.get("ct2_prompt_tok_s", "—")],
                           ["llama.cpp", llama["llama_tok_s"], llama.get("llama_prompt_tok_s", "—")]]))
        out.append(f"\nTolk ÷ llama.cpp decode speed: **{llama['ratio']:.2f}×**")
    elif llama:
        out.append(f"\n*llama.cpp: not measured — {llama['skipped']}*")
    asr = section.get("asr_defaults")
    if asr and not asr.get("skipped"):
        out.append("\n**ASR settings**: plain faster-whisper defaults (beam 5, language detected among all 99) vs "
                   "Tolk's (beam 5, greedy partials, language chosen among the pair):\n")
        out.append(_table(["settings", "seconds (all clips)", "WER", "wrong language"],
                          [["faster-whisper defaults", asr["defaults"]["seconds"], asr["defaults"]["wer"],
                            asr["defaults"]["wrong_language"]],
                           ["Tolk", asr["ours"]["seconds"], asr["ours"]["wer"], asr["ours"]["wrong_language"]]]))
    return "\n".join(out)


def limits_md(section: dict) -> str:
    return (f"Memory read bandwidth here: **{section['bandwidth_gbs']:.1f} GB/s**. The translation pack's weights: "
            f"{section['weight_bytes'] / 1e9:.2f} GB read per token, so at most "
            f"{section['bound_tok_s']:.1f} tokens/s; measured {section['tok_s']:.1f} tokens/s = "
            f"**{section['fraction'] * 100:.0f} %** of the bandwidth bound.")


def quality_md(section: dict) -> str:
    out = [f"chrF on {section['corpus']} ({section['segments_per_direction']} segment(s) per direction):\n",
           _table(["direction", "chrF", "segments"], [[f"{r['src']}→{r['tgt']}", r["chrf"], r["n_segments"]]
                                                       for r in section["chrf"]])]
    mean = sum(r["chrf"] for r in section["chrf"]) / max(len(section["chrf"]), 1)
    out.append(f"\nMean chrF: **{mean:.1f}**")
    if section.get("asr_wer"):
        out.append("\nASR word error rate on synthesised speech (Piper for en, espeak-ng otherwise — a weak proxy "
                   "for real voices):\n")
        out.append(_table(["language", "WER", "clips"], [[k, v["wer"], v["clips"]] for k, v in section["asr_wer"].items()]))
    if section.get("roundtrip"):
        out.append("\nRound trip (translate, then back-translate; chrF of the result against the original):\n")
        out.append(_table(["pair", "round-trip chrF"], [[r["pair"], r["chrf"]] for r in section["roundtrip"]]))
    return "\n".join(out)


def trend_md(history: list[dict]) -> str:
    rows = []
    for entry in history[-10:]:
        rows.append([entry.get("date", "?"), entry.get("quick", False), entry.get("median_first_audio", "—"),
                     entry.get("mean_chrf", "—"), entry.get("speech_chrf", "—")])
    return _table(["run", "quick", "median first audio s", "mean chrF", "speech chrF"], rows)


def speech_md(section: dict) -> str:
    return report_speech.speech_md(section, _table)


SECTIONS = (("Latency", "latency", latency_md), ("Peers", "peers", peers_md), ("Limits", "limits", limits_md),
            ("Quality", "quality", quality_md), ("Quality on real speech", "speech", speech_md))


def render_markdown(results: dict, history: list[dict], plots: list[str]) -> str:
    meta = results["meta"]
    out = [f"# Tolk bench — {meta['date']}", "",
           f"Machine: {meta['machine']}. Packs: {', '.join(meta['packs'])}. Mode: {'quick' if meta['quick'] else 'full'}.",
           ""]
    for title, key, fn in SECTIONS:
        out.append(f"## {title}\n")
        missing = _skipped(results.get(key), title)
        out.append(missing if missing else fn(results[key]))
        out.append("")
    out.append("## Trend\n")
    out.append(trend_md(history))
    for plot in plots:
        if not plot.startswith("timeline-"):  # the timelines are shown in the latency section
            out.append(f"\n![{plot}]({plot})")
    return "\n".join(out) + "\n"


def summary_for_history(results: dict) -> dict:
    import statistics

    entry = {"date": results["meta"]["date"], "quick": results["meta"]["quick"]}
    latency = results.get("latency") or {}
    medians = [r["first_audio"]["median"] for r in latency.get("rows", []) if r["first_audio"].get("n")]
    if medians:
        entry["median_first_audio"] = round(statistics.median(medians), 2)
    quality = results.get("quality") or {}
    if quality.get("chrf"):
        entry["mean_chrf"] = round(sum(r["chrf"] for r in quality["chrf"]) / len(quality["chrf"]), 1)
    speech = results.get("speech") or {}
    if not speech.get("skipped") and report_speech.mean_chrf(speech) is not None:
        entry["speech_chrf"] = report_speech.mean_chrf(speech)
    return entry


def plot(results: dict, history: list[dict], folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    latency = results.get("latency") or {}
    if latency.get("rows"):
        names += report_latency.plot_latency(latency, folder)
    quality = results.get("quality") or {}
    if quality.get("chrf"):
        rows = quality["chrf"]
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.bar([f"{r['src']}→{r['tgt']}" for r in rows], [r["chrf"] for r in rows], color="#8172b3")
        ax.set_ylabel("chrF")
        ax.set_ylim(0, 100)
        ax.tick_params(axis="x", rotation=60, labelsize=7)
        ax.set_title("Translation quality per direction")
        fig.tight_layout()
        fig.savefig(folder / "quality.png", dpi=100)
        plt.close(fig)
        names.append("quality.png")
    points = [h for h in history if "median_first_audio" in h]
    if len(points) >= 2:
        fig, ax = plt.subplots(figsize=(7, 2.5))
        ax.plot(range(len(points)), [p["median_first_audio"] for p in points], marker="o")
        ax.set_xticks(range(len(points)), [p["date"][5:16] for p in points], rotation=45, fontsize=7)
        ax.set_ylabel("median first audio s")
        fig.tight_layout()
        fig.savefig(folder / "trend.png", dpi=100)
        plt.close(fig)
        names.append("trend.png")
    return names


def write_report(results: dict, folder: Path) -> Path:
    """Append to the history, then write report.json, report.md and the plots."""
    folder.mkdir(parents=True, exist_ok=True)
    history_path = folder / HISTORY
    history = []
    if history_path.exists():
        for line in history_path.read_text(encoding="utf-8").splitlines():
            try:
                history.append(json.loads(line))
            except json.JSONDecodeError:
                log.warning("skipping a damaged history line")
    entry = summary_for_history(results)
    history.append(entry)
    with open(history_path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")
    (folder / "report.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    plots = plot(results, history, folder)
    path = folder / "report.md"
    path.write_text(render_markdown(results, history, plots), encoding="utf-8")
    return path
