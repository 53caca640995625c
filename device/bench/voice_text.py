"""What the voices bench says: UDHR sentences per language and a fixed 6-word clause for the first audio.

Sentences come from the UDHR articles (``tolk.models.build.udhr``), split with the device's own splitter. A
sentence longer than ``MAX_WORDS`` is cut at its clause marks (, ; :) into runs of whole clauses of at most
``MAX_WORDS``: the UDHR has about 40 short sentences per language, too few for 50, and the interpreter speaks clause
by clause anyway. Pieces of ``MIN_WORDS`` to ``MAX_WORDS`` words are kept and ``count`` of them taken evenly spread
over the document, so every voice option of a language reads the same sentences, run after run. Chinese and
Japanese have no spaces: there a word counts as ``CHARS_PER_WORD`` characters.
"""
from __future__ import annotations

import logging
import math
import re
import unicodedata

log = logging.getLogger(__name__)

MIN_WORDS, MAX_WORDS = 4, 25
CHARS_PER_WORD = 2  # Chinese / Japanese: a word is about two characters
UNSPACED = ("zh", "ja")
# Which UDHR text each language reads when it is not the registry's: Kokoro's Portuguese voices are Brazilian.
UDHR_TEXT = {"pt": "por_BR"}
# A fixed 6-word clause per language for the time to first audio.
# Whisper's "previous text" per language: base writes Hindi in Latin or Urdu letters and Mandarin in traditional
# characters unless a sentence in the expected script comes before (the references are Devanagari / simplified).
PREVIOUS_TEXT = {"hi": "नमस्ते, आप कैसे हैं? मैं ठीक हूँ।", "zh": "以下是普通话的句子。"}
CLAUSES = {
    "en": "Where is the nearest train station?",
    "es": "¿Dónde está la estación de tren?",
    "fr": "Où se trouve la gare centrale ?",
    "it": "Dove si trova la stazione ferroviaria?",
    "pt": "Onde fica a estação de trem?",
    "hi": "सबसे नज़दीकी रेलवे स्टेशन कहाँ है?",
    "zh": "请问最近的火车站在哪里？",
    "ja": "一番近い駅はどこですか？",
}
_CLAUSE_MARK = re.compile(r"(?<=[,;:，；：、])\s*")


def word_count(text: str, language: str) -> int:
    """Words in ``text``; for Chinese and Japanese its letters (no punctuation, no spaces) ÷ ``CHARS_PER_WORD``."""
    if language in UNSPACED:
        letters = sum(1 for c in text if not c.isspace() and not unicodedata.category(c).startswith("P"))
        return math.ceil(letters / CHARS_PER_WORD)
    return len(text.split())


def pieces(sentence: str, language: str, max_words: int = MAX_WORDS) -> list[str]:
    """``sentence`` whole if short enough, else runs of whole clauses of at most ``max_words`` (a single clause
    longer than that stays one piece and is dropped by the caller)."""
    if word_count(sentence, language) <= max_words:
        return [sentence]
    out: list[str] = []
    for clause in (c.strip() for c in _CLAUSE_MARK.split(sentence) if c.strip()):
        joined = f"{out[-1]} {clause}" if out and language not in UNSPACED else (out[-1] + clause if out else clause)
        if out and word_count(joined, language) <= max_words:
            out[-1] = joined
        else:
            out.append(clause)
    return [p.rstrip(",;:，；：、 ") for p in out]


def candidates(articles: dict[int, str], language: str, min_words: int = MIN_WORDS,
               max_words: int = MAX_WORDS) -> list[str]:
    """Every sentence (or clause run) of the articles, in article order, with ``min_words``..``max_words`` words."""
    from tolk.models.sentences import split_sentences

    out = []
    for number in sorted(articles):
        for sentence in split_sentences(articles[number]):
            out += [p for p in pieces(sentence, language, max_words) if min_words <= word_count(p, language) <= max_words]
    return list(dict.fromkeys(out))  # a repeated sentence is read once


def pick_sentences(articles: dict[int, str], language: str, count: int) -> list[str]:
    """``count`` candidates spread evenly over the document (all of them when there are fewer); deterministic."""
    found = candidates(articles, language)
    if count >= len(found):
        if count > len(found):
            log.warning("%s: only %d sentences of %d-%d words, wanted %d", language, len(found), MIN_WORDS,
                        MAX_WORDS, count)
        return found
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


def load_sentences(udhr_dir, language: str, count: int) -> list[str]:
    """``pick_sentences`` from the UDHR text of ``language`` (Tolk code)."""
    from tolk.models import languages
    from tolk.models.build import udhr

    code = UDHR_TEXT.get(language) or languages.get(language).udhr
    return pick_sentences(udhr.load_articles(udhr_dir, code), language, count) if code else []
