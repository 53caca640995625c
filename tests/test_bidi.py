"""The run ordering of ui/bidi.py against GNU FriBidi (the UAX #9 implementation libraqm uses, called here
through ctypes as a reference only) on random mixed-direction lines, and run order on known cases."""
import ctypes
import ctypes.util
import random

import pytest

from tolk.ui import bidi, runs

FRIBIDI_PAR_LTR, FRIBIDI_PAR_RTL = 0x110, 0x111  # fribidi-types.h: FRIBIDI_PAR_LTR / FRIBIDI_PAR_RTL


@pytest.fixture(scope="module")
def fribidi():
    name = ctypes.util.find_library("fribidi")
    assert name, "libfribidi0 (a dependency of libraqm0) is not installed"
    return ctypes.CDLL(name)


def fribidi_levels(lib, text: str, rtl: bool) -> list[int]:
    n = len(text)
    chars = (ctypes.c_uint32 * n)(*map(ord, text))
    types, brackets, levels = (ctypes.c_uint32 * n)(), (ctypes.c_uint32 * n)(), (ctypes.c_int8 * n)()
    lib.fribidi_get_bidi_types(chars, n, types)
    lib.fribidi_get_bracket_types(chars, n, types, brackets)
    direction = ctypes.c_uint32(FRIBIDI_PAR_RTL if rtl else FRIBIDI_PAR_LTR)
    lib.fribidi_get_par_embedding_levels_ex.restype = ctypes.c_int8  # FriBidiLevel (max level + 1, 0 on failure)
    assert lib.fribidi_get_par_embedding_levels_ex(types, brackets, n, ctypes.byref(direction), levels) > 0
    return list(levels)


def test_levels_match_fribidi_on_random_mixed_lines(fribidi):
    """Latin, Hebrew, Arabic, European and Arabic-Indic digits, brackets, separators, marks, tabs. A combining
    mark straight after a bracket is left out: FriBidi and UAX #9's N0 note differ there."""
    alphabet = list("abcABC אבג ابت 123 ١٢٣ ()[] .,:-+$%#!?\t/") + ["\u064e", "\u05b0", "\u200f"]
    rng = random.Random(21)
    tried = 0
    while tried < 5000:
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16)))
        if any(a in "()[]" and unicodedata_mark(b) for a, b in zip(text, text[1:])):
            continue
        tried += 1
        for rtl in (False, True):
            assert bidi.levels(text, rtl) == fribidi_levels(fribidi, text, rtl), (text, rtl)


def unicodedata_mark(char: str) -> bool:
    import unicodedata

    return unicodedata.category(char) == "Mn"


def visual(text: str, rtl: bool) -> list[str]:
    line = runs.split(text, "Arab" if rtl else "Latn", rtl)
    return [line[n].text for n in bidi.visual_order([run.level for run in line])]


def test_runs_of_an_arabic_line_with_latin_words_and_digits_are_in_right_to_left_order():
    # logical: Arabic, iPhone, Arabic, WiFi, Arabic, 8:30, full stop; shown right to left, Latin and digits LTR
    order = visual("أوصل iPhone بشبكة WiFi الساعة 8:30.", rtl=True)
    assert [part.strip() for part in order if part.strip()] == [".", "8:30", "الساعة", "WiFi", "بشبكة", "iPhone",
                                                               "أوصل"]


def test_hebrew_inside_an_english_line_keeps_the_line_left_to_right():
    order = visual("Where is it? → איפה זה?", rtl=False)
    assert order == ["Where is it? ", "→ ", "איפה זה", "?"]  # the Hebrew run is drawn right to left by raqm


def test_the_box_direction_follows_the_language_unless_the_text_has_none_of_it():
    assert bidi.paragraph_rtl("WiFi", language_rtl=True) is False
    assert bidi.paragraph_rtl("iPhone بشبكة", language_rtl=True) is True
    assert bidi.paragraph_rtl("איפה התחנה?", language_rtl=False) is True
    assert bidi.paragraph_rtl("OK איפה", language_rtl=False) is False
    assert bidi.paragraph_rtl("123", language_rtl=True) is True


def test_visual_order_is_rule_l2():
    assert bidi.visual_order([0, 1, 1, 0]) == [0, 2, 1, 3]
    assert bidi.visual_order([1, 2, 1]) == [2, 1, 0]
    assert bidi.visual_order([0, 1, 2, 2, 1, 0]) == [0, 4, 2, 3, 1, 5]
    assert bidi.visual_order([]) == []
