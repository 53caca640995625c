"""Building the interpreter from the installed packs (the only place models are opened)."""
from __future__ import annotations

import logging
import time

from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.models.asr import AsrOptions, WhisperAsr
from tolk.models.errors import ErrorCode, PackNotFoundError, TolkError
from tolk.models.manifest import Engine, Kind
from tolk.models.selection import active_packs
from tolk.models.store import PackStore
from tolk.models.translate import load_translator
from tolk.models import languages
from tolk.models.tts import EspeakTts, PiperTts, SpeechRouter, TtsError
from tolk.models.tts_kokoro import KokoroTts
from tolk.models.voice_choice import default_voices

log = logging.getLogger(__name__)


REQUIRED = (Kind.ASR, Kind.MT)  # every pair needs both; a voice pack serves some languages, espeak-ng speaks the rest


def load_interpreter(store: PackStore, config: InterpreterConfig = InterpreterConfig(),
                     asr_options: AsrOptions = AsrOptions(), mt_pack: str | None = None) -> Interpreter:
    """The interpreter from the packs it needs: the ASR and translation packs must load (their failure is the
    error); a voice pack that fails its check or does not open is left out with a notice, and espeak-ng speaks
    its languages. Each version loaded is leased, so no install deletes it while this interpreter runs."""
    started = time.monotonic()
    store.clean_stale_staging()
    chosen = active_packs(store.installed())
    if mt_pack:
        chosen = [p for p in chosen if p.manifest.kind is not Kind.MT] + [store.get(mt_pack)]
    leases, notices, required = [], [], {}
    try:
        for kind in REQUIRED:  # verified before any is opened
            pack = next((p for p in chosen if p.manifest.kind is kind), None)
            if pack is None:
                raise PackNotFoundError(f"no {kind.value} pack installed; run: tolk models install-defaults")
            required[kind], lease = store.use(pack.id)
            leases.append(lease)
        voice_packs = []
        for pack in (p for p in chosen if p.manifest.kind is Kind.TTS):
            try:
                checked, lease = store.use(pack.id)
            except TolkError as err:
                notices.append(_left_out(pack.id, err))
                continue
            leases.append(lease)
            voice_packs.append(checked)
        asr_pack, mt = required[Kind.ASR], required[Kind.MT]
        asr = WhisperAsr(asr_pack.path, asr_pack.manifest, asr_options)
        translator = load_translator(mt.path, mt.manifest)
        voices = load_voices(voice_packs, notices)
    except BaseException:
        for lease in leases:
            lease.close()
        raise
    log.info("models loaded in %.1f s (asr %s, mt %s, voices %s)", time.monotonic() - started, asr_pack.id, mt.id,
             ", ".join(f"{lang.code} {voices.option(lang.code)}" for lang in languages.LANGUAGES
                       if voices.option(lang.code) not in ("espeak-ng", None)) or "espeak-ng only")
    return Interpreter(asr, translator, voices, config, notices=tuple(notices), leases=tuple(leases))


def _left_out(pack_id: str, err: Exception) -> str:
    """The notice for an optional pack that is not used (logged in full; the screen shows one short line)."""
    code = err.code if isinstance(err, TolkError) else ErrorCode.PACK_BROKEN
    log.error("voice pack %s left out, espeak-ng speaks its languages: %s: %s", pack_id, type(err).__name__, err)
    return f"Voice {pack_id} off [{code}]: espeak-ng speaks"  # the code stays on the 240 px screen


def load_voices(tts_packs, notices: list[str] | None = None) -> SpeechRouter:
    """Every installed voice engine, each language defaulting to the voice its measured figures favour. A voice
    pack that does not open is left out (a line added to ``notices``; without a list, the error is raised)."""
    piper, kokoro = {}, None
    for pack in tts_packs:
        try:
            if pack.manifest.engine is Engine.PIPER:
                voice = PiperTts(pack.path, pack.manifest)
                for code in pack.manifest.languages:
                    piper.setdefault(code, voice)
            elif pack.manifest.engine is Engine.KOKORO and kokoro is None:
                engine = KokoroTts(pack.path, pack.manifest)
                log.info("Kokoro voices ready (warm-up %.2f s)", engine.warm_up())
                kokoro = engine
        except Exception as err:  # noqa: BLE001 - any failure to open an optional voice leaves only it out
            if notices is None:
                raise
            notices.append(_left_out(pack.id, err))
    try:
        espeak = EspeakTts()
    except TtsError as err:
        log.warning("%s", err)
        espeak = None
    router = SpeechRouter(piper, espeak, kokoro)
    router.defaults = default_voices({lang.code: router.options(lang.code) for lang in languages.LANGUAGES})
    return router
