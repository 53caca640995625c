"""Building the interpreter from the installed packs (the only place models are opened)."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.models.asr import AsrOptions, WhisperAsr
from tolk.models.errors import PackNotFoundError
from tolk.models.manifest import Engine, Kind
from tolk.models.selection import active_packs
from tolk.models.store import PackStore
from tolk.models.translate import load_translator
from tolk.models import languages
from tolk.models.speech_client import SpeechWorker, WorkerVoice
from tolk.models.speech_worker import EngineSpec
from tolk.models.tts import EspeakTts, SpeechRouter, TtsError
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
    voices = load_voices(by_kind[Kind.TTS], wait=False)  # the speech worker loads while ASR and MT do
    try:
        asr = WhisperAsr(asr_pack.path, asr_pack.manifest, asr_options)
        translator = load_translator(mt.path, mt.manifest)
    except BaseException:
        voices.close()
        raise
    settle_voices(voices)
    log.info("models loaded in %.1f s (asr %s, mt %s, voices %s)", time.monotonic() - started, asr_pack.id, mt.id,
             ", ".join(f"{lang.code} {voices.option(lang.code)}" for lang in languages.LANGUAGES
                       if voices.option(lang.code) not in ("espeak-ng", None)) or "espeak-ng only")
    return Interpreter(asr, translator, voices, config)


def load_voices(tts_packs, wait: bool = True) -> SpeechRouter:
    """Every installed voice engine, each language defaulting to the voice its measured figures favour.

    Piper and Kokoro load in the speech worker process (``tolk.models.speech_worker``), started here; ``wait``:
    return once it is ready (else it finishes loading in the background; ``router.worker.wait_ready()``). Close
    the router to stop the worker."""
    piper, kokoro, specs = {}, None, []
    worker = SpeechWorker(specs)
    for pack in tts_packs:
        if pack.manifest.engine is Engine.PIPER:
            name = f"piper:{pack.id}"
            for code in pack.manifest.languages:
                if code not in piper:
                    piper[code] = WorkerVoice(worker, name)
                    if name not in (spec.name for spec in specs):
                        specs.append(EngineSpec(name, "piper", str(pack.path)))
        elif pack.manifest.engine is Engine.KOKORO and kokoro is None:
            voices = {code: [Path(name).stem for name in files]
                      for code, files in pack.manifest.settings["voices"].items()}
            kokoro = WorkerVoice(worker, "kokoro", voices)
            specs.append(EngineSpec("kokoro", "kokoro", str(pack.path)))
    worker.specs = specs
    if specs:
        worker.start()
    try:
        espeak = EspeakTts()
    except TtsError as err:
        log.warning("%s", err)
        espeak = None
    router = SpeechRouter(piper, espeak, kokoro, worker=worker if specs else None)
    if wait:
        settle_voices(router)
    return router


def settle_voices(router: SpeechRouter) -> None:
    """Once the speech worker has loaded: an engine that did not load there is no option (its languages speak
    with the next one), and each language's default comes from the figures of the options that remain."""
    if router.worker is not None:
        if not router.worker.wait_ready():
            log.error("the speech worker is not ready: espeak-ng speaks until it is")
        failed = router.worker.failed
        router.piper_voices = {code: v for code, v in router.piper_voices.items() if v.engine not in failed}
        if router.kokoro is not None and router.kokoro.engine in failed:
            router.kokoro = None
    router.defaults = default_voices({lang.code: router.options(lang.code) for lang in languages.LANGUAGES})
