"""Splitting text into sentences, for sentence-by-sentence translation and speech.

Ends a sentence at . ! ? … (and their CJK / Arabic / Devanagari / Thai-space forms)
followed by space or end of text; keeps decimals (3.5), times (7.45), initials and
common abbreviations together. Numbers, names and punctuation stay untouched.
A "sentence" with no text in it (only zero-width or combining characters) is dropped.
"""
from __future__ import annotations

import re
import unicodedata

_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "no",
                            "nr", "z.b", "bzw", "usw", "sra", "sr", "dra", "m", "mme", "p.ej"})
_END = re.compile(r"([.!?…]+|[。！？]+|[؟।॥]+)([\"'”’»)\]]*)(\s+|$)")
_CJK_END = re.compile(r"([。！？])")
# Characters that carry no text on their own: separators and controls, format characters (zero-width space and
# joiners, word joiner, BOM, bidi marks and isolates, soft hyphen), combining marks with no letter to sit on,
# unassigned, private-use and surrogate code points, and the blank letters (Hangul fillers, the blank braille
# cell) that render as nothing. Given only these ("\u200b\u200c\u2060"), the translation model answers "¡Hola!".
_NOT_TEXT_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Mc", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_text(text: str) -> bool:
    """Whether ``text`` holds at least one character that is text: a letter, digit, punctuation or symbol."""
    return any(c not in _BLANK_LETTERS and unicodedata.category(c) not in _NOT_TEXT_CATEGORIES for c in text)


def is_abbreviation(before_dot: str) -> bool:
    """Whether a "." after ``before_dot`` belongs to an abbreviation or an initial, not a sentence end."""
    last_word = before_dot.split(" ")[-1].lower() if before_dot else ""
    return last_word.rstrip(".") in _ABBREVIATIONS or re.fullmatch(r"\w", last_word) is not None


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    if not text:
        return []
    sentences, start = [], 0
    for match in _END.finditer(text):
        end = match.end(2)
        candidate = text[start:end].strip()
        if match.group(1) == "." and candidate and is_abbreviation(candidate[: match.start(1) - start]):
            continue
        if match.group(3) == "" and match.end() < len(text):
            continue
        sentences.append(candidate)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    # CJK text often has no spaces after 。: split those too
    out = []
    for sentence in sentences:
        parts = [p for p in _CJK_END.split(sentence) if p]
        merged = []
        for part in parts:
            if _CJK_END.fullmatch(part) and merged:
                merged[-1] += part
            else:
                merged.append(part)
        out.extend(p.strip() for p in merged if has_text(p))
    return out
