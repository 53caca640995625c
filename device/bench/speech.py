"""`tolk bench --only speech`: recognition, language choice and speech translation on real human recordings.

The dev set is models/build/speechset.py (Asterisk prompts recorded in en, es and fr, paired by prompt id). For a
fixed, evenly spread selection of prompts recorded in all three languages:

- WER per language: Whisper with the language given (recognition alone), normalised text (device/bench/metrics);
- language choice within each pair (en,es), (en,fr), (es,fr): ``transcribe(allowed=pair)`` as the device runs it;
- end-to-end chrF for the six directions: the same pair decode, then the streamed translation into the other
  language of the pair, as the device does it (a wrong language choice translates the wrong way, and scores so);
  the reference is the other language's transcript of the same prompt.
"""
from __future__ import annotations

import itertools
import logging
import time
from typing import Sequence

from tolk.device.bench import metrics

log = logging.getLogger(__name__)

PROMPTS_QUICK, PROMPTS_FULL = 6, 40
MIN_WORDS = 4  # shorter prompts ("five", "goodbye") say little about translation
MAX_SECONDS = 12.0
SKIP = ("digits/", "letters/", "phonetic/", "ascii/", "silence/", "beeps/")
WORST = 6


def select_prompts(trios: dict[str, dict], count: int, words: dict[str, int]) -> list[str]:
    """``count`` prompt ids spread evenly over the sorted ids recorded in all three languages (deterministic)."""
    ids = sorted(k for k, v in trios.items() if len(v) >= 3 and not k.startswith(SKIP) and words.get(k, 0) >= MIN_WORDS)
    if count >= len(ids):
        return ids
    step = len(ids) / count
    return [ids[int(i * step)] for i in range(count)]


def worst_examples(rows: Sequence[dict], count: int = WORST) -> list[dict]:
    """The lowest sentence-level chrF rows, at most two per direction so that one direction does not fill the list."""
    picked, per_direction = [], {}
    for row in sorted(rows, key=lambda r: r["chrf"]):
        key = (row["src"], row["tgt"])
        if per_direction.get(key, 0) < 2:
            per_direction[key] = per_direction.get(key, 0) + 1
            picked.append(row)
        if len(picked) == count:
            break
    return picked


def speech_section(engines, options, progress) -> dict:
    from tolk.models import paths
    from tolk.models.build import quality, speechset
    from tolk.models.build.evaluate import streamed_translation
    from tolk.models.errors import TolkError

    try:
        root = speechset.ensure_speechset(paths.cache_dir())
        clips = speechset.load_clips(root)
    except TolkError as err:
        return {"skipped": str(err)}
    trios = speechset.pairs(clips)
    words = {k: len(v["en"].transcript.split()) for k, v in trios.items() if "en" in v}
    count = options.speech_prompts or (PROMPTS_QUICK if options.quick else PROMPTS_FULL)
    chosen = []
    for prompt in select_prompts(trios, count * 2, words):  # twice as many candidates: long clips are dropped
        audio = {lang: trios[prompt][lang].audio() for lang in speechset.LANGUAGES}
        if all(a.size / speechset.RATE <= MAX_SECONDS for a in audio.values()):
            chosen.append((prompt, audio))
        if len(chosen) == count:
            break
    started, retries = time.monotonic(), getattr(engines.translator, "retries", 0)
    heard = {lang: [] for lang in speechset.LANGUAGES}
    choice = {f"{a},{b}": {"right": 0, "n": 0, "wrong": []} for a, b in itertools.combinations(speechset.LANGUAGES, 2)}
    rows = []
    for n, (prompt, audio) in enumerate(chosen, 1):
        trio = trios[prompt]
        for lang in speechset.LANGUAGES:
            heard[lang].append(engines.asr.transcribe(audio[lang], forced=lang).text)
            for other in speechset.LANGUAGES:
                if other == lang:
                    continue
                pair = tuple(sorted((lang, other), key=speechset.LANGUAGES.index))
                transcript = engines.asr.transcribe(audio[lang], allowed=pair)
                tally = choice[",".join(pair)]
                tally["n"] += 1
                tally["right"] += transcript.language == lang
                if transcript.language != lang:
                    tally["wrong"].append(f"{lang}:{prompt}→{transcript.language}")
                into = other if transcript.language == lang else lang
                output = streamed_translation(engines.translator, transcript.text, transcript.language, into) \
                    if transcript.text.strip() and transcript.language != into else ""
                reference = trio[other].transcript
                rows.append({"prompt": prompt, "src": lang, "tgt": other, "said": trio[lang].transcript,
                             "heard": transcript.text, "heard_as": transcript.language, "translation": output,
                             "reference": reference, "chrf": round(quality.sentence_chrf(output, reference), 1)})
        progress(f"speech: {n}/{len(chosen)} prompts ({time.monotonic() - started:.0f} s)")
    wer = {lang: {"wer": round(metrics.wer([trios[p][lang].transcript for p, _ in chosen], heard[lang]), 3),
                  "clips": len(chosen),
                  "seconds": round(sum(a[lang].size for _, a in chosen) / speechset.RATE, 1)}
           for lang in speechset.LANGUAGES}
    directions = []
    for src, tgt in itertools.permutations(speechset.LANGUAGES, 2):
        mine = [r for r in rows if r["src"] == src and r["tgt"] == tgt]
        directions.append({"src": src, "tgt": tgt, "n_segments": len(mine),
                           "chrf": round(quality.chrf([r["translation"] for r in mine], [r["reference"] for r in mine]), 1)})
    return {"corpus": f"Asterisk core sounds {speechset.VERSION} (Debian; {speechset.LICENCE})",
            "prompts": [p for p, _ in chosen], "n_prompts": len(chosen), "wer": wer,
            "language_choice": {k: {"accuracy": round(v["right"] / max(v["n"], 1), 3), **v} for k, v in choice.items()},
            "chrf": directions, "worst": worst_examples(rows), "rows": rows,
            "guard_retries": getattr(engines.translator, "retries", 0) - retries,
            "seconds": round(time.monotonic() - started, 1)}
