"""`tolk bench --only voices`: every voice option of every Kokoro language, measured the same way.

For each language the Kokoro pack serves (and the grapheme-to-phoneme serves) and each voice option for it (every
Kokoro voice of the language, Piper where it has a voice, espeak-ng):

- intelligibility: the same UDHR sentences (device/bench/voice_text.py) synthesised, resampled to 16 kHz and
  transcribed by the installed Whisper pack told the language; character error rate after ``metrics.normalise_chars``;
- speed: real-time factor (synthesis seconds ÷ seconds of speech) over those sentences, and the time to the first
  audio of a fixed 6-word clause (text in → first Speech chunk out; one warm-up, then the median of
  ``FIRST_AUDIO_RUNS``); Kokoro with the pack's intra-op thread setting, and its clause again with 1 and 2;
- RAM: what each engine adds, loaded and after speaking, each in a fresh process (device/bench/voice_memory.py).

The figures feed ``tolk.models.voice_choice`` (each language's default voice) through report_voices.py.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from tolk.device.bench import metrics, voice_text

log = logging.getLogger(__name__)

DEFAULT_SENTENCES = 50
FIRST_AUDIO_RUNS = 5
WORST = 3
THREADS_COMPARED = (1, 2)  # onnxruntime intra-op threads, on the first-audio clause (the sentences: the pack's)
RAM_SENTENCES = 2  # per language, spoken in the RAM subprocess after loading
ESPEAK, PIPER, KOKORO = "espeak-ng", "piper", "kokoro:"

Speak = Callable[[str], Iterator]


def traditional_set(udhr_dir: Path) -> frozenset[str]:
    """Characters of the UDHR's traditional Chinese text that its simplified text never uses: counting them in
    Whisper's output tells whether it wrote traditional characters for zh (it is not converted)."""
    from tolk.models.build import udhr

    simplified = set("".join(udhr.load_articles(udhr_dir, "cmn_hans").values()))
    return frozenset(c for c in "".join(udhr.load_articles(udhr_dir, "cmn_hant").values())
                     if c not in simplified and "\u4e00" <= c <= "\u9fff")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def voice_options(language: str, kokoro, piper: dict, espeak) -> dict[str, Speak]:
    """Option name → a function speaking ``language`` with it (Kokoro voices first, then Piper, then espeak-ng)."""
    out: dict[str, Speak] = {}
    for voice in getattr(kokoro, "voices", {}).get(language, []):
        out[KOKORO + voice] = lambda text, v=voice: kokoro.speak(text, language, voice=v)
    if language in piper:
        out[PIPER] = lambda text: piper[language].speak(text, language)
    if espeak is not None:
        out[ESPEAK] = lambda text: espeak.speak(text, language)
    return out


def first_audio(speak: Speak, clause: str, runs: int = FIRST_AUDIO_RUNS) -> list[float]:
    """Seconds from the text to the first Speech chunk, ``runs`` times after one warm-up."""
    def once() -> float:
        started = time.perf_counter()
        chunks = iter(speak(clause))
        next(chunks)
        seconds = time.perf_counter() - started
        getattr(chunks, "close", lambda: None)()
        return seconds

    once()
    return [once() for _ in range(runs)]


def synthesise(speak: Speak, text: str) -> tuple[np.ndarray, float, float]:
    """16 kHz audio of ``text``, the synthesis seconds and the seconds of speech."""
    from tolk.audio.clip import ASR_RATE, resample

    started = time.perf_counter()
    chunks = list(speak(text))
    seconds = time.perf_counter() - started
    speech_s = sum(c.audio.size / c.sample_rate for c in chunks)
    audio = np.concatenate([resample(c.audio, c.sample_rate, ASR_RATE) for c in chunks]) if chunks \
        else np.zeros(0, np.float32)
    return audio, seconds, speech_s


def measure_option(speak: Speak, sentences: list[str], asr, language: str,
                   traditional: frozenset[str] = frozenset()) -> dict:
    """CER, RTF and the worst examples of one option over ``sentences``."""
    rows, synth_s, speech_s, errors = [], 0.0, 0.0, []
    for text in sentences:
        try:
            audio, seconds, spoken = synthesise(speak, text)
        except Exception as err:  # noqa: BLE001 - a failing sentence scores as unheard, and is reported
            log.error("%s: %s: %s", language, type(err).__name__, err)
            errors.append(f"{type(err).__name__}: {err}"[:200])
            audio, seconds, spoken = np.zeros(0, np.float32), 0.0, 0.0
        synth_s, speech_s = synth_s + seconds, speech_s + spoken
        previous = voice_text.PREVIOUS_TEXT.get(language, "")
        heard = asr.transcribe(audio, forced=language, previous=previous).text if audio.size else ""
        rows.append({"text": text, "heard": heard, "cer": round(metrics.cer([text], [heard]), 3)})
    worst = sorted(rows, key=lambda r: -r["cer"])[:WORST]
    return {"cer": round(metrics.cer([r["text"] for r in rows], [r["heard"] for r in rows]), 4),
            "rtf": round(synth_s / speech_s, 3) if speech_s else None, "synth_s": round(synth_s, 1),
            "speech_s": round(speech_s, 1), "sentences": len(rows), "errors": errors, "worst": worst,
            "traditional_chars": sum(c in traditional for r in rows for c in r["heard"]),
            "rows": rows}


def measure_ram(engine: str, pack: Path | None, texts: dict[str, list[str]]) -> dict:
    """``voice_memory`` in a fresh process for ``engine``."""
    request = json.dumps({"engine": engine, "pack": str(pack) if pack else None, "texts": texts})
    proc = subprocess.run([sys.executable, "-m", "tolk.device.bench.voice_memory"], input=request, text=True,
                          capture_output=True, timeout=900)
    if proc.returncode != 0:
        return {"skipped": proc.stderr.strip()[-300:]}
    ram = json.loads(proc.stdout.strip().splitlines()[-1])
    own = ram["peak_mb"] - ram["before_mb"]
    ram["added_loaded_mb"] = round(ram["loaded_mb"] - ram["before_mb"], 1)
    ram["added_peak_mb"] = round(own + (ram["child_peak_mb"] or 0.0), 1)
    return ram


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def thread_comparison(kokoro_by_threads: dict[int, object], language: str, voice: str) -> dict:
    """First audio of the language's clause in ``voice`` with each onnxruntime intra-op thread count."""
    out = {}
    for threads, engine in kokoro_by_threads.items():
        runs = first_audio(lambda text: engine.speak(text, language, voice=voice), voice_text.CLAUSES[language])
        out[f"first_audio_threads{threads}_s"] = _median(runs)
        out[f"first_audio_threads{threads}_runs"] = [round(r, 3) for r in runs]
    return out


def measure_language(language: str, options: dict[str, Speak], asr, sentences: list[str],
                     kokoro_by_threads: dict[int, object] | None = None, progress: Callable[[str], None] = print,
                     traditional: frozenset[str] = frozenset()) -> dict:
    from tolk.models import languages

    clause = voice_text.CLAUSES[language]
    out = {"sentences": sentences, "clause": clause, "script": languages.get(language).script, "load": load_average(),
           "options": {}}
    for option, speak in options.items():
        started = time.monotonic()
        runs = first_audio(speak, clause)
        figures = measure_option(speak, sentences, asr, language, traditional)
        figures.update(first_audio_s=_median(runs), first_audio_runs=[round(r, 3) for r in runs])
        if option.startswith(KOKORO) and kokoro_by_threads:
            figures.update(thread_comparison(kokoro_by_threads, language, option[len(KOKORO):]))
        out["options"][option] = figures
        progress(f"voices {language} {option}: CER {figures['cer']:.3f}, RTF {figures['rtf']}, first audio "
                 f"{figures['first_audio_s']:.2f} s ({time.monotonic() - started:.0f} s, load {load_average()[0]})")
    return out


def run_voices(store, out: Path, sentences: int = DEFAULT_SENTENCES, progress: Callable[[str], None] = print,
               figures_path: Path | None = None, command: str = "tolk bench --only voices",
               only: list[str] | None = None) -> Path:
    """Measure every language the Kokoro pack serves, or with ``only`` just those, keeping the other languages'
    figures (and the RAM table) from the ``results.json`` already in ``out``."""
    from tolk.device.bench import report_voices
    from tolk.models import paths
    from tolk.models.asr import WhisperAsr
    from tolk.models.build import udhr
    from tolk.models.errors import PackNotFoundError
    from tolk.models.g2p import LANGUAGES as G2P_LANGUAGES
    from tolk.models.manifest import Engine, Kind
    from tolk.models.selection import active_packs
    from tolk.models.tts import EspeakTts, PiperTts, TtsError
    from tolk.models.tts_kokoro import KokoroTts

    started = time.monotonic()
    packs = active_packs(store.installed())
    asr_pack = next((p for p in packs if p.manifest.kind is Kind.ASR), None)
    kokoro_pack = next((p for p in store.installed() if p.manifest.engine is Engine.KOKORO), None)
    if asr_pack is None or kokoro_pack is None:
        raise PackNotFoundError("the voices bench needs a Whisper pack and the Kokoro pack installed")
    piper_packs = [p for p in store.installed() if p.manifest.engine is Engine.PIPER]
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
            "load_start": load_average(), "command": command, "sentences_wanted": sentences,
            "asr": asr_pack.id, "kokoro": kokoro_pack.id, "piper": [p.id for p in piper_packs],
            "first_audio_runs": FIRST_AUDIO_RUNS}
    asr = WhisperAsr(asr_pack.path, asr_pack.manifest)
    kokoro = KokoroTts(kokoro_pack.path, kokoro_pack.manifest)
    kokoro_by_threads = {n: KokoroTts(kokoro_pack.path, kokoro_pack.manifest, threads=n) for n in THREADS_COMPARED}
    meta["kokoro_threads"] = kokoro.model.session.get_session_options().intra_op_num_threads
    piper = {}
    for pack in piper_packs:
        for code in pack.manifest.languages:
            piper.setdefault(code, PiperTts(pack.path, pack.manifest))
    try:
        espeak = EspeakTts()
    except TtsError as err:
        log.warning("%s", err)
        espeak = None
    udhr_dir = udhr.ensure_udhr(paths.cache_dir())
    served = [c for c in kokoro.languages if c in G2P_LANGUAGES]
    skipped = {c: "the Kokoro pack has voices but the grapheme-to-phoneme does not serve it" for c in kokoro.languages
               if c not in G2P_LANGUAGES}
    if "ja" not in kokoro.languages:
        skipped["ja"] = "no Japanese voice in the Kokoro pack" + ("" if "ja" in G2P_LANGUAGES else
                                                                  ", and no Japanese grapheme-to-phoneme")
    results: dict = {"meta": meta, "languages": {}, "skipped": skipped}
    if only:
        earlier = json.loads((out / "results.json").read_text(encoding="utf-8"))
        results = dict(earlier, languages=dict(earlier["languages"]))
        results["meta"] = dict(earlier["meta"], rerun={"languages": only, "date": meta["date"],
                                                       "load_start": meta["load_start"], "command": command})
        served = [c for c in served if c in only]
    for engine in (kokoro, *kokoro_by_threads.values()):  # onnxruntime's first calls in a process are slow: not
        for language in served:                           # the first voice's figures (measured: 1.7 s against 0.9)
            list(engine.speak(voice_text.CLAUSES[language], language))
    for language in served:
        texts = voice_text.load_sentences(udhr_dir, language, sentences)
        results["languages"][language] = measure_language(
            language, voice_options(language, kokoro, piper, espeak), asr, texts, kokoro_by_threads, progress,
            traditional_set(udhr_dir) if language == "zh" else frozenset())
        report_voices.write_voices(results, out)  # what is measured so far, should a later language fail
    if only:
        results["meta"]["rerun"]["load_end"] = load_average()
        return report_voices.write_voices(results, out, figures_path)
    progress("voices: RAM per engine, each in a fresh process")
    ram_texts = {c: results["languages"][c]["sentences"][:RAM_SENTENCES] for c in served}
    results["ram"] = {"kokoro": measure_ram("kokoro", kokoro_pack.path, ram_texts)}
    for code, pack in ((c, p) for p in piper_packs for c in p.manifest.languages if c in ram_texts):
        results["ram"].setdefault(PIPER, measure_ram("piper", pack.path, {code: ram_texts[code]}))
    if espeak is not None:
        results["ram"][ESPEAK] = measure_ram(ESPEAK, None, ram_texts)
    meta.update(load_end=load_average(), seconds=round(time.monotonic() - started, 1))
    return report_voices.write_voices(results, out, figures_path)
