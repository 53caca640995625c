"""Kokoro-82M as a Tolk voice: text → phonemes (``tolk.models.g2p``) → one ONNX session → 24 kHz speech.

One session serves every language of the pack: a Kokoro voice is only a table of style vectors (510 × 256 float32
values in a ``.f32`` file), so switching language or voice costs nothing and RAM is that of one model. Text is spoken
sentence by sentence (the streaming turn already hands over single clauses); a sentence whose phonemes exceed what
one call takes is cut at its last pause or word boundary before the limit.
"""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from tolk.models import languages, logtext
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.integrity import float_table_problem
from tolk.models.kokoro import MAX_PHONEMES, SAMPLE_RATE, KokoroModel
from tolk.models.manifest import Engine, PackManifest
from tolk.models.sentences import split_sentences
from tolk.models.tts import Speech, TtsError
from tolk.models.voice_choice import KOKORO_PREFIX

log = logging.getLogger(__name__)

PHONEMES_PER_CALL = 400  # below the model's 508 with room for a word; long calls also delay the first audio
# The first call of a text is cut at its first pause if it is longer than this: synthesis time grows with length
# (about 0.3 s per second of speech here), and the listener hears nothing until the first piece is done.
FIRST_PIECE_PHONEMES = 80
FIRST_PIECE_MIN = 8  # a shorter first piece ("si,") sounds chopped; the streaming turn's first clause uses the same
SILENCE_LEVEL = 0.01  # leading/trailing samples quieter than this (of full scale) are trimmed
KEPT_SILENCE_S = 0.05  # what is kept at each end, so a cut never clips a soft onset
_BREAK = re.compile(r"[,;:.!?—…] ?")


def split_phonemes(phonemes: str, limit: int = PHONEMES_PER_CALL) -> list[str]:
    """``phonemes`` cut into pieces of at most ``limit`` characters, at a pause if one is near, else at a space."""
    pieces, rest = [], phonemes.strip()
    while len(rest) > limit:
        window = rest[:limit]
        pauses = [m.end() for m in _BREAK.finditer(window)]
        cut = pauses[-1] if pauses and pauses[-1] > limit // 3 else window.rfind(" ") + 1 or limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [p for p in [*pieces, rest] if p]


def first_pause(phonemes: str, limit: int = FIRST_PIECE_PHONEMES) -> int | None:
    """Where to end the first piece of a long text: after its first pause (comma, colon …) between
    ``FIRST_PIECE_MIN`` and ``limit`` characters in; None when it is short or has no pause there."""
    if len(phonemes) <= limit:
        return None
    pause = next((m.end() for m in _BREAK.finditer(phonemes, FIRST_PIECE_MIN) if m.end() <= limit), None)
    return pause if pause is not None and pause < len(phonemes.rstrip()) else None


def trim_silence(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``audio`` without the silence the model puts before and after speech (keeps ``KEPT_SILENCE_S``)."""
    loud = np.flatnonzero(np.abs(audio) > SILENCE_LEVEL)
    if loud.size == 0:
        return audio
    keep = int(KEPT_SILENCE_S * sample_rate)
    return audio[max(0, loud[0] - keep):min(audio.size, loud[-1] + keep + 1)]


class KokoroTts:
    """The Kokoro pack's voices for its languages (per language, the first listed is the default)."""

    def __init__(self, pack_dir: Path, manifest: PackManifest, threads: int | None = None) -> None:
        if manifest.engine is not Engine.KOKORO:
            raise TtsError(f"pack {manifest.id} is not a Kokoro pack")
        self.manifest, self.pack_dir = manifest, Path(pack_dir)
        settings = manifest.settings
        vocab_path = manifest.path_of(self.pack_dir, settings.get("vocab"))
        try:
            vocab = json.loads(vocab_path.read_text(encoding="utf-8"))["vocab"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise TtsError(f"{vocab_path}: not a Kokoro vocabulary ({err})", code=ErrorCode.PACK_BROKEN) from err
        self.model = KokoroModel(manifest.path_of(self.pack_dir, settings.get("model")), vocab,
                                 threads=threads or int(settings.get("threads", 1)))
        self.sample_rate = int(settings.get("sample_rate", SAMPLE_RATE))
        self.speed = float(settings.get("speed", 1.0))
        self.voices: dict[str, list[str]] = {code: [Path(name).stem for name in files]
                                             for code, files in settings["voices"].items()}
        self._styles: dict[str, np.ndarray] = {}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.voices)

    def style(self, voice: str) -> np.ndarray:
        if voice not in self._styles:
            path = self.manifest.path_of(self.pack_dir, f"{voice}.f32")
            table = np.fromfile(path, dtype=np.float32)
            if table.size != MAX_PHONEMES * 256:
                raise TtsError(f"{path.name}: {table.size} floats, a Kokoro voice has {MAX_PHONEMES * 256}",
                               code=ErrorCode.PACK_BROKEN)
            unusable = float_table_problem([table])  # a pack installed before install checked this
            if unusable:
                raise TtsError(f"{path.name}: {unusable}", code=ErrorCode.PACK_BROKEN)
            self._styles[voice] = table.reshape(MAX_PHONEMES, 256)
        return self._styles[voice]

    def phonemes(self, text: str, language: str) -> str:
        from tolk.models.g2p import phonemize

        return phonemize(text, language)

    def warm_up(self) -> float:
        """Load every language's phonemiser and run one short synthesis, so the first turn does not pay for the
        session's first run (about 0.4 s more here); returns the seconds it took."""
        started = time.monotonic()
        for code in self.voices:
            self.phonemes("1", code)
        self.model.synthesise("hˈɛlO.", self.style(self.voices[self.languages[0]][0]), self.speed)
        return time.monotonic() - started

    def speak(self, text: str, language: str, voice: str | None = None) -> Iterator[Speech]:
        """Speech for ``text`` in ``voice`` (default: the language's first voice), one chunk per sentence piece."""
        code = languages.get(language).code
        names = self.voices.get(code, [])
        if not names or (voice is not None and voice not in names):
            raise TtsError(f"the Kokoro pack has no voice {voice or ''} for '{code}' (has: {', '.join(names)})",
                           code=ErrorCode.TTS_MISSING)
        voice = voice or names[0]
        style = self.style(voice)
        first = True
        for sentence in split_sentences(text):
            phonemes = self.phonemes(sentence, code)
            cut = first_pause(phonemes) if first else None
            first = False
            pieces = [phonemes[:cut].strip(), *split_phonemes(phonemes[cut:])] if cut else split_phonemes(phonemes)
            for piece in pieces:
                try:
                    audio = self.model.synthesise(piece, style, self.speed)
                except TolkError as err:
                    if err.code is ErrorCode.TEXT_EMPTY:  # only marks Kokoro cannot say: nothing to speak
                        log.info("nothing sayable in %s", logtext.said(piece[:40]))
                        continue
                    raise
                yield Speech(trim_silence(audio, self.sample_rate), self.sample_rate, sentence, fallback=False,
                             voice=KOKORO_PREFIX + voice)
