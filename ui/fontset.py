"""Installed fonts as one fallback chain (Debian fonts-noto-core, fonts-noto-cjk, fonts-noto-color-emoji), shaped
with libraqm, and glyph coverage.

A face is a key ("Latn", "Arab", "Hebr", "Emoji", …, or an extra installed Noto Sans font by name). Every
script of the language registry, Hebrew, symbols and emoji have a face of their own; ``face_for`` picks, for
one character cluster, the face of its script, else the first face of the chain that covers it, else any
installed Noto Sans font that does (the last resort reads every one's character map once, ~0.5 s on an x86
PC). ``missing_glyphs`` says which characters no font covers: the screen draws those as a visible box
marker and logs them (UI-FONT), and the screen tests assert there are none ("no tofu").
"""
from __future__ import annotations

import functools
import logging
import unicodedata
from pathlib import Path

from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
# face -> (file name pattern, face index in a collection); "{weight}" is Regular or Bold
SCRIPT_FONTS: dict[str, tuple[str, int]] = {
    "Latn": ("NotoSans-{weight}.ttf", 0), "Cyrl": ("NotoSans-{weight}.ttf", 0), "Grek": ("NotoSans-{weight}.ttf", 0),
    "Arab": ("NotoSansArabic-{weight}.ttf", 0), "Hebr": ("NotoSansHebrew-{weight}.ttf", 0),
    "Deva": ("NotoSansDevanagari-{weight}.ttf", 0), "Thai": ("NotoSansThai-{weight}.ttf", 0),
    "Geor": ("NotoSansGeorgian-{weight}.ttf", 0), "Mlym": ("NotoSansMalayalam-{weight}.ttf", 0),
    "Jpan": ("NotoSansCJK-{weight}.ttc", 0), "Hang": ("NotoSansCJK-{weight}.ttc", 1),
    "Hans": ("NotoSansCJK-{weight}.ttc", 2),
    "Math": ("NotoSansMath-{weight}.ttf", 0), "Sym": ("NotoSansSymbols-{weight}.ttf", 0),
    "Sym2": ("NotoSansSymbols2-{weight}.ttf", 0), "Emoji": ("NotoColorEmoji.ttf", 0),
}
CHAIN = ("Latn", "Hans", "Jpan", "Hang", "Arab", "Hebr", "Deva", "Thai", "Geor", "Mlym", "Math", "Sym", "Sym2",
         "Emoji")
CJK = frozenset({"Hans", "Jpan", "Hang"})
# Noto Color Emoji is a bitmap font with one strike: FreeType only opens it at 109 px, drawn then scaled down
EMOJI_PPEM = 109
# the first word of a letter's Unicode name (up to a hyphen: "KATAKANA-HIRAGANA PROLONGED SOUND MARK") -> the face of its script (scripts with a face of their own)
NAME_SCRIPTS = {"LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr",
                "DEVANAGARI": "Deva", "THAI": "Thai", "GEORGIAN": "Geor", "MALAYALAM": "Mlym", "HIRAGANA": "Jpan",
                "KATAKANA": "Jpan", "HANGUL": "Hang", "CJK": "Hani"}
ZWJ = "\u200d"
SKIN_TONES = range(0x1F3FB, 0x1F400)
REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
EMOJI_BLOCKS = range(0x1F000, 0x1FB00)  # emoji presentation by default (faces, objects, flags, symbols)


class FontError(TolkError):
    code = ErrorCode.UI_FONT


def _extra_faces() -> dict[str, tuple[str, int]]:
    """Every other installed Noto Sans font (Bengali, Ethiopic, Tamil, …): the chain's last resort."""
    known = {pattern.format(weight="Regular") for pattern, _ in SCRIPT_FONTS.values()}
    extra = {}
    for folder in FONT_DIRS:
        for path in sorted(folder.glob("NotoSans*-Regular.tt[fc]")) if folder.is_dir() else ():
            if path.name not in known:
                extra[path.name.removesuffix("-Regular" + path.suffix)] = (
                    path.name.replace("-Regular", "-{weight}"), 0)
    return extra


@functools.lru_cache(maxsize=1)
def _all_faces() -> dict[str, tuple[str, int]]:
    return {**SCRIPT_FONTS, **_extra_faces()}


def _find(key: str, bold: bool) -> tuple[Path, int] | None:
    pattern, index = _all_faces().get(key, SCRIPT_FONTS["Latn"])
    for weight in ("Bold", "Regular") if bold else ("Regular",):  # faces with no bold weight draw regular
        name = pattern.format(weight=weight)
        for folder in FONT_DIRS:
            if (folder / name).is_file():
                return folder / name, index
    return None


def font_file(script: str, bold: bool = False) -> tuple[Path, int]:
    found = _find(script, bold)
    if found is None:
        name = _all_faces().get(script, SCRIPT_FONTS["Latn"])[0].format(weight="Regular")
        raise FontError(f"font {name} is not installed "
                        "(apt-get install fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji)")
    return found


@functools.lru_cache(maxsize=None)
def installed(key: str) -> bool:
    if _find(key, False) is None:
        log.warning("[%s] font for %s is not installed: its characters come from the next font or show as "
                    "boxes", ErrorCode.UI_FONT.value, key)
        return False
    return True


@functools.lru_cache(maxsize=64)
def font(script: str, size: int, bold: bool = False):
    """The Pillow font of a face at ``size`` px (the emoji face only exists at EMOJI_PPEM)."""
    from PIL import ImageFont

    path, index = font_file(script, bold)
    return ImageFont.truetype(str(path), EMOJI_PPEM if script == "Emoji" else size, index=index,
                              layout_engine=ImageFont.Layout.RAQM)


@functools.lru_cache(maxsize=64)
def _codepoints(path: Path, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=index, lazy=True) as tt:
        return frozenset(tt.getBestCmap() or {})


def needs_glyph(char: str) -> bool:
    """Whether a character is drawn with a glyph of its own (not space, controls, joiners, variation selectors)."""
    if char.isspace() or unicodedata.category(char) in ("Cc", "Cf"):
        return False
    return not (0xFE00 <= ord(char) <= 0xFE0F or 0xE0100 <= ord(char) <= 0xE01EF)


def covers(key: str, text: str) -> bool:
    if not installed(key):
        return False
    have = _codepoints(*_find(key, False))
    return all(ord(c) in have for c in text if needs_glyph(c))


def script_of(cluster: str) -> str | None:
    """The face a cluster asks for by its script: "Emoji", a script face, "Hani" (Han, drawn in the CJK face
    of the language), or None for characters shared by scripts (digits, punctuation, spaces, symbols)."""
    base = ord(cluster[0])
    if base in EMOJI_BLOCKS or "\ufe0f" in cluster or (ZWJ in cluster and len(cluster) > 2):
        return "Emoji"
    if unicodedata.category(cluster[0])[0] not in "LMN":
        return None
    return NAME_SCRIPTS.get(unicodedata.name(cluster[0], "").split(" ")[0].split("-")[0])


@functools.lru_cache(maxsize=8192)
def face_for(cluster: str, preferred: str = "Latn", current: str | None = None) -> str | None:
    """The face that draws ``cluster``: its script's (the language's own CJK face for Han), else — for a
    character shared by scripts — the face of the run it is in or the language's, else the first face of the
    chain, else any installed Noto Sans font that covers it. None when no installed font does."""
    script = script_of(cluster)
    if script == "Hani":
        first: tuple = (preferred if preferred in CJK else "Hans",)
    elif script is None:  # shared characters join the run they are in (not an emoji's: its space is 1 em)
        first = (None if current == "Emoji" else current, preferred)
    else:
        first = (script,)
    for key in (*first, *CHAIN):
        if key is not None and covers(key, cluster):
            return key
    return next((key for key in _extra_faces_sorted() if covers(key, cluster)), None)


@functools.lru_cache(maxsize=1)
def _extra_faces_sorted() -> tuple[str, ...]:
    return tuple(sorted(set(_all_faces()) - set(SCRIPT_FONTS)))


def missing_glyphs(text: str, script: str | None = None) -> set[str]:
    """Characters of ``text`` that ``script``'s font has no glyph for; with no script, those that no installed
    font has (drawn as a box marker on the screen)."""
    if script is not None:
        path, index = font_file(script)
        have = _codepoints(path, index)
        return {c for c in text if needs_glyph(c) and ord(c) not in have}
    return {c for c in text if needs_glyph(c) and face_for(c) is None}


@functools.lru_cache(maxsize=1)
def shaping_available() -> bool:
    """Whether Pillow found libraqm (Debian libraqm0). Without it Arabic is not joined or reordered and
    Indic clusters are not formed: Tolk still draws (basic layout) and says so once in the log."""
    from PIL import features

    ok = bool(features.check_feature("raqm"))
    if not ok:
        log.warning("libraqm not found: complex scripts are drawn unshaped (install libraqm0)")
    return ok


def layout_options(direction: str) -> dict:
    """Keyword arguments for Pillow's text calls: the direction when shaping is available, else none."""
    return {"direction": direction} if shaping_available() else {}
