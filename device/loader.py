"""Building the interpreter from the installed packs (the only place models are opened)."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.models.asr import AsrOptions, WhisperAsr
from tolk.models.errors import PackNotFoundError, TolkError
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


REQUIRED = (Kind.ASR, Kind.MT)  # every pair needs both; a voice pack serves some languages, espeak-ng speaks the rest


def load_interpreter(store: PackStore, config: InterpreterConfig = InterpreterConfig(),
                     asr_options: AsrOptions = AsrOptions(), mt_pack: str | None = None) -> Interpreter:
    """The interpreter from the packs it needs: the ASR and translation packs must load (their failure is the
    error); a voice pack that fails its check or does not open is left out with a notice, and espeak-ng speaks
    its languages. Each version loaded is leased, so no install deletes it while this interpreter runs. The
    voices load in the speech worker process while ASR and MT load here."""
    started = time.monotonic()
    store.clean_stale_staging()
    chosen = active_packs(store.installed())
    if mt_pack:
        chosen = [p for p in chosen if p.manifest.kind is not Kind.MT] + [store.get(mt_pack)]
    leases, notices, required, voices = [], [], {}, None
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
                notices.append(_left_out(pack.id, err.code, f"{type(err).__name__}: {err}"))
                continue
            leases.append(lease)
            voice_packs.append(checked)
        asr_pack, mt = required[Kind.ASR], required[Kind.MT]
        voices = load_voices(voice_packs, wait=False)  # the speech worker loads while ASR and MT do
        asr = WhisperAsr(asr_pack.path, asr_pack.manifest, asr_options)
        translator = load_translator(mt.path, mt.manifest)
        settle_voices(voices, notices)
    except BaseException:
        if voices is not None:
            voices.close()
        for lease in leases:
            lease.close()
        raise
    log.info("models loaded in %.1f s (asr %s, mt %s, voices %s)", time.monotonic() - started, asr_pack.id, mt.id,
             ", ".join(f"{lang.code} {voices.option(lang.code)}" for lang in languages.LANGUAGES
                       if voices.option(lang.code) not in ("espeak-ng", None)) or "espeak-ng only")
    return Interpreter(asr, translator, voices, config, notices=tuple(notices), leases=tuple(leases))


def _left_out(pack_id: str, code: object, why: str) -> str:
    """The notice for an optional pack that is not used (logged in full; the screen shows one short line)."""
    log.error("voice pack %s left out, espeak-ng speaks its languages: %s", pack_id, why)
    return f"Voice {pack_id} off [{code}]: espeak-ng speaks"  # the code stays on the 240 px screen


def load_voices(tts_packs, wait: bool = True, notices: list[str] | None = None) -> SpeechRouter:
    """Every installed voice engine, each language defaulting to the voice its measured figures favour.

    Piper and Kokoro load in the speech worker process (``tolk.models.speech_worker``), started here; ``wait``:
    return once it is ready (else it finishes loading in the background; ``settle_voices``). A voice that does
    not load there is left out (a line added to ``notices``). Close the router to stop the worker."""
    piper, kokoro, specs = {}, None, []
    worker = SpeechWorker(specs)
    for pack in tts_packs:
        if pack.manifest.engine is Engine.PIPER:
            name = f"piper:{pack.id}"
            for code in pack.manifest.languages:
                if code not in piper:
                    piper[code] = WorkerVoice(worker, name)
                    if name not in (spec.name for spec in specs):
                        specs.append(EngineSpec(name, "piper", str(pack.path), pack_id=pack.id))
        elif pack.manifest.engine is Engine.KOKORO and kokoro is None:
            voices = {code: [Path(name).stem for name in files]
                      for code, files in pack.manifest.settings["voices"].items()}
            kokoro = WorkerVoice(worker, "kokoro", voices)
            specs.append(EngineSpec("kokoro", "kokoro", str(pack.path), pack_id=pack.id))
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
        settle_voices(router, notices)
    return router


def settle_voices(router: SpeechRouter, notices: list[str] | None = None) -> None:
    """Once the speech worker has loaded: an engine that did not load there is no option (its languages speak
    with the next one, and ``notices`` gets a line naming its pack), and each language's default comes from the
    figures of the options that remain."""
    if router.worker is not None:
        if not router.worker.wait_ready():
            log.error("the speech worker is not ready: espeak-ng speaks until it is")
        failed = router.worker.failed
        if notices is not None:
            notices.extend(_left_out(spec.pack_id or spec.name, *failed[spec.name])
                           for spec in router.worker.specs if spec.name in failed)
        router.piper_voices = {code: v for code, v in router.piper_voices.items() if v.engine not in failed}
        if router.kokoro is not None and router.kokoro.engine in failed:
            router.kokoro = None
    router.defaults = default_voices({lang.code: router.options(lang.code) for lang in languages.LANGUAGES})
