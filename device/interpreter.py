"""The interpreter: one Turn = speech -> text -> translation -> speech, as a stream of typed events.

One inference worker thread owns the models and runs one job at a time (the
CPU is the bottleneck, so stages never fight over cores). Callers get a ``Turn``
(``tolk.device.turn``) whose events arrive on a queue; they never block the
worker. The turn is a pipeline: partial decodes and early translations while the
person talks, then the final ASR, then the translation streamed clause by clause
into speech. A turn can be cancelled at any point: a queued turn runs no ASR, and
the check runs at every partial, every generated token and between clauses.
"""
from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from tolk.audio.clip import ASR_RATE
from tolk.device import events as ev
from tolk.device.turn import EarlyJob, EarlyTranslation, LiveTurn, PartialJob, Turn
from tolk.models import guard, languages, logtext
from tolk.models.asr import Transcript, stable_prefix
from tolk.models.errors import ErrorCode, TolkError, UnknownLanguageError
from tolk.models.language_choice import alternation_prior
from tolk.models.clauses import FIRST_CLAUSE_MIN_CHARS, Clause, ClauseCutter, join_clauses
from tolk.models.sentences import has_text, split_sentences
from tolk.models.translate import Translator
from tolk.models.tts import SpeechRouter

log = logging.getLogger(__name__)


class AudioTooLongError(TolkError):
    code = ErrorCode.AUDIO_TOO_LONG


@dataclass(frozen=True)
class InterpreterConfig:
    max_seconds: float = 30.0  # longer input is refused with a clear message
    max_text_chars: int = 2000  # text turns (translate, say): ~4x what 30 s of speech holds
    back_translation: bool = False
    phrase_cache_size: int = 256  # short sentences translated before are not translated again
    phrase_cache_max_chars: int = 60
    partial_every_seconds: float = 1.0  # live turns: re-decode the growing buffer this often (0: never)
    # live turns: translate each sentence ASR has committed while the person is still talking, so that after
    # they stop only the last one is left (nothing is spoken before the end of speech)
    simultaneous: bool = True
    context_turns: int = 0  # LLM packs: pass this many earlier (source, translation) pairs as context
    # Hands-free turns in a pair (no language forced): the language the last turn was *not* in gets this prior
    # probability (the next turn is most often the other person's answer); 0.5: no prior. Weak on purpose: it
    # only decides near-ties, and a misheard turn must not pull the next one the wrong way.
    alternation_prior: float = 0.6
    alternation_seconds: float = 120.0  # after this long without a turn the conversation is taken as new


__all__ = ["AudioTooLongError", "Interpreter", "InterpreterConfig", "LiveTurn", "Turn", "check_languages",
           "check_text", "same_language_error"]


class _Cancelled(Exception):
    pass


def check_text(text: str, max_chars: int = InterpreterConfig.max_text_chars) -> None:
    """TEXT-EMPTY / TEXT-TOO-LONG for a text turn; callers run it before any model loads."""
    if not has_text(text):
        raise TolkError("the text holds no letters, digits or signs (only spaces, invisible or combining characters)",
                        code=ErrorCode.TEXT_EMPTY)
    if len(text) > max_chars:
        raise TolkError(f"{len(text):,} characters is over the {max_chars:,} limit for one turn",
                        code=ErrorCode.TEXT_TOO_LONG)


def check_languages(*, pair: Sequence[str] = (), source: str | None = None, target: str | None = None) -> None:
    """LANG-UNKNOWN for a code not in the registry, LANG-SAME when the pair names one language twice or the
    source is the target (codes compared after normalising: "EN" and "en-GB" are English). One check, run
    before any model loads; the pack's own language list is checked by the interpreter."""
    codes = [languages.get(c).code for c in pair]
    if len(codes) != len(set(codes)):
        raise TolkError(f"the pair {' '.join(pair)} names {languages.get(codes[0]).english_name} twice",
                        code=ErrorCode.LANG_SAME)
    src, tgt = (languages.get(c).code if c else None for c in (source, target))
    if src is not None and src == tgt:
        raise TolkError(f"{languages.get(src).english_name} into {languages.get(src).english_name}: "
                        "nothing to translate", code=ErrorCode.LANG_SAME)


def same_language_error(source: str) -> TolkError:
    """LANG-SAME for speech heard in the language it was to be translated into (e.g. ``--from auto --to en``)."""
    lang = languages.get(source)
    return TolkError(f"you spoke {lang.english_name} ({lang.code}), the target language: nothing to translate",
                     code=ErrorCode.LANG_SAME)


def _resolve_target(source: str, allowed: Sequence[str], target: str | None) -> str:
    if target:
        return target
    others = [code for code in allowed if code != source]
    if not others:
        raise UnknownLanguageError("no target language: give one (--to) or a pair of languages")
    return others[0]


class Interpreter:
    """Owns the models and the inference worker."""

    def __init__(self, asr, translator: Translator, voices: SpeechRouter,
                 config: InterpreterConfig = InterpreterConfig(), *, notices: tuple[str, ...] = (),
                 leases: tuple = ()) -> None:
        self.asr = asr
        self.translator = translator
        self.voices = voices
        self.config = config
        self.notices = notices  # what the loader left out and why (an optional pack that failed), for the screen
        self._leases = leases  # store.Lease of each pack version in use: kept on disk until close()
        self._ids = itertools.count(1)
        self._jobs: "queue.Queue[Turn | PartialJob | EarlyJob | None]" = queue.Queue()
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._history: list[tuple[str, str, str, str]] = []  # (source lang, target lang, text, translation)
        self._last_heard: tuple[tuple[str, ...], str, float] | None = None  # (pair, language, monotonic time)
        self._worker = threading.Thread(target=self._run, name="tolk-inference", daemon=True)
        self._worker.start()

    # ---- submitting ------------------------------------------------------
    def _check(self, codes: Sequence[str | None]) -> None:
        for code in codes:
            if code is not None:
                lang = languages.get(code)  # raises UnknownLanguageError listing valid codes
                if lang.code not in self.translator.manifest.languages:
                    raise UnknownLanguageError(f"the translation pack does not know '{code}'")

    def interpret(self, audio: np.ndarray, *, pair: Sequence[str] = (), forced: str | None = None,
                  target: str | None = None) -> Turn:
        """Speech (16 kHz mono float32) in; events out. ``pair`` restricts language detection."""
        allowed = tuple(languages.get(c).code for c in pair)
        self._check([*allowed, forced, target])
        check_languages(pair=allowed, source=forced, target=target)
        turn = Turn(next(self._ids), np.asarray(audio, dtype=np.float32), None, allowed,
                    languages.get(forced).code if forced else None, languages.get(target).code if target else None)
        self._jobs.put(turn)
        return turn

    def start_live(self, *, pair: Sequence[str] = (), forced: str | None = None, target: str | None = None,
                   sink: Callable[[ev.Event], None] | None = None) -> LiveTurn:
        """A turn that takes audio while the person speaks (``feed``) and runs when they stop (``finish``)."""
        allowed = tuple(languages.get(c).code for c in pair)
        self._check([*allowed, forced, target])
        check_languages(pair=allowed, source=forced, target=target)
        turn = LiveTurn(self, id=next(self._ids), allowed=allowed,
                        forced=languages.get(forced).code if forced else None,
                        target=languages.get(target).code if target else None, sink=sink)
        turn.emit(ev.TurnStarted(turn.id, languages=turn.allowed or (turn.forced,), target=turn.target))
        turn._started_event = True
        return turn

    def _check_text(self, text: str) -> None:
        check_text(text, self.config.max_text_chars)

    def translate_text(self, text: str, source: str, target: str) -> Turn:
        self._check_text(text)
        self._check([source, target])
        check_languages(source=source, target=target)
        turn = Turn(next(self._ids), None, text, (languages.get(source).code,), languages.get(source).code,
                    languages.get(target).code)
        self._jobs.put(turn)
        return turn

    def say(self, text: str, language: str, sink: Callable[[ev.Event], None] | None = None) -> Turn:
        """Speak ``text`` in ``language`` (history replay, console `say`)."""
        self._check_text(text)
        code = languages.get(language).code
        turn = Turn(next(self._ids), None, text, (code,), code, code, speak_only=True, sink=sink)
        self._jobs.put(turn)
        return turn

    def submit(self, job: "Turn | PartialJob | EarlyJob") -> None:
        """Queue work for the inference worker (turns queue their own partial decodes and final run)."""
        self._jobs.put(job)

    def close(self) -> None:
        self._jobs.put(None)
        self._worker.join(timeout=30)
        close_voices = getattr(self.voices, "close", None)
        if close_voices is not None:
            close_voices()  # the speech worker process
        for lease in self._leases:
            lease.close()

    # ---- the worker --------------------------------------------------------
    def _run_partial(self, job: PartialJob) -> None:
        turn = job.turn
        try:
            if turn._finished or turn.cancelled:
                return
            language = turn.forced or turn._partial_language or (turn.allowed[0] if len(turn.allowed) == 1 else None)
            allowed = turn.allowed or tuple(self.translator.manifest.languages)
            # bounded (a decode cannot be stopped); the first one detects the language from the same encoder pass
            result = self.asr.partial(job.audio, language, allowed=allowed)
            language = turn._partial_language = result.language
            text = result.text
            stable = stable_prefix(turn._partial_text, text)
            turn._partial_text = text
            if stable and stable != turn._partial_shown and not turn._finished:
                turn._partial_shown = stable
                if self.config.simultaneous:
                    self._queue_early_translations(turn, stable, language)
                turn.emit(ev.PartialText(turn.id, text=stable))
        except Exception:  # noqa: BLE001 - a partial is best effort; the final decode reports errors
            log.exception("partial decode failed")
        finally:
            turn._partial_busy.clear()

    def _queue_early_translations(self, turn: LiveTurn, committed: str, language: str) -> None:
        """Queue the translation of every committed sentence that more committed words follow (so it is done)."""
        try:
            target = _resolve_target(language, turn.allowed, turn.target)
        except UnknownLanguageError:
            return
        if target == language:
            return
        for sentence in split_sentences(committed)[:-1]:
            key = (language, target, sentence)
            if key not in turn._early_queued and key not in self._cache:
                turn._early_queued.add(key)
                self._jobs.put(EarlyJob(turn, key))

    def _run_early(self, job: EarlyJob) -> None:
        """Start the sentence's translation and return as soon as its first piece exists (the model goes on in
        the background); the worker stays free for partial decodes and, above all, the final ASR."""
        turn, (source, target, sentence) = job.turn, job.key
        if turn.cancelled or turn.done:
            return
        pieces = self.translator.stream(sentence, source, target, cancel=turn._cancel)
        try:
            first = next(pieces, None)
        except Exception:  # noqa: BLE001 - best effort: the final pass translates what is missing
            log.exception("early translation failed")
            pieces.close()
            return
        if first is None or turn.cancelled or turn.done:
            pieces.close()
            return
        turn.early_translations[job.key] = EarlyTranslation(first, pieces)
        log.debug("turn %d: translating %s while the person is talking", turn.id, logtext.said(sentence))

    def _run(self) -> None:
        while (turn := self._jobs.get()) is not None:
            if isinstance(turn, PartialJob):
                self._run_partial(turn)
                continue
            if isinstance(turn, EarlyJob):
                self._run_early(turn)
                continue
            timings: dict[str, float] = {}
            try:
                if not turn._started_event:
                    turn.emit(ev.TurnStarted(turn.id, languages=turn.allowed or (turn.forced,), target=turn.target))
                self._run_turn(turn, timings)
                cancelled = False
            except _Cancelled:
                cancelled = True
            except TolkError as err:
                turn.emit(ev.TurnError(turn.id, code=err.code, message=err.message))
                cancelled = False
            except Exception as err:  # noqa: BLE001 - a turn never takes the worker down
                log.exception("turn %d failed", turn.id)
                turn.emit(ev.TurnError(turn.id, code=ErrorCode.INTERNAL, message=f"{type(err).__name__}: {err}"))
                cancelled = False
            for early in getattr(turn, "early_translations", {}).values():
                early.close()  # started while the person talked but not needed (they said something else)
            timings["total"] = time.monotonic() - turn.created
            turn.emit(ev.TurnFinished(turn.id, cancelled=cancelled, timings=timings))
            turn._done.set()

    def _checkpoint(self, turn: Turn) -> None:
        if turn.cancelled:
            raise _Cancelled

    def _transcribe(self, turn: Turn, timings: dict[str, float]) -> Transcript | None:
        self._checkpoint(turn)  # cancelled while queued: no ASR at all
        audio = turn.audio
        seconds = audio.size / ASR_RATE
        if seconds > self.config.max_seconds:
            raise AudioTooLongError(f"{seconds:.0f} s of audio is over the {self.config.max_seconds:.0f} s limit "
                                    f"for one turn; speak in shorter parts")
        started = time.monotonic()
        allowed = turn.allowed or self._detectable()
        committed = turn.committed if isinstance(turn, LiveTurn) else ""
        options = {}
        if committed:  # words two partial decodes agreed on lead the final decode (same language only)
            options = {"prefix": committed, "prefix_language": turn._partial_language}
        prior = self._prior(turn.allowed) if not turn.forced else {}
        if prior:
            options["prior"] = prior
        transcript = self.asr.transcribe(audio, allowed=allowed, forced=turn.forced, **options)
        timings["asr"] = time.monotonic() - started
        turn.emit(ev.StageTiming(turn.id, stage="asr", seconds=timings["asr"]))
        self._checkpoint(turn)
        if transcript.no_speech:
            turn.emit(ev.NoSpeech(turn.id))
            return None
        # who spoke: forced (push-to-talk: the side pressed) or detected, it is the prior of the next hands-free turn
        self._last_heard = (tuple(sorted(turn.allowed)), transcript.language, time.monotonic())
        turn.emit(ev.FinalText(turn.id, text=transcript.text, language=transcript.language,
                               confidence=transcript.confidence))
        return transcript

    def _detectable(self) -> tuple[str, ...]:
        """No pair: every registry language both the ASR and the translation pack know."""
        heard = getattr(self.asr, "languages", None)
        known = set(heard()) if heard is not None else set(languages.codes())
        return tuple(c for c in languages.codes() if c in known and c in self.translator.manifest.languages)

    def _prior(self, allowed: Sequence[str]) -> dict[str, float]:
        """Hands-free in a pair: the last turn of the same pair, if recent, makes the other language likelier."""
        if self._last_heard is None:
            return {}
        pair, language, when = self._last_heard
        if pair != tuple(sorted(allowed)) or time.monotonic() - when > self.config.alternation_seconds:
            return {}
        return alternation_prior(allowed, language, self.config.alternation_prior)

    def _translate(self, turn: Turn, sentences: list[str], source: str, target: str) -> list[str]:
        out: list[str | None] = []
        todo = []
        for sentence in sentences:
            key = (source, target, sentence)
            if key in self._cache:
                self._cache.move_to_end(key)
                out.append(self._cache[key])
            else:
                out.append(None)
                todo.append(sentence)
        if todo:
            context = [(text, out) for s, t, text, out in self._history[-self.config.context_turns:]
                       if (s, t) == (source, target)] if self.config.context_turns else []
            results = self.translator.translate(todo, source, target, context=context, cancel=turn._cancel)
            self._checkpoint(turn)
            fresh = iter(results)
            for i, value in enumerate(out):
                if value is None:
                    text = next(fresh).text
                    out[i] = text
                    if len(sentences[i]) <= self.config.phrase_cache_max_chars:
                        self._cache[(source, target, sentences[i])] = text
                        while len(self._cache) > self.config.phrase_cache_size:
                            self._cache.popitem(last=False)
        return [t or "" for t in out]

    def _translation_pieces(self, turn: Turn, sentence: str, source: str, target: str) -> Iterator[str]:
        """The sentence's translation as text pieces: from the phrase cache, from a translation made while the
        person was still talking (simultaneous mode), or streamed from the model."""
        key = (source, target, sentence)
        if key in self._cache:
            self._cache.move_to_end(key)
            yield self._cache[key]
            return
        early = turn.early_translations.pop(key, None) if isinstance(turn, LiveTurn) else None
        if early is not None:
            try:
                yield from early.pieces()
            finally:
                early.close()
            return
        context = [(text, out) for s, t, text, out in self._history[-self.config.context_turns:]
                   if (s, t) == (source, target)] if self.config.context_turns else []
        yield from self.translator.stream(sentence, source, target, context=context, cancel=turn._cancel)

    def _stream_sentence(self, turn: Turn, sentence: str, source: str, target: str,
                         timings: dict[str, float]) -> str:
        """Translate one sentence and speak each clause as soon as it is complete; returns the translation."""
        cutter = ClauseCutter(first_min_chars=FIRST_CLAUSE_MIN_CHARS if turn.clauses_said == 0 else None)
        clauses: list[Clause] = []
        pieces = self._translation_pieces(turn, sentence, source, target)
        started = time.monotonic()
        try:
            while True:
                piece = next(pieces, None)
                timings["mt"] = timings.get("mt", 0.0) + time.monotonic() - started
                self._checkpoint(turn)
                ready = cutter.feed(piece) if piece is not None else cutter.flush()
                for clause in ready:
                    self._say_clause(turn, clause, sentence, not clauses, target, timings)
                    clauses.append(clause)
                if piece is None:
                    break
                started = time.monotonic()
        finally:
            pieces.close()
        text = join_clauses(clauses)
        if text and len(sentence) <= self.config.phrase_cache_max_chars:
            self._cache[(source, target, sentence)] = text
            while len(self._cache) > self.config.phrase_cache_size:
                self._cache.popitem(last=False)
        return text

    def _say_clause(self, turn: Turn, clause: Clause, sentence: str, starts_sentence: bool, target: str,
                    timings: dict[str, float]) -> None:
        index = turn.clauses_said
        turn.clauses_said += 1
        gap = (" " if languages.get(target).spaced else "") if starts_sentence and index else clause.gap
        notice = ErrorCode.MT_NOT_TRANSLATION if guard.is_notice(clause.text, target) else None
        turn.emit(ev.TranslationText(turn.id, index=index, text=clause.text, source_text=sentence,
                                     language=target, gap=gap, starts_sentence=starts_sentence, notice=notice))
        if "first_translation" not in timings:
            timings["first_translation"] = time.monotonic() - turn.created
        self._speak(turn, index, clause.text, target, timings)

    def _speak(self, turn: Turn, index: int, text: str, language: str, timings: dict[str, float]) -> None:
        started = time.monotonic()
        chunks = self.voices.speak(text, language)
        try:
            for speech in chunks:
                self._checkpoint(turn)
                turn.emit(ev.AudioOut(turn.id, index=index, samples=speech.audio, sample_rate=speech.sample_rate,
                                      fallback_voice=speech.fallback, voice=speech.voice))
                if "first_audio" not in timings:
                    timings["first_audio"] = time.monotonic() - turn.created
                    turn.emit(ev.StageTiming(turn.id, stage="first_audio", seconds=timings["first_audio"]))
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a cancelled turn stops the voice now (the speech worker drops the rest of the clause)
        timings["tts"] = timings.get("tts", 0.0) + time.monotonic() - started

    def _run_turn(self, turn: Turn, timings: dict[str, float]) -> None:
        if turn.speak_only:
            for index, sentence in enumerate(split_sentences(turn.text or "")):
                self._speak(turn, index, sentence, turn.target, timings)
            return
        if turn.audio is not None:
            transcript = self._transcribe(turn, timings)
            if transcript is None:
                return
            text, source = transcript.text, transcript.language
        else:
            text, source = turn.text or "", turn.forced
        target = _resolve_target(source, turn.allowed, turn.target)
        if target == source:
            raise same_language_error(source)
        sentences = split_sentences(text)
        if not sentences:
            turn.emit(ev.NoSpeech(turn.id, message="Nothing to translate"))
            return
        if isinstance(turn, LiveTurn):  # translations started while talking for words the final ASR changed:
            for key in [k for k in turn.early_translations if k != (source, target, k[2]) or k[2] not in sentences]:
                turn.early_translations.pop(key).close()  # stop them now, or the model finishes them first
        translations = [self._stream_sentence(turn, sentence, source, target, timings) for sentence in sentences]
        self._history = (self._history + [(source, target, text, " ".join(translations))])[-16:]
        for stage in ("mt", "tts"):
            if stage in timings:
                turn.emit(ev.StageTiming(turn.id, stage=stage, seconds=timings[stage]))
        if self.config.back_translation:
            started = time.monotonic()
            back = self._translate(turn, [" ".join(translations)], target, source)[0]
            timings["back_translation"] = time.monotonic() - started
            turn.emit(ev.BackTranslation(turn.id, text=back, language=source))
