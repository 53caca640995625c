"""Speech-to-text with Whisper (CTranslate2, through faster-whisper's model files) over numpy audio.

Silence is trimmed with the Silero VAD bundled in faster-whisper, once, before
anything else runs. The log-mel features are computed here and the CTranslate2
model is called directly, so that:

* the encoder runs once per utterance: language detection, the decode and the
  second decode of an ambiguous language all read the same encoder output;
* only the audio there is gets encoded (padded to ``MIN_ENCODER_FRAMES``, not to
  Whisper's 30 s window): the encoder's cost grows with the frames it is given.

The language is chosen only among the conversation's languages: Whisper's
probabilities over all its languages are taken and renormalised over the *allowed*
ones (so a German speaker in an en+de conversation is never heard as Dutch), averaged
over every 30 s window of the utterance. When that detection or the first decode is
doubtful the runner-up is decoded too (same encoder output) and
``tolk.models.language_choice`` decides between the two decodes. Final decodes use a
beam of 5 (faster-whisper's default; see ``AsrOptions.beam_size``), partial decodes are
greedy.

Incremental use while someone speaks: ``partial()`` decodes the growing buffer
with a bounded number of tokens (a CTranslate2 decode cannot be cancelled, so a
partial must be short), ``stable_prefix()`` gives the words two successive
partials agree on, and ``transcribe(..., prefix=committed)`` forces those words
after the no-timestamps token so only the rest is generated. CTranslate2 feeds
forced tokens one decoder step each, so the prefix keeps committed words fixed
but saves no time (measured: same decode time with and without it).
"""
from __future__ import annotations

import logging
import math
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.language_choice import Evidence, choose, needs_second_decode, posterior
from tolk.models.manifest import Engine, PackManifest
from tolk.models.pcm import ASR_RATE

log = logging.getLogger(__name__)

FRAMES_PER_SECOND = 100  # Whisper's log-mel hop: 160 samples at 16 kHz
WINDOW_FRAMES = 3000  # Whisper's context: 30 s of frames, the most one encoder pass takes
WINDOW_SAMPLES = WINDOW_FRAMES * ASR_RATE // FRAMES_PER_SECOND
# Shorter input is padded (zeros, see pad_frames) to this many frames (10 s) before the encoder. Chosen by
# measurement: 51 human recordings (Debian asterisk-core-sounds, G.722 16 kHz: 40 English, 11 Spanish,
# 1-9 s, mean 4 s), whisper-base int8, greedy, VAD on, language detected among en+es. WER en / es, and
# decodes that looped to the token limit:
#   faster-whisper transcribe (30 s window, as before)  0.051 / 0.188  0 loops
#   3000 frames  0.051 / 0.188  0      1500  0.051 / 0.188  0      1200  0.056 / 0.188  0
#   1000 frames  0.056 / 0.188  0      800   0.485 / 0.198  1      600   1.422 / 0.327  3
#   no floor (the audio only): 10.5 / 7.2, loops on half the clips.
# The one extra English error at 1000 is "party's" -> "parties". Below 1000 frames Whisper starts
# repeating itself; REPETITION_RATIO catches what still loops at 1000.
MIN_ENCODER_FRAMES = 1000
MAX_DECODER_LENGTH = 448  # Whisper's text context; CTranslate2 decodes at most half of it per call
# A partial decode (while the person still speaks) holds at most PARTIAL_TOKENS_PER_SECOND x the script's
# factor tokens per second of audio, plus a margin: English speech measured 3.0 tokens/s (at most 4.6) on
# the 40 recordings above, so the bound leaves room for the text and stops a looping decode early.
PARTIAL_TOKENS_PER_SECOND = 6
PARTIAL_TOKEN_MARGIN = 8
PREVIOUS_TOKENS = 64  # at most this much "previous text" before a decode (Whisper allows up to 223)
PARTIAL_MAX_TOKENS = MAX_DECODER_LENGTH // 2  # what CTranslate2 decodes at most in one call anyway
PARTIAL_BEAM_SIZE = 1  # a partial is shown and replaced while the person speaks: greedy, the cheapest decode
# Tokens Whisper's tokenizer spends on the same sentence ("Good morning. Where is the train station?")
# relative to English, rounded up per script: es 1.3, ru 1.3, uk 1.7, ar 1.8, fa 2.2, ja 1.7, zh 1.7,
# ko 1.4, el 2.8, th 3.2, hi 4.0, ml 9.2, ka 12. Scripts not listed take the largest factor.
SCRIPT_TOKEN_FACTOR = {"Latn": 1.5, "Cyrl": 2.0, "Arab": 2.5, "Hebr": 2.5, "Hang": 2.5, "Jpan": 2.5, "Hans": 2.5,
                       "Hant": 2.5, "Grek": 3.5, "Thai": 3.5, "Deva": 5.0}
LARGEST_SCRIPT_TOKEN_FACTOR = 13.0
# A final decode whose text compresses better than this is a loop: it is decoded again over the full
# 30 s window (the model's trained input), which costs one more encoder pass only in that rare case.
REPETITION_RATIO = 2.4
# faster-whisper's no-speech rule (its transcribe defaults, kept from the former decoding path)
NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0


class AsrError(TolkError):
    code = ErrorCode.ASR_FAILED


@dataclass(frozen=True)
class AsrOptions:
    # Beam of the final decodes (partials are always greedy: PARTIAL_BEAM_SIZE). 5 by measurement on the
    # real-speech dev set (asterisk-core-sounds, 43 clips: 15 en, 14 es, 14 fr, 3.4 s mean; language given,
    # int8, 10 s floor; WER normalised en / es / fr; CPU s per clip on this shared 2-core x86 machine):
    #   beam 1  0.000 / 0.174 / 0.200  0.54-0.57     beam 2  0.000 / 0.157 / 0.191  0.60
    #   beam 5  0.000 / 0.139 / 0.200  0.63
    #   faster-whisper's transcribe defaults (30 s window, beam 5, fallback)  0.000 / 0.122 / 0.182-0.209  2.3-2.8
    # (on all 90 clips beam 1 vs beam 2: 0.027 / 0.190 / 0.152 vs 0.027 / 0.180 / 0.149). Language choice within
    # the pairs: 60 of 60 right with beam 1 and with beam 5 (10 prompts x 6 (clip, pair)).
    # int8_float32 decodes exactly as int8 on CPU; float32 costs ~40 % more for no better WER; the previous
    # utterance as Whisper's initial prompt changed a few words either way (not adopted).
    beam_size: int = 5
    vad: bool = True  # trim silence with Silero VAD before decoding
    compute_type: str = "int8"
    threads: int = 0  # 0: CTranslate2 default (all cores)
    min_speech_ms: int = 250
    # Below this confidence (among the allowed languages) the top two are both decoded and
    # language_choice.choose decides: robust for accented or synthetic speech, costs a second decode.
    # 0.9 by measurement (see language_choice): 3 more right of 494 (clip, pair) choices on human speech than
    # 0.75, for a second decode on about a fifth of the clips instead of a sixth.
    ambiguous_below: float = 0.9
    # A decode less likely than this (mean token log-probability) gets the second language's decode too.
    # The 51 recordings measured for MIN_ENCODER_FRAMES decode at -0.70 .. -0.02 in their detected
    # language (never below); espeak-ng German in an en+de pair is heard as English (0.81) at -1.10,
    # its German decode scores -0.65.
    doubtful_below: float = -0.8
    # Most tokens one decode may produce (None: Whisper's own bound). A pack may set its own
    # ("max_new_tokens" in its settings): it bounds a runaway or hallucinating decode.
    max_new_tokens: int | None = None
    min_encoder_frames: int = MIN_ENCODER_FRAMES  # padding floor (frames) for the encoder input


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # Tolk code
    confidence: float  # probability of the chosen language among the allowed ones
    speech_seconds: float  # after VAD trimming
    seconds: float  # compute time

    @property
    def no_speech(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True)
class Encoded:
    """One encoder pass over up to 30 s of audio."""

    output: Any  # ctranslate2.StorageView, (1, frames / 2, width)
    frames: int  # frames given to the encoder (content + padding)
    content_frames: int  # frames of real audio among them


@dataclass(frozen=True)
class Decoded:
    text: str  # prefix + continuation
    logprob: float  # mean token log-probability (faster-whisper's avg_logprob)
    new_tokens: int  # tokens generated after the prefix
    truncated: bool  # stopped by the length bound, not by end-of-text
    no_speech_prob: float
    tokens: int = 0  # all text tokens, prefix included (what ``logprob`` averages over, with end-of-text)


@dataclass(frozen=True)
class Partial:
    """A decode while the person speaks: ``text`` never ends in a word cut by the length bound."""

    text: str
    language: str  # Tolk code
    truncated: bool
    seconds: float  # compute time


def rank_languages(probabilities: Sequence[tuple[str, float]], allowed: Sequence[str]) -> list[tuple[str, float]]:
    """Allowed languages (Tolk codes), most likely first, probabilities renormalised over the allowed set."""
    allowed_whisper = {languages.get(code).whisper: languages.get(code).code for code in allowed}
    scores = {allowed_whisper[w]: p for w, p in probabilities if w in allowed_whisper}
    total = sum(scores.values())
    if not scores or total <= 0:
        return [(languages.get(allowed[0]).code, 0.0)]
    return sorted(((code, p / total) for code, p in scores.items()), key=lambda item: -item[1])


def choose_language(probabilities: Sequence[tuple[str, float]], allowed: Sequence[str]) -> tuple[str, float]:
    """Best allowed language (Tolk code) and its probability renormalised over the allowed set."""
    return rank_languages(probabilities, allowed)[0]


def partial_token_budget(seconds: float, language: str = "en") -> int:
    """Most tokens (prefix included) one partial decode of ``seconds`` of audio in ``language`` may hold."""
    factor = SCRIPT_TOKEN_FACTOR.get(languages.get(language).script, LARGEST_SCRIPT_TOKEN_FACTOR)
    return min(PARTIAL_MAX_TOKENS, math.ceil(PARTIAL_TOKENS_PER_SECOND * factor * seconds) + PARTIAL_TOKEN_MARGIN)


def pad_frames(mel: np.ndarray, floor: int) -> np.ndarray:
    """``mel`` (n_mels, frames) cut to Whisper's window and padded with zeros to at least ``floor`` frames.

    Zeros, as faster-whisper pads its 30 s window. Padding with the log-mel value of digital silence
    instead (the clip's maximum minus 2) measured worse at short floors: at 1000 frames it made a
    5 s English clip loop ("... start over press 1 to switch ..." to the token limit).
    """
    mel = mel[:, :WINDOW_FRAMES]
    missing = min(floor, WINDOW_FRAMES) - mel.shape[1]
    return np.pad(mel, ((0, 0), (0, missing))) if missing > 0 else mel


def looped(decoded: Decoded) -> bool:
    """A decode stopped by the length bound or repeating itself: its mean log-probability says nothing."""
    return decoded.truncated or repetitive(decoded.text)


def repetitive(text: str) -> bool:
    """A decode stuck in a loop: its text compresses too well (faster-whisper's compression-ratio test)."""
    data = text.encode("utf-8")
    return len(data) > 0 and len(data) / len(zlib.compress(data)) > REPETITION_RATIO


class WhisperAsr:
    def __init__(self, pack_dir: Path, manifest: PackManifest, options: AsrOptions = AsrOptions()) -> None:
        from faster_whisper import WhisperModel

        if manifest.engine is not Engine.FASTER_WHISPER:
            raise AsrError(f"pack {manifest.id} is not a faster-whisper pack")
        self.manifest = manifest
        self.options = options
        compute = manifest.settings.get("compute_type", options.compute_type)
        self.model = WhisperModel(str(pack_dir), device="cpu", compute_type=compute, cpu_threads=options.threads)
        # The CTranslate2 Whisper model every encode / detect_language / generate goes through.
        self.engine = self.model.model
        self.max_new_tokens = manifest.settings.get("max_new_tokens", options.max_new_tokens)
        self._tokenizers: dict[str, Any] = {}
        self._suppress: list[int] | None = None

    # ---- building blocks ---------------------------------------------------------------
    def trim_silence(self, audio: np.ndarray) -> np.ndarray:
        """Only the speech in ``audio`` (Silero VAD), or an empty array if there is none."""
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        stamps = get_speech_timestamps(audio, VadOptions(min_speech_duration_ms=self.options.min_speech_ms))
        if not stamps:
            return np.zeros(0, dtype=np.float32)
        chunks, _ = collect_chunks(audio, stamps)
        return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, dtype=np.float32)

    def features(self, audio: np.ndarray, floor: int | None = None) -> tuple[np.ndarray, int]:
        """Log-mel frames of (at most 30 s of) ``audio``, padded to the floor; and the count of real frames."""
        audio = np.asarray(audio, dtype=np.float32)[:WINDOW_SAMPLES]
        mel = self.model.feature_extractor(audio)[:, :-1]  # the extractor adds one frame of padding
        content = min(mel.shape[1], WINDOW_FRAMES)
        return pad_frames(mel, self.options.min_encoder_frames if floor is None else floor), content

    def encode(self, audio: np.ndarray, floor: int | None = None) -> Encoded:
        """One encoder pass over (at most the first 30 s of) ``audio``, padded to ``floor`` frames."""
        import ctranslate2

        mel, content = self.features(audio, floor)
        view = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[np.newaxis], dtype=np.float32))
        try:
            output = self.engine.encode(view)
        except (RuntimeError, ValueError) as err:
            raise AsrError(f"Whisper encoder failed: {err}") from err
        return Encoded(output, mel.shape[1], content)

    def language_probabilities(self, encoded: Encoded) -> list[tuple[str, float]]:
        """Whisper's probability of each of its languages (Whisper codes), most likely first."""
        if not self.engine.is_multilingual:
            return [("en", 1.0)]
        (results,) = self.engine.detect_language(encoded.output)
        return [(token[2:-2], probability) for token, probability in results]

    def utterance_probabilities(self, windows: Sequence[Encoded]) -> dict[str, float]:
        """Language probabilities of the whole utterance: each 30 s window's, weighted by its frames of audio."""
        if len(windows) == 1:
            return dict(self.language_probabilities(windows[0]))
        total: dict[str, float] = {}
        frames = sum(max(w.content_frames, 1) for w in windows)
        for window in windows:
            for code, probability in self.language_probabilities(window):
                total[code] = total.get(code, 0.0) + probability * max(window.content_frames, 1) / frames
        return total

    def languages(self) -> tuple[str, ...]:
        """Registry languages (Tolk codes) this model transcribes."""
        if not self.engine.is_multilingual:
            return ("en",)
        supported = set(self.model.supported_languages)
        return tuple(code for code in languages.codes() if languages.get(code).whisper in supported)

    def tokenizer(self, language: str):
        """faster-whisper's tokenizer set for ``language`` (Tolk code), transcribing."""
        from faster_whisper.tokenizer import Tokenizer

        whisper = languages.get(language).whisper if self.engine.is_multilingual else "en"
        if whisper not in self._tokenizers:
            self._tokenizers[whisper] = Tokenizer(self.model.hf_tokenizer, self.engine.is_multilingual,
                                                  task="transcribe", language=whisper)
        return self._tokenizers[whisper]

    def _suppressed(self, tokenizer) -> list[int]:
        from faster_whisper.transcribe import get_suppressed_tokens

        if self._suppress is None:  # the same set for every language
            self._suppress = list(get_suppressed_tokens(tokenizer, [-1]))
        return self._suppress

    def generate(self, encoded: Encoded, language: str, *, prefix: str = "", max_tokens: int | None = None,
                 beam_size: int | None = None, previous: str = "") -> Decoded:
        """Decode ``encoded`` in ``language`` after the forced ``prefix``; at most ``max_tokens`` in all.

        ``max_tokens`` counts the prefix's tokens too: CTranslate2 runs one decoder step per forced token,
        so a prefix pins the committed words but does not make the decode faster. ``previous``: text given as
        what came before (Whisper's "previous text" slot), e.g. to keep a language in its own script.
        """
        tokenizer = self.tokenizer(language)
        prefix_ids = tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []
        if len(prefix_ids) > MAX_DECODER_LENGTH // 2 - PARTIAL_TOKEN_MARGIN:  # no room left: decode it all
            log.warning("prefix of %d tokens dropped", len(prefix_ids))
            prefix_ids = []
        before = tokenizer.encode(" " + previous.strip())[-PREVIOUS_TOKENS:] if previous.strip() else []
        prompt = [*([tokenizer.sot_prev, *before] if before else []), *tokenizer.sot_sequence, tokenizer.no_timestamps,
                  *prefix_ids]
        limit = self._decode_limit(len(prefix_ids), max_tokens)
        try:
            (result,) = self.engine.generate(
                encoded.output, [prompt], beam_size=beam_size or self.options.beam_size,
                max_length=min(MAX_DECODER_LENGTH, 2 * limit), return_scores=True, return_no_speech_prob=True,
                suppress_blank=True, suppress_tokens=self._suppressed(tokenizer))
        except (RuntimeError, ValueError) as err:
            raise AsrError(f"Whisper decoding failed: {err}") from err
        return self._decoded(tokenizer, result, prefix_ids, limit)

    def _decode_limit(self, prefix_tokens: int, max_tokens: int | None) -> int:
        """Tokens (prefix included) one decode may hold: CTranslate2 decodes at most max_length / 2."""
        limit = MAX_DECODER_LENGTH // 2
        if self.max_new_tokens is not None:
            limit = min(limit, prefix_tokens + self.max_new_tokens)
        if max_tokens is not None:
            limit = min(limit, max(max_tokens, prefix_tokens + 1))
        return max(limit, 1)

    @staticmethod
    def _decoded(tokenizer, result, prefix_ids: list[int], limit: int) -> Decoded:
        ids = list(result.sequences_ids[0])
        if prefix_ids and ids[:len(prefix_ids)] != prefix_ids:  # the prefix is expected in the output
            ids = prefix_ids + ids
        new_tokens = len(ids) - len(prefix_ids)
        cum_logprob = result.scores[0] * max(len(ids), 1)  # length penalty 1: the score is per token
        logprob = cum_logprob / (len(ids) + 1)
        text = tokenizer.decode(ids).strip()
        if result.no_speech_prob > NO_SPEECH_THRESHOLD and logprob < LOGPROB_THRESHOLD:
            text = tokenizer.decode(prefix_ids).strip()  # faster-whisper's rule: this window is silence
        return Decoded(text, logprob, new_tokens, len(ids) >= limit, result.no_speech_prob, len(ids))

    # ---- the API the interpreter uses --------------------------------------------------
    def rank_languages(self, audio: np.ndarray, allowed: Sequence[str]) -> list[tuple[str, float]]:
        return rank_languages(self.language_probabilities(self.encode(audio)), allowed)

    def decode_scored(self, audio: np.ndarray, language: str, *, beam_size: int | None = None,
                      prefix: str = "") -> tuple[str, float]:
        """Transcript and its mean token log-probability."""
        decoded = self.generate(self.encode(audio), language, prefix=prefix, beam_size=beam_size)
        return decoded.text, decoded.logprob

    def decode(self, audio: np.ndarray, language: str, *, beam_size: int | None = None, prefix: str = "") -> str:
        return self.decode_scored(audio, language, beam_size=beam_size, prefix=prefix)[0]

    def partial(self, audio: np.ndarray, language: str | None = None, *, allowed: Sequence[str] = (),
                prefix: str = "") -> Partial:
        """A bounded decode of the audio so far (no VAD): detects the language among ``allowed`` if not given."""
        started = time.perf_counter()
        encoded = self.encode(audio)
        if language is None:
            language = rank_languages(self.language_probabilities(encoded), allowed or self.languages())[0][0]
        budget = partial_token_budget(min(audio.size, WINDOW_SAMPLES) / ASR_RATE, language)
        decoded = self.generate(encoded, language, prefix=prefix, max_tokens=budget, beam_size=PARTIAL_BEAM_SIZE)
        text = decoded.text
        if decoded.truncated and decoded.new_tokens:  # the last word may be cut: never show it
            text = text.rsplit(None, 1)[0] if " " in text.strip() else prefix.strip()
        return Partial(text, languages.get(language).code, decoded.truncated, time.perf_counter() - started)

    def transcribe(self, audio: np.ndarray, *, allowed: Sequence[str] = (), forced: str | None = None,
                   prefix: str = "", prefix_language: str | None = None,
                   prior: Mapping[str, float] | None = None, previous: str = "") -> Transcript:
        """Text and language of ``audio`` (16 kHz mono float32).

        ``forced``: the language is known (push-to-talk: the side pressed), nothing is detected. Otherwise it is
        chosen among ``allowed`` (default: every language the model knows), weighted by ``prior`` (probability
        per language, e.g. from the previous turns; see ``language_choice.alternation_prior``).
        ``prefix``: words already committed (from partial decodes, in the language that will be chosen;
        pass ``forced`` to be sure); they are forced at the start so only the rest is generated. The
        second decode of an ambiguous language runs without it. With ``prefix_language`` the prefix is used only
        when that is the language chosen (words committed in one language never lead a decode in another).
        ``previous`` (with ``forced`` only): text given as what was said before, e.g. a sentence in the language's
        script (Whisper base writes Hindi in Latin letters without one).
        """
        started = time.perf_counter()
        speech = self.trim_silence(audio) if self.options.vad else np.asarray(audio, dtype=np.float32)
        if speech.size < ASR_RATE * self.options.min_speech_ms / 1000:
            return Transcript("", forced or (allowed[0] if allowed else "en"), 0.0, 0.0, time.perf_counter() - started)
        windows = [speech[i:i + WINDOW_SAMPLES] for i in range(0, speech.size, WINDOW_SAMPLES)]
        encoded = [self.encode(window) for window in windows]  # the decodes of every window need them anyway

        def prefix_for(language: str) -> str:
            return prefix if prefix_language is None or languages.get(prefix_language).code == language else ""

        if forced:
            language, confidence = languages.get(forced).code, 1.0
            text = self.generate(encoded[0], language, prefix=prefix_for(language), previous=previous).text
        else:
            text, language, confidence = self._choose(encoded, allowed or self.languages(), prefix_for, prior)
        if repetitive(text) and self.options.min_encoder_frames < WINDOW_FRAMES:
            log.info("looping decode (%d chars); decoding again over the full window", len(text))
            text = self.generate(self.encode(windows[0], WINDOW_FRAMES), language).text
        for window in encoded[1:]:  # over 30 s of speech: the rest in the language chosen for the whole
            text = " ".join(part for part in (text, self.generate(window, language).text) if part)
        return Transcript(text, language, confidence, speech.size / ASR_RATE, time.perf_counter() - started)

    def _choose(self, encoded: Sequence[Encoded], allowed: Sequence[str], prefix_for,
                prior: Mapping[str, float] | None) -> tuple[str, str, float]:
        """Text of the first window, language and its probability: the top language's decode, and when that is
        doubtful the runner-up's decode too, both judged by ``language_choice.choose``."""
        detected = self.utterance_probabilities(encoded)
        codes = tuple(dict.fromkeys(languages.get(code).code for code in allowed))
        probability = posterior([Evidence(c, detected.get(languages.get(c).whisper, 0.0)) for c in codes], prior)
        ranked = sorted(codes, key=lambda code: -probability[code])
        language = ranked[0]
        best = self.generate(encoded[0], language, prefix=prefix_for(language))
        if len(ranked) < 2 or not needs_second_decode(probability[language], best.logprob,
                                                      ambiguous_below=self.options.ambiguous_below,
                                                      doubtful_below=self.options.doubtful_below):
            return best.text, language, probability[language]
        other = ranked[1]
        second = self.generate(encoded[0], other)  # the same encoder output: only a second decode
        chosen, _ = choose([Evidence(language, probability[language], best.logprob, best.tokens, looped(best)),
                            Evidence(other, probability[other], second.logprob, second.tokens, looped(second))])
        log.debug("ambiguous language %s %.2f (%.3f, %d tokens) vs %s %.2f (%.3f, %d tokens): %s", language,
                  probability[language], best.logprob, best.tokens, other, probability[other], second.logprob,
                  second.tokens, chosen)
        return (best.text, language, probability[language]) if chosen == language else \
            (second.text, other, probability[other])


def stable_prefix(previous: str, current: str) -> str:
    """Words two successive partial decodes agree on (the part safe to show while someone talks)."""
    agreed = []
    for a, b in zip(previous.split(), current.split()):
        if a != b:
            break
        agreed.append(a)
    return " ".join(agreed)
