"""Open a pack's engine and run one tiny inference: what an install checks before it switches to a new version.

Hashes prove the files are the ones the manifest names; only loading proves the pack works with this device's
engines (a model converted for another CTranslate2 version, a voice file that is not ONNX). A pack that fails
here is never made active: the version in use stays.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from tolk.models.errors import ErrorCode, TolkError
from tolk.models.manifest import Engine, Kind

log = logging.getLogger(__name__)


class PackLoadError(TolkError):
    code = ErrorCode.PACK_BROKEN


def load_test(pack) -> None:
    """Raise ``PackLoadError`` unless ``pack`` (an ``InstalledPack``) opens and answers one tiny request."""
    manifest, started = pack.manifest, time.monotonic()
    try:
        _run(pack.path, manifest)
    except Exception as err:  # noqa: BLE001 - any failure to load means the pack is not usable here
        raise PackLoadError(f"{manifest.id} does not load: {type(err).__name__}: {err}"[:300]) from err
    log.info("pack %s loads and answers (%.1f s)", manifest.id, time.monotonic() - started)


def _run(path, manifest) -> None:
    language = manifest.languages[0]
    if manifest.kind is Kind.ASR:
        from tolk.models.asr import WhisperAsr

        WhisperAsr(path, manifest).transcribe(np.zeros(16000, dtype=np.float32), forced=language)
    elif manifest.kind is Kind.MT:
        from tolk.models.translate import load_translator

        target = next(code for code in manifest.languages if code != language)
        (result,) = load_translator(path, manifest).translate(["Hello."], language, target)
        if not result.text.strip():
            raise ValueError("an empty translation of 'Hello.'")
    elif manifest.engine is Engine.PIPER:
        from tolk.models.tts import PiperTts

        speech = list(PiperTts(path, manifest).speak("Hello.", language))
        if not speech or speech[0].audio.size == 0:
            raise ValueError("no audio for 'Hello.'")
    elif manifest.engine is Engine.KOKORO:
        from tolk.models.tts_kokoro import KokoroTts

        speech = list(KokoroTts(path, manifest).speak("Hello.", language))
        if not speech or speech[0].audio.size == 0:
            raise ValueError("no audio for 'Hello.'")
