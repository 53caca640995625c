"""The RAM one voice engine adds, measured in a fresh process (``python -m tolk.device.bench.voice_memory``).

The parent (device/bench/voices.py) runs this once per engine so that nothing else loaded skews the figures. It
reads a JSON request on stdin: ``{"engine": "kokoro" | "piper" | "espeak-ng", "pack": path or null, "texts":
{language: [sentence, ...]}}``, imports what every engine needs (numpy, tolk.models.tts), then reads this process's
VmRSS before loading the engine, after loading it, and after speaking the texts, and its VmHWM (peak); it prints
one JSON line with those in MB. espeak-ng runs as a child process per utterance: its own peak
(``child_peak_mb``) is read by running the same utterances under ``/usr/bin/time -f %M`` (the rusage of a
child forked from Python would count Python's pages too).
"""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from tolk.device.bench.metrics import status_mb

log = logging.getLogger(__name__)


def load_engine(engine: str, pack: str | None):
    from tolk.models.manifest import PackManifest
    from tolk.models.tts import EspeakTts, PiperTts

    if engine == "espeak-ng":
        return EspeakTts()
    manifest = PackManifest.load(Path(pack))
    if engine == "piper":
        return PiperTts(Path(pack), manifest)
    from tolk.models.tts_kokoro import KokoroTts

    return KokoroTts(Path(pack), manifest)


def measure(request: dict) -> dict:
    import numpy  # noqa: F401 - baseline: what every engine needs is loaded before "before"

    import tolk.models.tts  # noqa: F401

    before = status_mb("VmRSS")
    engine = load_engine(request["engine"], request.get("pack"))
    loaded = status_mb("VmRSS")
    spoken = 0
    for language, texts in request["texts"].items():
        for text in texts:
            for _ in engine.speak(text, language):
                pass
            spoken += 1
    child = espeak_peak_mb(request["texts"]) if request["engine"] == "espeak-ng" else None
    return {"engine": request["engine"], "before_mb": round(before, 1), "loaded_mb": round(loaded, 1),
            "after_mb": round(status_mb("VmRSS"), 1), "peak_mb": round(status_mb("VmHWM"), 1),
            "child_peak_mb": child, "sentences": spoken}


def espeak_peak_mb(texts: dict[str, list[str]]) -> float | None:
    """The largest peak RSS of one espeak-ng process speaking each text as EspeakTts runs it (None: no
    /usr/bin/time)."""
    from tolk.models import languages

    timer, binary = shutil.which("time", path="/usr/bin"), shutil.which("espeak-ng")
    if timer is None or binary is None:
        return None
    peak = 0.0
    for language, sentences in texts.items():
        for text in sentences:
            proc = subprocess.run([timer, "-f", "%M", binary, "-v", languages.get(language).espeak, "--stdin",
                                   "--stdout"], input=text.encode("utf-8"), capture_output=True, timeout=60)
            peak = max(peak, int(proc.stderr.decode().strip().splitlines()[-1]) / 1024)
    return round(peak, 1)


def main() -> int:
    print(json.dumps(measure(json.loads(sys.stdin.read()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
