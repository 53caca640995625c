"""Text-to-speech: Piper voices, and espeak-ng for every language without one.

Both yield one ``Speech`` chunk per sentence so playback can start after the
first sentence. A language with no Piper voice speaks through espeak-ng and the
chunk says so (``fallback=True``), for the screen to show.
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
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.manifest import Engine, PackManifest
from tolk.models.pcm import to_float32

log = logging.getLogger(__name__)


class TtsError(TolkError):
    code = ErrorCode.TTS_FAILED


@dataclass(frozen=True)
class Speech:
    audio: np.ndarray  # mono float32
    sample_rate: int
    text: str
    fallback: bool  # True: espeak-ng, robotic


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
            yield Speech(chunk.audio_float_array.astype(np.float32), chunk.sample_rate, text, fallback=False)


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
                                    input=text.encode("utf-8"), capture_output=True, timeout=60, check=True)
        except (subprocess.SubprocessError, OSError) as err:
            raise TtsError(f"espeak-ng failed for '{language}': {err}") from err
        with wave.open(io.BytesIO(result.stdout)) as wav:
            rate = wav.getframerate()
            audio = to_float32(wav.readframes(wav.getnframes()))
        yield Speech(audio, rate, text, fallback=True)


class SpeechRouter:
    """Each language speaks with its Piper voice when one is installed, else with espeak-ng."""

    def __init__(self, piper_voices: dict[str, PiperTts], espeak: EspeakTts | None) -> None:
        self.piper_voices = piper_voices
        self.espeak = espeak

    def is_fallback(self, language: str) -> bool:
        return languages.get(language).code not in self.piper_voices

    def speak(self, text: str, language: str) -> Iterator[Speech]:
        code = languages.get(language).code
        if code in self.piper_voices:
            return self.piper_voices[code].speak(text, code)
        if self.espeak is None:
            raise TtsError(f"no voice for '{code}': no Piper voice and espeak-ng is missing", code=ErrorCode.TTS_MISSING)
        return self.espeak.speak(text, code)
