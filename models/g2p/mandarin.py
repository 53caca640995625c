"""Mandarin Chinese → Kokoro phonemes with pypinyin alone (no jieba, no cn2an).

Numbers are written out in Chinese first (zh_numbers.py), Chinese punctuation becomes Kokoro's ASCII marks,
pypinyin's own maximum-matching segmenter (mmseg, over its phrase dictionary) cuts the Han text into words, each
word's syllables are read with pypinyin's phrase-aware tones and turned into IPA (pinyin_ipa.py); words are
separated by a space, as in misaki's legacy path that Kokoro v1.0 was trained with. Other letters pass through
in lower case.
"""
from __future__ import annotations

import logging
import re

from pypinyin import Style, lazy_pinyin
from pypinyin.seg.mmseg import seg

from tolk.models.g2p.pinyin_ipa import syllable_ipa
from tolk.models.g2p.zh_numbers import spell_numbers

log = logging.getLogger(__name__)

PUNCTUATION: dict[str, str] = {
    "，": ", ", "、": ", ", "。": ". ", "．": ". ", "！": "! ", "？": "? ", "：": ": ", "；": "; ",
    "…": "… ", "——": " — ", "—": " — ", "《": " “", "》": "” ", "「": " “", "」": "” ", "『": " “", "』": "” ",
    "【": " “", "】": "” ", "“": " “", "”": "” ", "（": " (", "）": ") ", "(": " (", ")": ") ",
    ",": ", ", ".": ". ", "!": "! ", "?": "? ", ":": ": ", ";": "; ",
}
_PUNCTUATION = re.compile("|".join(re.escape(mark) for mark in sorted(PUNCTUATION, key=len, reverse=True)))
_HAN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def _han_ipa(run: str) -> str:
    words = []
    for word in seg.cut(run):
        syllables = lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=True)
        words.append("".join(syllable_ipa(syllable) for syllable in syllables))
    return " ".join(word for word in words if word)


def phonemize(text: str) -> str:
    """Kokoro phonemes for Mandarin ``text`` (simplified or traditional characters)."""
    text = _PUNCTUATION.sub(lambda found: PUNCTUATION[found.group()], spell_numbers(text))
    parts = [_han_ipa(part) if index % 2 else part.lower() for index, part in enumerate(_HAN.split(text))]
    out = " ".join(part.strip() for part in parts if part.strip())
    out = re.sub(r"\s+([,.!?:;…”)])", r"\1", out)  # no space before a closing mark
    out = re.sub(r"([“(])\s+", r"\1", out)  # nor after an opening one
    return re.sub(r"\s+", " ", out).strip()
