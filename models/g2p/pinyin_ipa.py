"""One pinyin syllable (tone number last, ``ü`` as ``ü``) as the IPA Kokoro v1.0's Mandarin voices were trained on.

The symbols follow misaki 0.9.4's legacy Mandarin path (facts from its transcription table, Apache-2.0; the
table below is our own): Kokoro's retroflex affricate is ``ꭧ``, aspiration ``ʰ``, the apical vowel of zhi/chi/
shi/ri/zi/ci/si is ``ɨ``, diphthongs have no non-syllabic marks, and the tone is an arrow written after the
syllable's vowel, before a final n or ŋ: 1 →, 2 ↗, 3 ↓, 4 ↘, neutral (5) nothing.
"""
from __future__ import annotations

import logging

from pypinyin.contrib.tone_convert import to_finals, to_initials

from tolk.models import logtext

log = logging.getLogger(__name__)

TONES: dict[str, str] = {"1": "→", "2": "↗", "3": "↓", "4": "↘", "5": ""}

INITIALS: dict[str, str] = {
    "b": "p", "p": "pʰ", "m": "m", "f": "f", "d": "t", "t": "tʰ", "n": "n", "l": "l",
    "g": "k", "k": "kʰ", "h": "x", "j": "ʨ", "q": "ʨʰ", "x": "ɕ",
    "zh": "ꭧ", "ch": "ꭧʰ", "sh": "ʂ", "r": "ɻ", "z": "ʦ", "c": "ʦʰ", "s": "s",
}
# Final (pypinyin's strict spelling: iou, uei, uen, ü...) -> (up to and with the vowel, what follows the tone).
FINALS: dict[str, tuple[str, str]] = {
    "a": ("a", ""), "ai": ("ai", ""), "an": ("a", "n"), "ang": ("a", "ŋ"), "ao": ("au", ""),
    "e": ("ɤ", ""), "ei": ("ei", ""), "en": ("ə", "n"), "eng": ("ə", "ŋ"), "er": ("ɚ", ""),
    "i": ("i", ""), "ia": ("ja", ""), "ian": ("jɛ", "n"), "iang": ("ja", "ŋ"), "iao": ("jau", ""),
    "ie": ("je", ""), "in": ("i", "n"), "ing": ("i", "ŋ"), "iong": ("jʊ", "ŋ"), "iou": ("jou", ""),
    "o": ("wo", ""), "ong": ("ʊ", "ŋ"), "ou": ("ou", ""),
    "u": ("u", ""), "ua": ("wa", ""), "uai": ("wai", ""), "uan": ("wa", "n"), "uang": ("wa", "ŋ"),
    "uei": ("wei", ""), "uen": ("wə", "n"), "ueng": ("wə", "ŋ"), "uo": ("wo", ""),
    "ü": ("y", ""), "üe": ("ɥe", ""), "üan": ("ɥɛ", "n"), "ün": ("y", "n"),
}
APICAL = frozenset({"zh", "ch", "sh", "r", "z", "c", "s"})  # their "i" is the apical vowel ɨ
# Whole syllables outside the initial + final scheme (interjections, syllabic nasals).
WHOLE: dict[str, tuple[str, str]] = {
    "er": ("ɚ", ""), "o": ("ɔ", ""), "io": ("jɔ", ""), "ê": ("ɛ", ""),
    "m": ("m", ""), "n": ("n", ""), "ng": ("ŋ", ""), "hm": ("hm", ""), "hng": ("hŋ", ""),
}


def syllable_ipa(syllable: str) -> str:
    """``syllable`` like ``zhong1``, ``lü4``, ``ma5`` as Kokoro IPA; "" if it is not pinyin."""
    tone = syllable[-1] if syllable[-1:] in TONES else "5"
    bare = syllable.rstrip("12345").replace("v", "ü")
    if bare in WHOLE:
        vowel, coda = WHOLE[bare]
        return vowel + TONES[tone] + coda
    initial = to_initials(bare, strict=True)
    final = to_finals(bare, strict=True, v_to_u=True)
    if initial and initial not in INITIALS or final not in FINALS:
        log.debug("not a pinyin syllable: %s", logtext.said(syllable))
        return ""
    vowel, coda = ("ɨ", "") if initial in APICAL and final == "i" else FINALS[final]
    return INITIALS.get(initial, "") + vowel + TONES[tone] + coda
