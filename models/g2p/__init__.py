"""Grapheme-to-phoneme for Kokoro-82M v1.0: text in a Tolk language → the phoneme string the model reads.

``phonemize(text, language)`` returns symbols from Kokoro's vocabulary only (vocabulary.py), clause punctuation
kept for prosody. Spanish, French, Italian, Brazilian Portuguese, Hindi and US English go through libespeak-ng
(espeak_ipa.py), Mandarin through pypinyin (mandarin.py). Japanese is not served: the light enough reader does
not exist for the device (docs/dev/kokoro-plan.md, section 4).
"""
from __future__ import annotations

import logging

from tolk.models.errors import ErrorCode, TolkError
from tolk.models.g2p import espeak_ipa
from tolk.models.g2p.vocabulary import keep_known

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = (*espeak_ipa.VOICES, "zh")


def phonemize(text: str, language: str) -> str:
    """Kokoro phonemes for ``text`` in ``language`` (a Tolk code from :data:`LANGUAGES`); "" for empty text.

    Raises TolkError TTS_MISSING for a language not served here or a missing reader (libespeak-ng, pypinyin)."""
    if language not in LANGUAGES:
        raise TolkError(f"no Kokoro phonemes for '{language}' (served: {', '.join(LANGUAGES)})",
                        code=ErrorCode.TTS_MISSING)
    if not text.strip():
        return ""
    phonemes = _mandarin(text) if language == "zh" else espeak_ipa.phonemize(text, language)
    return keep_known(phonemes, language)


def _mandarin(text: str) -> str:
    try:
        from tolk.models.g2p import mandarin
    except ImportError as err:
        raise TolkError(f"Mandarin phonemes need pypinyin (pip install pypinyin): {err}",
                        code=ErrorCode.TTS_MISSING) from err
    return mandarin.phonemize(text)
