"""Noto fonts per script (Debian fonts-noto-core / fonts-noto-cjk), shaped with libraqm, and glyph coverage.

Every script Tolk shows has a font here; ``font_for_text`` picks one that covers
every character, and ``missing_glyphs`` says which characters a font lacks (the
"tofu" check the screen tests run).
"""
from __future__ import annotations

import functools
import logging
import unicodedata
from pathlib import Path

from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
# script -> (file name pattern, face index in a collection)
SCRIPT_FONTS: dict[str, tuple[str, int]] = {
    "Latn": ("NotoSans-{weight}.ttf", 0), "Cyrl": ("NotoSans-{weight}.ttf", 0), "Grek": ("NotoSans-{weight}.ttf", 0),
    "Arab": ("NotoSansArabic-{weight}.ttf", 0), "Deva": ("NotoSansDevanagari-{weight}.ttf", 0),
    "Thai": ("NotoSansThai-{weight}.ttf", 0), "Geor": ("NotoSansGeorgian-{weight}.ttf", 0),
    "Mlym": ("NotoSansMalayalam-{weight}.ttf", 0),
    "Jpan": ("NotoSansCJK-{weight}.ttc", 0), "Hang": ("NotoSansCJK-{weight}.ttc", 1),
    "Hans": ("NotoSansCJK-{weight}.ttc", 2),
}
FALLBACK_ORDER = ("Latn", "Hans", "Jpan", "Hang", "Arab", "Deva", "Thai", "Geor", "Mlym")


class FontError(TolkError):
    code = ErrorCode.UI_FONT


def font_file(script: str, bold: bool = False) -> tuple[Path, int]:
    pattern, index = SCRIPT_FONTS.get(script, SCRIPT_FONTS["Latn"])
    name = pattern.format(weight="Bold" if bold else "Regular")
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name, index
    raise FontError(f"font {name} is not installed (apt-get install fonts-noto-core fonts-noto-cjk)")


@functools.lru_cache(maxsize=64)
def font(script: str, size: int, bold: bool = False):
    from PIL import ImageFont

    path, index = font_file(script, bold)
    return ImageFont.truetype(str(path), size, index=index, layout_engine=ImageFont.Layout.RAQM)


@functools.lru_cache(maxsize=32)
def _codepoints(path: Path, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=index, lazy=True) as tt:
        return frozenset(tt.getBestCmap() or {})


def _needs_glyph(char: str) -> bool:
    category = unicodedata.category(char)
    return not (char.isspace() or category in ("Cc", "Cf"))


def missing_glyphs(text: str, script: str) -> set[str]:
    path, index = font_file(script)
    have = _codepoints(path, index)
    return {c for c in text if _needs_glyph(c) and ord(c) not in have}


def script_for_text(text: str, preferred: str = "Latn") -> str:
    """``preferred`` if its font covers ``text``, else the first script font that does."""
    for script in (preferred, *FALLBACK_ORDER):
        if not missing_glyphs(text, script):
            return script
    raise FontError(f"no installed font covers {sorted(missing_glyphs(text, preferred))[:5]}")


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
