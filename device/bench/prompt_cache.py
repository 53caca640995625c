"""Time to the first translated token with and without the cached static prompt (CTranslate2 `static_prompt`).

The same sentences, the same pack, one after the other: the prompt head of a language pair (system prompt and
instruction) is either prefilled every time, or computed once and its state reused. The first run of each mode
is a warm-up and is left out.
"""
from __future__ import annotations

import time
from typing import Sequence

from tolk.device.bench import metrics
from tolk.models import languages

SENTENCES = ("Where is the train station?", "Excuse me, where is the nearest pharmacy?",
             "I need a doctor, my friend has a fever.", "How much does a ticket to the airport cost?")


def first_token_seconds(translator, sentence: str, source: str, target: str) -> float:
    started = time.perf_counter()
    pieces = translator.stream(sentence, source, target)
    try:
        next(pieces, None)
        return time.perf_counter() - started
    finally:
        pieces.close()


def measure(translator, source: str = "en", target: str = "es", rounds: int = 3,
            sentences: Sequence[str] = SENTENCES) -> dict:
    """Median (min–max) time to first token, prefilling the whole prompt vs. reusing the cached head."""
    key = (translator.manifest.id, source, target)
    out = {}
    for mode in ("full prompt", "static prompt cached"):
        translator.static_prompts.pop(key, None)
        if mode == "full prompt":
            translator.static_prompts[key] = None  # no head: the whole prompt is prefilled each time
        first_token_seconds(translator, sentences[0], source, target)  # warm-up
        times = [first_token_seconds(translator, s, source, target) for _ in range(rounds) for s in sentences]
        summary = metrics.summarise(times)
        out[mode] = {"median": summary.median, "low": summary.low, "high": summary.high, "n": len(times)}
    translator.static_prompts.pop(key, None)
    head = translator.static_prompt(languages.get(source), languages.get(target))
    out["head_tokens"] = len(head or [])
    return out
