"""Text-to-speech: Piper and Kokoro voices, and espeak-ng for every language without one.

Every engine yields one ``Speech`` chunk per sentence so playback can start after
the first sentence. A language with no neural voice speaks through espeak-ng and
the chunk says so (``fallback=True``), for the screen to show. The Kokoro engine
is in ``tts_kokoro``; ``SpeechRouter`` picks the engine per language.

On the device the neural engines (native code fed arbitrary text) run in the speech worker process
(``speech_client``): the router holds ``WorkerVoice`` proxies in their place and espeak-ng, a process per clause
already, stays here as the fallback that speaks while the worker restarts.
"""
from __future__ import annotations

import io
import logging
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from tolk.models import languages
from tolk.models.espeak_text import safe_text
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.manifest import Engine, PackManifest
from tolk.models.pcm import to_float32
from tolk.models.sentences import split_sentences
from tolk.models.voice_choice import ESPEAK, KOKORO_PREFIX, PIPER, ordered_options

log = logging.getLogger(__name__)


class TtsError(TolkError):
    code = ErrorCode.TTS_FAILED


@dataclass(frozen=True)
class Speech:
    audio: np.ndarray  # mono float32
    sample_rate: int
    text: str
    fallback: bool  # True: espeak-ng, robotic
    voice: str = ""  # the voice option that spoke ("kokoro:ef_dora", "piper", "espeak-ng")


class Voice(Protocol):
    def speak(self, text: str, language: str) -> Iterator[Speech]: ...


class PiperTts:
    """One Piper voice (one language)."""

    def __init__(self, pack_dir: Path, manifest: PackManifest) -> None:
        from piper import PiperVoice

        if manifest.engine is not Engine.PIPER:
            raise TtsError(f"pack {manifest.id} is not a Piper voice")
        self.manifest = manifest
        self.voice = PiperVoice.load(str(manifest.path_of(pack_dir, manifest.settings.get("model"))))
        self.sample_rate = self.voice.config.sample_rate

    def speak(self, text: str, language: str) -> Iterator[Speech]:
        for chunk in self.voice.synthesize(text):
            yield Speech(chunk.audio_float_array.astype(np.float32), chunk.sample_rate, text, fallback=False,
                         voice=PIPER)


class EspeakTts:
    """espeak-ng through its command line (Debian package), any registry language."""

    def __init__(self, binary: str = "espeak-ng", words_per_minute: int = 160) -> None:
        self.binary = shutil.which(binary)
        if self.binary is None:
            raise TtsError("espeak-ng is not installed (apt-get install espeak-ng)", code=ErrorCode.TTS_MISSING)
        self.words_per_minute = words_per_minute

    def speak(self, text: str, language: str) -> Iterator[Speech]:
        voice = languages.get(language).espeak
        try:
            # the text goes through stdin, never argv: "-5 grados" must be spoken, not parsed as an option
            result = subprocess.run([self.binary, "-v", voice, "-s", str(self.words_per_minute), "--stdin", "--stdout"],
                                    input=safe_text(text).encode("utf-8"), capture_output=True, timeout=60, check=True)
        except subprocess.CalledProcessError as err:
            crashed = err.returncode < 0  # ended by a signal: an abort or a segfault on this text
            raise TtsError(f"espeak-ng {'crashed' if crashed else 'failed'} for '{language}': {err}",
                           code=ErrorCode.TTS_CRASHED if crashed else ErrorCode.TTS_FAILED) from err
        except (subprocess.SubprocessError, OSError) as err:
            raise TtsError(f"espeak-ng failed for '{language}': {err}") from err
        with wave.open(io.BytesIO(result.stdout)) as wav:
            rate = wav.getframerate()
            audio = to_float32(wav.readframes(wav.getnframes()))
        yield Speech(audio, rate, text, fallback=True, voice=ESPEAK)


class SpeechRouter:
    """Which engine speaks each language: a voice *option* per language.

    Options are ``"kokoro:<voice>"`` (a Kokoro voice), ``"piper"`` (the language's Piper voice) and ``"espeak-ng"``.
    A language speaks with the person's choice if they made one, else with the default chosen from measured
    intelligibility and speed (``tolk.models.voice_choice``), else Piper, Kokoro, espeak-ng in that order.
    """

    def __init__(self, piper_voices: dict[str, Voice], espeak: EspeakTts | None, kokoro=None,
                 defaults: dict[str, str] | None = None, worker=None) -> None:
        self.piper_voices = piper_voices  # PiperTts, or WorkerVoice proxies
        self.espeak = espeak
        self.kokoro = kokoro  # a KokoroTts or a WorkerVoice with its ``voices``, or None
        self.defaults = dict(defaults or {})
        self.chosen: dict[str, str] = {}
        self.worker = worker  # the speech worker the proxies speak through (closed with the router), or None

    def close(self) -> None:
        """Stop the speech worker, if the voices speak through one."""
        if self.worker is not None:
            self.worker.close()

    def options(self, language: str) -> list[str]:
        code = languages.get(language).code
        return ordered_options(code in self.piper_voices, self.kokoro.voices.get(code, []) if self.kokoro else [],
                               self.espeak is not None and bool(languages.get(code).espeak))

    def option(self, language: str) -> str | None:
        """The option that speaks ``language`` now (None: no voice at all)."""
        code = languages.get(language).code
        available = self.options(code)
        for wanted in (self.chosen.get(code), self.defaults.get(code)):
            if wanted in available:
                return wanted
        return available[0] if available else None

    def choose(self, language: str, option: str | None) -> None:
        """The person's choice for ``language`` (None: back to the default); an unknown option is TTS_MISSING."""
        code = languages.get(language).code
        if option is None:
            self.chosen.pop(code, None)
            return
        if option not in self.options(code):
            raise TtsError(f"no voice '{option}' for '{code}' here (has: {', '.join(self.options(code))})",
                           code=ErrorCode.TTS_MISSING)
        self.chosen[code] = option

    def is_fallback(self, language: str) -> bool:
        return self.option(language) in (ESPEAK, None)

    def speak(self, text: str, language: str) -> Iterator[Speech]:
        code = languages.get(language).code
        option = self.option(code)
        if option == PIPER:
            return self._neural_or_espeak(self.piper_voices[code].speak(text, code), text, code)
        if option is not None and option.startswith(KOKORO_PREFIX):
            return self._neural_or_espeak(self.kokoro.speak(text, code, voice=option[len(KOKORO_PREFIX):]), text, code)
        if option is None:
            raise TtsError(f"no voice for '{code}': no neural voice and espeak-ng is missing",
                           code=ErrorCode.TTS_MISSING)
        return self.espeak.speak(text, code)

    def _neural_or_espeak(self, chunks: Iterator[Speech], text: str, code: str) -> Iterator[Speech]:
        """``chunks``; if the neural voice fails (an error, or its worker crashed), espeak-ng speaks what it had not
        said yet (logged): the listener still hears the translation. With no espeak-ng the failure is raised."""
        said: list[str] = []
        try:
            for speech in chunks:
                said.append(speech.text)
                yield speech
        except Exception as err:  # noqa: BLE001 - any engine failure: fall back, say why in the log
            if self.espeak is None:
                raise
            rest = unsaid(text, said)
            log.error("neural voice for '%s' failed (%s: %s); espeak-ng speaks %s", code, type(err).__name__, err,
                      "the clause" if rest == text else f"its last {len(rest)} characters")
            if rest:
                yield from self.espeak.speak(rest, code)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # left early (a cancelled turn): the engine stops too


def unsaid(text: str, said: list[str]) -> str:
    """What of ``text`` a voice had not started when it failed, from the sentences its chunks carried (``said``):
    the sentences after the last one heard; all of ``text`` if none was heard or the chunks do not tell."""
    if not said:
        return text
    sentences = split_sentences(text)
    if said[-1] not in sentences:
        return text  # Piper's chunks carry the whole text: say it again rather than lose its end
    return " ".join(sentences[sentences.index(said[-1]) + 1:])
