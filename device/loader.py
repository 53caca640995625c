"""Building the interpreter from the installed packs (the only place models are opened)."""
from __future__ import annotations

import logging
import time

from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.models.asr import AsrOptions, WhisperAsr
from tolk.models.errors import PackNotFoundError
from tolk.models.manifest import Engine, Kind
from tolk.models.selection import active_packs
from tolk.models.store import PackStore
from tolk.models.translate import load_translator
from tolk.models import languages
from tolk.models.tts import EspeakTts, PiperTts, SpeechRouter, TtsError
from tolk.models.tts_kokoro import KokoroTts
from tolk.models.voice_choice import default_voices

log = logging.getLogger(__name__)


def load_interpreter(store: PackStore, config: InterpreterConfig = InterpreterConfig(),
                     asr_options: AsrOptions = AsrOptions(), mt_pack: str | None = None) -> Interpreter:
    started = time.monotonic()
    store.clean_stale_staging()
    packs = [store.checked(p.id) for p in active_packs(store.installed())]  # verified before any is opened
    by_kind = {kind: [p for p in packs if p.manifest.kind is kind] for kind in Kind}
    if mt_pack:
        by_kind[Kind.MT] = [store.checked(mt_pack)]
    for kind in (Kind.ASR, Kind.MT):
        if not by_kind[kind]:
            raise PackNotFoundError(f"no {kind.value} pack installed; run: tolk models install-defaults")
    asr_pack, mt = by_kind[Kind.ASR][0], by_kind[Kind.MT][0]
    asr = WhisperAsr(asr_pack.path, asr_pack.manifest, asr_options)
    translator = load_translator(mt.path, mt.manifest)
    voices = load_voices(by_kind[Kind.TTS])
    log.info("models loaded in %.1f s (asr %s, mt %s, voices %s)", time.monotonic() - started, asr_pack.id, mt.id,
             ", ".join(f"{lang.code} {voices.option(lang.code)}" for lang in languages.LANGUAGES
                       if voices.option(lang.code) not in ("espeak-ng", None)) or "espeak-ng only")
    return Interpreter(asr, translator, voices, config)


def load_voices(tts_packs) -> SpeechRouter:
    """Every installed voice engine, each language defaulting to the voice its measured figures favour."""
    piper, kokoro = {}, None
    for pack in tts_packs:
        if pack.manifest.engine is Engine.PIPER:
            for code in pack.manifest.languages:
                piper.setdefault(code, PiperTts(pack.path, pack.manifest))
        elif pack.manifest.engine is Engine.KOKORO and kokoro is None:
            kokoro = KokoroTts(pack.path, pack.manifest)
            log.info("Kokoro voices ready (warm-up %.2f s)", kokoro.warm_up())
    try:
        espeak = EspeakTts()
    except TtsError as err:
        log.warning("%s", err)
        espeak = None
    router = SpeechRouter(piper, espeak, kokoro)
    router.defaults = default_voices({lang.code: router.options(lang.code) for lang in languages.LANGUAGES})
    return router
