"""Split a text at its clause punctuation, the marks Kokoro hears as prosody (``, . ? !`` ...).

espeak-ng speaks the words between the marks but drops the marks; the G2P phonemizes each piece and puts the
mark back. A mark counts only where it ends a piece of text (followed by a space, a closing quote or the end):
the comma in ``3,5``, the point in ``3.5`` and the colon in ``9:30`` stay inside their piece for espeak to read.
"""
from __future__ import annotations

import re
from typing import NamedTuple

# What each written mark becomes in Kokoro's vocabulary; "" drops it (the Spanish opening marks).
MARKS: dict[str, str] = {
    ",": ",", ".": ".", ";": ";", ":": ":", "!": "!", "?": "?", "…": "…", "—": "—",
    "¿": "", "¡": "", "।": ".", "॥": ".", "«": "“", "»": "”", "“": "“", "”": "”", '"': '"',
    "(": "(", ")": ")", "–": "—",
}
_MARK_CLASS = "".join(re.escape(mark) for mark in MARKS)
# A run of marks that ends text: followed by whitespace or the end, or an opening/closing mark anywhere; a hyphen
# or dash between spaces is a pause too.
_SPLIT = re.compile(rf"(?:[{_MARK_CLASS}]+(?=\s|$)|[¿¡«»“”\"()]|(?<!\S)[—–-](?=\s))")


_OPENING = ("(", "“")


class Piece(NamedTuple):
    words: str  # text for the phonemizer, no clause punctuation at either end
    mark: str  # Kokoro punctuation that follows it ("" when none)


def split_clauses(text: str) -> list[Piece]:
    """``text`` as pieces of words, each with the Kokoro punctuation that follows it."""
    pieces: list[Piece] = []
    start = 0
    for found in _SPLIT.finditer(text):
        mark = "".join(MARKS.get(symbol, "—" if symbol == "-" else "") for symbol in found.group())
        mark = mark.replace("...", "…")
        pieces.append(Piece(text[start:found.start()].strip(), mark))
        start = found.end()
    pieces.append(Piece(text[start:].strip(), ""))
    return [piece for piece in pieces if piece.words or piece.mark]


def join_pieces(spoken: list[tuple[str, str]]) -> str:
    """Phonemes and marks back into one string: a space between words, none before a closing mark."""
    out = ""
    for phonemes, mark in spoken:
        if phonemes:
            out += (" " if out and not out.endswith(_OPENING) else "") + phonemes
        for symbol in mark:
            if symbol in _OPENING:
                out += " " + symbol
            elif symbol == "—" and out:
                out += " —"
            elif out:  # a closing mark (or a dash) with nothing before it says nothing
                out += symbol
    return re.sub(r"\s+", " ", out).strip()
