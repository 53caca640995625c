"""Text made safe for espeak-ng 1.51 before it reaches the library (Kokoro's G2P) or the ``espeak-ng`` command.

espeak-ng 1.51 (Debian 1.51+dfsg-10+deb12u2) reads a run of single letters joined by dots ("u.s.a.") as one
dotted abbreviation: ``CheckDottedAbbrev()`` (src/libespeak-ng/translate.c) copies each letter's UTF-8 bytes into
``char word_buf[80]`` on the stack with no bound, so a long run writes past it and the stack protector aborts the
process (``*** stack smashing detected ***``, SIGABRT). Fixed upstream by commit 17ca9c9c ("fix: three memory
safety issues in text parsing", after 1.52), not in the Debian package. Measured with the command (the library is
the same code): ``python3 -c "print('x.'*85)" | espeak-ng -q -v es --ipa --stdin`` aborts, 84 pairs do not; any
voice; the run aborts from 85 one-byte letters, 57 two-byte (ж, ε, ß), 43 three-byte (अ, ก, 中, a lone vowel sign
ा) and 34 four-byte ones (𝐀); spaces or commas around the dot do not break the run ("x . x ." and "x.,x.," abort
alike), a space after the dot does ("x. x. " never aborts: the dot is dropped there).

So a run of more than ``MAX_DOTTED_LETTERS`` dotted letters is rewritten as the letters separated by spaces: with
no dot left between them nothing is copied, and espeak still spells them one by one as it would have.
"""
from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

# "U.S.A.", "e.g.", "i.e.", "a.m." stay as written; 8 letters of at most 4 bytes (32) stay far below the 80-byte
# buffer, and the shortest run measured to abort is 34 letters (four-byte ones).
MAX_DOTTED_LETTERS = 8
# One letter (any character but a space, digit or dot: espeak's letter test is wider than Python's, e.g. a lone
# Devanagari vowel sign counts), then anything that is neither a word character nor a dot, the dot, and the same.
# A dot right after the letter and followed by a space is dropped by espeak and ends the run ("U.S.A. e.g."
# are two runs), so a unit ends there.
_UNIT_PATTERN = r"[^\s\d.](?:[^\w.]+\.[^\w.]*|\.(?:[^\w.\s][^\w.]*)?)"
_UNIT = re.compile(r"([^\s\d.])" + _UNIT_PATTERN[len(r"[^\s\d.]"):])
_RUN = re.compile(r"(?:%s){%d,}" % (_UNIT_PATTERN, MAX_DOTTED_LETTERS + 1))
BYPASS = False  # True only in a speech worker started for a test of the crash itself (speech_worker.UNSAFE_TEXT_ENV)


def _spelled(run: re.Match) -> str:
    letters = [unit.group(1) for unit in _UNIT.finditer(run.group())]
    return " ".join(letters) + (". " if run.group().rstrip().endswith(".") else " ")


def safe_text(text: str) -> str:
    """``text`` with every run of more than ``MAX_DOTTED_LETTERS`` dotted letters spelled with spaces instead."""
    if BYPASS:
        return text
    safe = _RUN.sub(_spelled, text)
    if safe != text:
        log.info("a run of dotted letters was spaced out for espeak-ng (%d characters)", len(text))
    return safe
