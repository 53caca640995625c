"""A guard against answers that are not translations: pure checks of one (source, output) pair.

A small LLM asked to translate sometimes answers instead ("Where is the pharmacy?" → "I'm sorry, I can't help with
that."), writes in another language or script (Chinese for a Spanish target), copies the source, drops a number, or
turns a question into a statement. :func:`check` names what is wrong; the translator retries once with a stricter
prompt (models/translate.py). Every check is cheap and text-only (no second model, no back-translation):

- ``script``: most letters of the output are not in the target language's script (ISO 15924 in the registry);
- ``refusal``: an apology, an "I cannot", or assistant talk ("As an AI", "Here is the translation") that the
  source does not hold itself (a source that apologises may be translated as an apology);
- ``copied``: the output is the source itself (4 words or more) although the languages differ;
- ``length``: the output is far longer or shorter than a translation of the source can be;
- ``numbers``: a number written in digits in the source is missing from the output (kept verbatim: 3,50 may
  become 3.50, 1,000 may become 1.000 or 1 000, but "2" may not become "two");
- ``question``: the source asks (ends with "?") and the output does not.

``final=False`` runs only the checks that a first clause can already decide (script, refusal): the streamed path
checks its first clause before anything is spoken.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass

from tolk.models import languages

log = logging.getLogger(__name__)

# Unicode character-name prefixes of each script the registry uses.
SCRIPT_NAMES: dict[str, tuple[str, ...]] = {
    "Latn": ("LATIN",), "Cyrl": ("CYRILLIC",), "Grek": ("GREEK",), "Arab": ("ARABIC",),
    "Hans": ("CJK",), "Hant": ("CJK",), "Jpan": ("CJK", "HIRAGANA", "KATAKANA"), "Hang": ("HANGUL",),
    "Deva": ("DEVANAGARI",), "Thai": ("THAI",), "Geor": ("GEORGIAN",), "Mlym": ("MALAYALAM",),
}
# Characters per unit of meaning relative to Latin-script text (for the length check).
DENSITY = {"Hans": 0.3, "Hant": 0.3, "Jpan": 0.4, "Hang": 0.45}
MIN_SCRIPT_SHARE = 0.5
MIN_LETTERS = 4  # fewer letters than this say nothing about the script
MAX_RATIO, MIN_RATIO = 2.6, 0.35  # output / source characters, density-corrected
MIN_RATIO_CHARS = 10  # sources shorter than this ("Yes.", "OK") skip the length check
# Weights for choosing between the first answer and the retry (the lighter one is kept).
WEIGHTS = {"script": 4, "refusal": 4, "copied": 4, "length": 2, "numbers": 1, "question": 1}

# (what an output that is not a translation says, what a source that may be translated so says)
_REFUSALS: tuple[tuple[str, str], ...] = (
    # apologies
    (r"\b(i'?m|i am) (so |very |really )?sorry\b|\bsorry, but\b|\bi apologi[sz]e\b|\blo siento\b|"
     r"\bdisculp[ae], pero\b|\bje suis (vraiment )?désolée?\b|\bdésolée?, mais\b|\bes tut mir leid\b|"
     r"\bentschuldigung, aber\b|\bmi dispiace\b|\bdesculpe, mas\b|抱歉|对不起|很遗憾|извините|простите|"
     r"申し訳|죄송",
     r"sorry|apolog|excuse|pardon|siento|perd[oó]n|disculp|désolé|leid|entschuldig|verzeih|dispiace|scusa|"
     r"desculp|抱歉|对不起|不好意思|извин|прост|すみません|申し訳|죄송"),
    # inability
    (r"\bi (can ?not|can't|cannot|am unable to|am not able to|won't be able to)\b|\bno (puedo|es posible) "
     r"(ayudar|traducir|responder|proporcionar)|\bje ne (peux|suis pas en mesure)\b|\bich kann (dir |ihnen )?"
     r"(leider )?nicht\b|\bnon posso\b|我(无法|不能)|я не могу",
     r"can'?t|cannot|unable|not able|no pued|ne (peux|peut|pouvons|pourr)|kann\w* (\w+ )?nicht|nicht können|"
     r"non pos|não pos|不能|无法|не мог|не смог|できない|없"),
    # assistant talk
    (r"\bas an ai\b|\b(a|an) (ai|language model)\b|\b(here is|here's) (the|a|your) translation\b|"
     r"^\s*(translation|traducción|traduction|übersetzung)\s*:|\bcomo (un )?modelo de lenguaje\b|"
     r"\ben tant qu'(ia|assistant|intelligence)|\bals (ki|sprachmodell)\b|\bpuedo ayudarte\b|"
     r"\bcan i help you\b|\bhow can i (help|assist)\b",
     r"\bai\b|language model|translat|tradu|übersetz|help|ayud|aide|hilf"),
)
_QUESTION_MARKS = ("?", "？", "؟", ";", "⸮")  # ";" is the Greek question mark
_DIGIT_GROUP = re.compile(r"\d+(?:[.,\u00a0\u202f' ]\d{3}(?!\d))*")
_SEPARATORS = re.compile(r"[.,\u00a0\u202f' ]")


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def weight(self) -> int:
        return sum(WEIGHTS.get(p, 1) for p in self.problems)


def _ascii_digits(text: str) -> str:
    """Every decimal digit (Arabic-Indic, Devanagari, full-width …) as its ASCII digit."""
    return "".join(str(unicodedata.digit(c)) if c.isdigit() and unicodedata.digit(c, None) is not None else c
                   for c in text)


def numbers(text: str) -> list[str]:
    """The numbers written in digits, as digit strings: thousands separators dropped ("1,000", "1.000" and
    "1 000" are "1000"), other separators split ("3,50" is "3", "50"; "10:30" is "10", "30")."""
    out = []
    for match in _DIGIT_GROUP.finditer(_ascii_digits(unicodedata.normalize("NFKC", text))):
        out += [g.lstrip("0") or "0" for g in re.findall(r"\d+", _SEPARATORS.sub("", match.group()))]
    return out


def missing_numbers(source: str, translation: str) -> list[str]:
    """The source's numbers that the translation does not hold (each as often as the source has it)."""
    left = numbers(translation)
    missing = []
    for number in numbers(source):
        if number in left:
            left.remove(number)
        else:
            missing.append(number)
    return missing


def script_share(text: str, script: str) -> float | None:
    """Share of the letters of ``text`` that are in ``script``; None when there are too few letters to say."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < MIN_LETTERS:
        return None
    prefixes = SCRIPT_NAMES.get(script)
    if prefixes is None:
        return None
    inside = sum(unicodedata.name(c, "").startswith(prefixes) for c in letters)
    return inside / len(letters)


def is_refusal(source: str, output: str) -> bool:
    for says, allowed_if in _REFUSALS:
        if re.search(says, output, re.IGNORECASE) and not re.search(allowed_if, source, re.IGNORECASE):
            return True
    return False


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def _length_ratio(source: str, output: str, src_script: str, tgt_script: str) -> float | None:
    chars_in = len(re.sub(r"\s", "", source))
    if chars_in < MIN_RATIO_CHARS:
        return None
    expected = DENSITY.get(tgt_script, 1.0) / DENSITY.get(src_script, 1.0)
    return len(re.sub(r"\s", "", output)) / chars_in / expected


def check(source: str, output: str, source_lang: str, target_lang: str, *, final: bool = True) -> Verdict:
    """What is wrong with ``output`` as the ``target_lang`` translation of ``source``; ``final=False`` for the
    first part of a translation still being generated (only the script and refusal checks)."""
    src, tgt = languages.get(source_lang), languages.get(target_lang)
    problems = []
    share = script_share(output, tgt.script)
    if share is not None and share < MIN_SCRIPT_SHARE:
        problems.append("script")
    if is_refusal(source, output):
        problems.append("refusal")
    if not final:
        return Verdict(tuple(problems))
    if src.code != tgt.code and len(source.split()) >= 4 and _plain(source) == _plain(output):
        problems.append("copied")
    ratio = _length_ratio(source, output, src.script, tgt.script)
    if ratio is not None and not (MIN_RATIO <= ratio <= MAX_RATIO) or (not output.strip() and source.strip()):
        problems.append("length")
    if missing_numbers(source, output):
        problems.append("numbers")
    if source.rstrip().endswith(("?", "？", "؟")) and not any(m in output for m in _QUESTION_MARKS):
        problems.append("question")
    return Verdict(tuple(problems))
