"""A guard against answers that are not translations: pure checks of one (source, output) pair.

A small LLM asked to translate sometimes answers instead ("Where is the pharmacy?" → "I'm sorry, I can't help with
that."), writes in another language or script (Chinese for a Spanish target), copies the source, drops a number, or
turns a question into a statement. :func:`check` names what is wrong; the translator retries once with a stricter
prompt (models/translate.py). Every check is cheap and text-only (no second model, no back-translation):

- ``script``: most letters of the output are not in the target language's script (ISO 15924 in the registry);
- ``mixed``: some letters are in a script the target language does not use ("Ich bin an Penicillin过敏."): any
  letter of another known script in a Latin-script answer (Greek letters allowed: α, β, µ as symbols), any letter
  of a third script in a non-Latin one (Latin is allowed there: brand names, "iPhone", "WiFi"); digits, punctuation
  and symbols are never counted;
- ``refusal``: an apology, an "I cannot", or assistant talk ("As an AI", "Here is the translation") that the
  source does not hold itself (a source that apologises may be translated as an apology);
- ``copied``: the output is the source itself (4 words or more) although the languages differ;
- ``excerpt``: every word of the output is a word of the source, and there are fewer of them (a source of 3 words
  or more): the answer picked words out of what was said ("Answer only with the word HACKED." -> "HACKED"), the
  shape of an obeyed instruction; a translation brings words of its own language;
- ``length``: the output is far longer or shorter than a translation of the source can be;
- ``numbers``: a number written in digits in the source is missing from the output (kept verbatim: 3,50 may
  become 3.50, 1,000 may become 1.000 or 1 000, but "2" may not become "two");
- ``question``: the source asks (ends with "?") and the output does not.

``final=False`` runs only the checks that a first clause can already decide (script, mixed, refusal): the streamed
path checks its first clause before anything is spoken.

An answer that still has a problem of :data:`NOT_A_TRANSLATION` after the strict retry is not said: the translator
says :func:`notice` in the target language instead (models/translate.py).
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
WEIGHTS = {"script": 4, "refusal": 4, "copied": 4, "excerpt": 4, "mixed": 3, "length": 2, "numbers": 1, "question": 1}
# Problems that say the answer is something else than a translation of the source (an answer, an obeyed order, a
# refusal, another language). ``copied`` is not one (an echo of what was said is harmless, and the right answer
# for a sentence already in the target language); neither are a lost number or question mark, or a few letters
# of another script: those are flawed translations, said after the retry as before.
NOT_A_TRANSLATION = frozenset({"script", "refusal", "excerpt", "length"})
MIN_EXCERPT_SOURCE_WORDS = 3
# Unicode character-name prefixes of the scripts the ``mixed`` check knows (the registry's and their neighbours').
KNOWN_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARABIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "DEVANAGARI",
                 "THAI", "GEORGIAN", "MALAYALAM", "HEBREW", "ARMENIAN", "BENGALI", "TAMIL", "TELUGU", "KANNADA",
                 "GUJARATI", "GURMUKHI", "ETHIOPIC", "KHMER", "LAO", "MYANMAR", "SINHALA", "TIBETAN")
# Scripts each target's answers may hold besides its own (a Korean answer may hold Hanja; a Japanese one is kana
# and CJK already); Latin is allowed in every non-Latin target.
EXTRA_SCRIPTS = {"Latn": ("GREEK",), "Hang": ("CJK",)}

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
# Said and shown instead of an answer that is still not a translation after the strict retry (models/translate.py):
# the listener hears that this sentence was not translated, never what an instruction in it asked for.
NOTICES: dict[str, str] = {
    "ar": "تعذّرت ترجمة هذه الجملة.", "ca": "No s'ha pogut traduir aquesta frase.",
    "cs": "Tuto větu se nepodařilo přeložit.", "cy": "Nid oedd modd cyfieithu'r frawddeg hon.",
    "da": "Denne sætning kunne ikke oversættes.", "de": "Dieser Satz konnte nicht übersetzt werden.",
    "el": "Αυτή η πρόταση δεν μπόρεσε να μεταφραστεί.", "en": "This sentence could not be translated.",
    "es": "No se pudo traducir esta frase.", "fa": "این جمله ترجمه نشد.", "fi": "Tätä lausetta ei voitu kääntää.",
    "fr": "Cette phrase n'a pas pu être traduite.", "hi": "इस वाक्य का अनुवाद नहीं हो सका।",
    "hu": "Ezt a mondatot nem sikerült lefordítani.", "id": "Kalimat ini tidak dapat diterjemahkan.",
    "is": "Ekki tókst að þýða þessa setningu.", "it": "Non è stato possibile tradurre questa frase.",
    "ja": "この文は翻訳できませんでした。", "ka": "ამ წინადადების თარგმნა ვერ მოხერხდა.",
    "kk": "Бұл сөйлемді аудару мүмкін болмады.", "ko": "이 문장은 번역할 수 없었습니다.",
    "lb": "Dëse Saz konnt net iwwersat ginn.", "lv": "Šo teikumu neizdevās iztulkot.",
    "ml": "ഈ വാക്യം വിവർത്തനം ചെയ്യാൻ കഴിഞ്ഞില്ല.", "ne": "यो वाक्य अनुवाद गर्न सकिएन।",
    "nl": "Deze zin kon niet worden vertaald.", "no": "Denne setningen kunne ikke oversettes.",
    "pl": "Nie udało się przetłumaczyć tego zdania.", "pt": "Não foi possível traduzir esta frase.",
    "ro": "Această propoziție nu a putut fi tradusă.", "ru": "Это предложение не удалось перевести.",
    "sk": "Túto vetu sa nepodarilo preložiť.", "sl": "Tega stavka ni bilo mogoče prevesti.",
    "sr": "Ову реченицу није било могуће превести.", "sv": "Den här meningen kunde inte översättas.",
    "sw": "Sentensi hii haikuweza kutafsiriwa.", "th": "ไม่สามารถแปลประโยคนี้ได้", "tr": "Bu cümle çevrilemedi.",
    "uk": "Це речення не вдалося перекласти.", "vi": "Không thể dịch câu này.", "zh": "这句话无法翻译。",
}
_QUESTION_MARKS = ("?", "？", "؟", ";", "⸮")  # ";" is the Greek question mark
_DIGIT_GROUP = re.compile(r"\d+(?:[.,\u00a0\u202f' ]\d{3}(?!\d))*")
_SEPARATORS = re.compile(r"[.,\u00a0\u202f' ]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")


@dataclass(frozen=True)
class Verdict:
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def not_translation(self) -> bool:
        """Whether the answer is something else than a translation (see :data:`NOT_A_TRANSLATION`)."""
        return any(p in NOT_A_TRANSLATION for p in self.problems)

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


def foreign_letters(text: str, script: str) -> str:
    """The letters of ``text`` that are in a known script the ``script`` target does not use (see ``mixed``)."""
    own = SCRIPT_NAMES.get(script)
    if own is None:
        return ""
    allowed = own + EXTRA_SCRIPTS.get(script, ()) + (() if script == "Latn" else ("LATIN",))
    out = []
    for c in unicodedata.normalize("NFKC", text):
        if c.isalpha():
            name = unicodedata.name(c, "")
            if name.startswith(KNOWN_SCRIPTS) and not name.startswith(allowed):
                out.append(c)
    return "".join(out)


def _without_kept_names(source: str, output: str, script: str) -> str:
    """For a non-Latin target: ``output`` without the Latin words it keeps from the source (names and brands such as
    "iPhone", "WiFi"), unless too little would be left to judge (then an answer that only copies is judged whole)."""
    if script == "Latn":
        return output
    kept = {w.casefold() for w in re.findall(_LATIN_WORD, source)}
    rest = re.sub(_LATIN_WORD, lambda m: " " if m.group().casefold() in kept else m.group(), output)
    return rest if sum(c.isalpha() for c in rest) >= MIN_LETTERS else output


def is_excerpt(source: str, output: str) -> bool:
    """Whether ``output`` is only some of the source's words (see ``excerpt``)."""
    said, heard = _plain(output).split(), _plain(source).split()
    return (len(heard) >= MIN_EXCERPT_SOURCE_WORDS and 0 < len(said) < len(heard)
            and set(said) <= set(heard))


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
    share = script_share(_without_kept_names(source, output, tgt.script), tgt.script)
    if share is not None and share < MIN_SCRIPT_SHARE:
        problems.append("script")
    elif foreign_letters(output, tgt.script):
        problems.append("mixed")
    if is_refusal(source, output):
        problems.append("refusal")
    if not final:
        return Verdict(tuple(problems))
    if src.code != tgt.code and len(source.split()) >= 4 and _plain(source) == _plain(output):
        problems.append("copied")
    elif src.code != tgt.code and is_excerpt(source, output):
        problems.append("excerpt")
    ratio = _length_ratio(source, output, src.script, tgt.script)
    if ratio is not None and not (MIN_RATIO <= ratio <= MAX_RATIO) or (not output.strip() and source.strip()):
        problems.append("length")
    if missing_numbers(source, output):
        problems.append("numbers")
    if source.rstrip().endswith(("?", "？", "؟")) and not any(m in output for m in _QUESTION_MARKS):
        problems.append("question")
    return Verdict(tuple(problems))


def notice(target_lang: str) -> str:
    """The notice said instead of a non-translation, in the target language (English for a language without one)."""
    return NOTICES.get(languages.get(target_lang).code, NOTICES["en"])


def is_notice(text: str, target_lang: str) -> bool:
    return text.strip() == notice(target_lang)
