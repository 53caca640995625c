"""Cutting a translation that is still being generated into clauses to speak.

The translation model's text arrives a few characters at a time. A clause is complete at a sentence end
(. ! ? … and their CJK / Arabic / Devanagari forms) or, once it is long enough to sound like a phrase of its
own, at a comma, colon or semicolon (and their CJK / Arabic forms). Western punctuation counts only when
whitespace follows it, so "3.5", "1,000", "7:45" and "e.g." never cut; full-width CJK punctuation cuts at
once. What is left when the model stops is the last clause.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from tolk.models.sentences import is_abbreviation

# A comma-like mark ends a spoken chunk only when the chunk before it has at least this many characters
# (CJK characters count 2.5 each: one carries about a syllable-and-a-half of speech). Shorter chunks sound
# chopped in Piper and espeak-ng, and cost a TTS start-up each; at 24 characters the first clause of a typical
# translated sentence ("Disculpe, ¿dónde está la farmacia más cercana?") is the whole first phrase.
MIN_CLAUSE_CHARS = 24
# The turn's first clause sets when the listener hears anything, and a comma is a natural pause: it may be short
# ("Lo siento,", "Entschuldigung,"). Later clauses are synthesised while earlier ones play, so they can be longer.
FIRST_CLAUSE_MIN_CHARS = 8
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|[。！？]+[」』”）]*|[؟।॥]+(?=\s)")
_CLAUSE_END = re.compile(r"[,;:]+[\"'”’»)\]]*(?=\s)|[，；：、]+|[،؛]+(?=\s)")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def spoken_length(text: str) -> float:
    """Characters, with CJK ideographs / kana / hangul weighted as the speech they carry."""
    cjk = len(_CJK.findall(text))
    return len(text) - cjk + 2.5 * cjk


@dataclass
class Clause:
    text: str  # stripped
    gap: str  # the whitespace that stood before it in the model's output ("" for the first clause)


class ClauseCutter:
    """Feed text pieces as they are generated; take complete clauses as soon as they exist."""

    def __init__(self, min_chars: int = MIN_CLAUSE_CHARS, first_min_chars: int | None = None) -> None:
        self.min_chars = min_chars
        self.first_min_chars = min_chars if first_min_chars is None else first_min_chars
        self._buffer = ""
        self._first = True

    def feed(self, piece: str) -> list[Clause]:
        self._buffer += piece
        out = []
        while (cut := self._next_cut()) is not None:
            out.append(self._take(cut))
        return [c for c in out if c.text]

    def flush(self) -> list[Clause]:
        """The rest, once the model has stopped."""
        clause = self._take(len(self._buffer))
        return [clause] if clause.text else []

    def _take(self, cut: int) -> Clause:
        head, self._buffer = self._buffer[:cut], self._buffer[cut:]
        text = head.strip()
        gap = "" if self._first else head[: len(head) - len(head.lstrip())]
        if text:
            self._first = False
        return Clause(text, gap)

    def _next_cut(self) -> int | None:
        """End of the earliest complete clause in the buffer, if any."""
        sentence = next((m.end() for m in _SENTENCE_END.finditer(self._buffer)
                         if not (m.group().startswith(".") and is_abbreviation(self._buffer[: m.start()]))), None)
        least = self.first_min_chars if self._first else self.min_chars
        clause = next((m.end() for m in _CLAUSE_END.finditer(self._buffer)
                       if spoken_length(self._buffer[: m.start()].strip()) >= least), None)
        cuts = [c for c in (sentence, clause) if c is not None]
        return min(cuts) if cuts else None


def join_clauses(clauses: list[Clause]) -> str:
    return "".join((c.gap if i else "") + c.text for i, c in enumerate(clauses))
