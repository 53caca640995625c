"""The symbols Kokoro-82M v1.0 knows, and the filter that keeps a phoneme string inside them.

The set is the keys of the model's ``vocab`` (its config.json; a copy is tests/golden/kokoro_vocab.json and a test
keeps the two equal). The engine drops unknown symbols too (models/kokoro.py); filtering here keeps the G2P
output honest and tells, once per symbol, what a language's front end produces that the model cannot say.
"""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

KOKORO_SYMBOLS: frozenset[str] = frozenset(
    ';:,.!?—…"()“” \u0303ʣʥʦʨᵝꭧAIOQSTWYᵊabcdefhijklmnopqrstuvwxyzɑɐɒæβɔɕçɖðʤəɚɛɜɟɡɥɨɪʝɯɰŋɳɲɴøɸθœɹɾɻʁɽʂʃʈʧʊʋʌɣɤχʎʒʔ'
    'ˈˌːʰʲ↓→↗↘ᵻ')

_reported: set[str] = set()
_lock = threading.Lock()


def keep_known(phonemes: str, language: str) -> str:
    """``phonemes`` without the symbols Kokoro does not know; each unknown symbol is logged once (debug)."""
    unknown = {symbol for symbol in phonemes if symbol not in KOKORO_SYMBOLS}
    if not unknown:
        return phonemes
    with _lock:
        new = sorted(f"{language}:{symbol}" for symbol in unknown if f"{language}:{symbol}" not in _reported)
        _reported.update(new)
    if new:
        log.debug("symbols outside Kokoro's vocabulary dropped: %s", " ".join(f"{n} (U+{ord(n[-1]):04X})" for n in new))
    return "".join(symbol for symbol in phonemes if symbol in KOKORO_SYMBOLS)
