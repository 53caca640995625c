"""Kokoro phonemes from espeak-ng IPA: Spanish, French, Italian, Brazilian Portuguese, Hindi, US English.

Per piece of text between clause marks (punctuation.py) the espeak voice gives IPA with ``^`` tying the letters
of one phoneme; the tied pairs Kokoro v1.0 has one symbol for are replaced (the mapping misaki's EspeakG2P
applies, restated here), then ties and espeak's hyphens go. English gets the usual espeak → Kokoro US fix-ups.
Small text fixes before espeak: runs of dotted letters that abort espeak-ng 1.51 are spaced out (espeak_text.py);
a minus sign before a number is written out (espeak drops it in es, fr, hi);
French "9 h 30" becomes 9:30 (espeak reads the h as the letter).
"""
from __future__ import annotations

import logging
import re

from tolk.models.espeak_text import safe_text
from tolk.models.g2p.espeak_lib import TIE, library
from tolk.models.g2p.punctuation import join_pieces, split_clauses

log = logging.getLogger(__name__)

# Tolk language code -> espeak-ng voice (Kokoro's Portuguese voices are Brazilian, its English ones here US).
VOICES: dict[str, str] = {"es": "es", "fr": "fr-fr", "it": "it", "pt": "pt-br", "hi": "hi", "en": "en-us"}
MINUS: dict[str, str] = {"es": "menos", "fr": "moins", "it": "meno", "pt": "menos", "hi": "माइनस", "en": "minus"}

# Tied espeak phonemes that are one Kokoro symbol.
TIED: tuple[tuple[str, str], ...] = (
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("d^z", "ʣ"), ("d^ʒ", "ʤ"), ("e^ɪ", "A"), ("o^ʊ", "O"), ("ə^ʊ", "Q"),
    ("s^s", "S"), ("t^s", "ʦ"), ("t^ʃ", "ʧ"), ("ɔ^ɪ", "Y"),
)
# US English, in order: what espeak 1.51 writes → what Kokoro's English voices were trained on.
ENGLISH_US: tuple[tuple[str, str], ...] = (
    ("ə^l", "ᵊl"), ("ʔˌn\u0329", "ʔn"), ("ʔn\u0329", "ʔn"), ("ʲo", "jo"), ("ʲə", "jə"), ("ʲ", ""),
    ("ɚ", "əɹ"), ("r", "ɹ"), ("x", "k"), ("ç", "k"), ("ɐ", "ə"), ("ɬ", "l"), ("\u0303", ""),
    ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", ""),
    ("o", "ɔ"),  # a bare o (not in oʊ, already O) is espeak < 1.52's ɔ
    ("ɾ", "T"), ("ʔ", "t"),
)
_LANGUAGE_FLAG = re.compile(r"\([a-z^-]{2,16}\)")  # espeak's "(en)" ... "(hi)" around words it switched for
_SYLLABIC = re.compile(r"(\S)\u0329")
_MINUS = re.compile(r"(?<![\w.,])[-−](?=\d)")
_FRENCH_HOURS = re.compile(r"\b(\d{1,2}) ?h ?(\d{2})\b")  # "9 h 30": espeak spells the h ("ache")
_FRENCH_HOUR = re.compile(r"\b(\d{1,2}) ?h\b")


def _english(ipa: str) -> str:
    for old, new in TIED:
        if old not in ("d^z", "s^s", "t^s", "ə^ʊ"):
            ipa = ipa.replace(old, new)
    ipa = ipa.replace("e", "A")  # a bare e (not in eɪ, already A)
    for old, new in ENGLISH_US:
        ipa = ipa.replace(old, new)
    return _SYLLABIC.sub(r"ᵊ\1", ipa)


def to_kokoro(ipa: str, language: str) -> str:
    """espeak IPA (tied with ``^``) as Kokoro v1.0 symbols."""
    ipa = _LANGUAGE_FLAG.sub("", ipa)
    if language == "en":
        ipa = _english(ipa)
    else:
        for old, new in TIED:
            ipa = ipa.replace(old, new)
    return re.sub(r"\s+", " ", ipa.replace(TIE, "").replace("-", "")).strip()


def phonemize(text: str, language: str) -> str:
    """Kokoro phonemes for ``text`` in ``language`` (one of :data:`VOICES`), clause punctuation kept."""
    voice = VOICES[language]
    text = _MINUS.sub(MINUS[language] + " ", safe_text(text))
    if language == "fr":
        text = _FRENCH_HOUR.sub(r"\1 heures", _FRENCH_HOURS.sub(r"\1:\2", text))
    engine = library()
    spoken = [(to_kokoro(engine.ipa(piece.words, voice), language) if piece.words else "", piece.mark)
              for piece in split_clauses(text)]
    return join_pieces(spoken)
