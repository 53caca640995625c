"""The speech section of the bench report (device/bench/speech.py): pure Markdown from the results dict."""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def speech_md(section: dict, table: Callable) -> str:
    n = section["n_prompts"]
    out = [f"Real human speech: {section['corpus']}. **{n} prompts** recorded in en, es and fr "
           f"({3 * n} clips), the same prompts in every language.\n",
           "Word error rate, Whisper told the language (normalised: lower case, no punctuation; digits and "
           "spelled numbers count as different words):\n",
           table(["language", "WER", "clips", "speech s"],
                 [[k, f"{v['wer']:.2f}", v["clips"], f"{v['seconds']:.0f}"] for k, v in section["wer"].items()]),
           "\nLanguage choice within each pair, detection restricted to the pair (`transcribe(allowed=pair)`, "
           "as the device runs it):\n",
           table(["pair", "correct", "clips", "wrong (clip → chosen)"],
                 [[k, f"{v['accuracy'] * 100:.1f} %", v["n"], _short(", ".join(v["wrong"]) or "—", 120)]
                  for k, v in section["language_choice"].items()])]
    rows = section["chrf"]
    mean = sum(r["chrf"] for r in rows) / max(len(rows), 1)
    out += ["\nEnd-to-end speech translation (recording → ASR with the pair → streamed translation), chrF against "
            "the other language's transcript of the same prompt:\n",
            table(["direction", "chrF", "segments"], [[f"{r['src']}→{r['tgt']}", f"{r['chrf']:.1f}", r["n_segments"]]
                                                      for r in rows]),
            f"\nMean chrF over the six directions: **{mean:.1f}** "
            f"(answers retried by the non-translation guard: {section.get('guard_retries', 0)})"]
    if section.get("worst"):
        out += ["\nWorst examples (sentence chrF):\n",
                table(["direction", "chrF", "heard", "translation", "reference"],
                      [[f"{r['src']}→{r['tgt']}" + ("" if r["heard_as"] == r["src"] else f" (heard as {r['heard_as']})"),
                        f"{r['chrf']:.0f}", _short(r["heard"]), _short(r["translation"]), _short(r["reference"])]
                       for r in section["worst"]])]
    return "\n".join(out)


def mean_chrf(section: dict) -> float | None:
    rows = section.get("chrf") or []
    return round(sum(r["chrf"] for r in rows) / len(rows), 1) if rows else None
