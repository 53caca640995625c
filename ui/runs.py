"""One line of text as runs: each run one face (``fontset.face_for``) and one bidi level (``bidi.levels``),
measured and drawn in visual order on a common baseline.

libraqm shapes each run (Arabic joining, Indic clusters) in the run's direction; the order of the runs on the
line is rule L2 (``bidi.visual_order``). Emoji are drawn from the colour bitmap font at its one size and
scaled down (a 20 px emoji on the 240x240 screen stays recognisable; ~3 ms each on an x86 PC, cached per
text and size). A cluster no installed font covers is drawn as a box of the text's colour, so a missing glyph
is visible and never ends the drawing.
"""
from __future__ import annotations

import functools
import logging
import unicodedata
from dataclasses import dataclass

from tolk.models.errors import ErrorCode
from tolk.ui import bidi, fontset

log = logging.getLogger(__name__)
MARKER_WIDTH = 0.6  # of the size: the box drawn for a character no font has (about an "n" wide)
_reported: set[str] = set()  # missing characters already logged (once each, not every frame)


@dataclass(frozen=True)
class Run:
    text: str
    face: str | None  # None: no installed font covers it (drawn as boxes)
    level: int  # bidi embedding level: odd = right to left

    @property
    def direction(self) -> str:
        return "rtl" if self.level % 2 else "ltr"


def clusters(text: str) -> list[str]:
    """Base characters with what belongs to them: combining marks (Thai vowels, Devanagari signs, Arabic
    harakat), variation selectors, skin tones, the parts of a ZWJ emoji sequence, the two letters of a flag."""
    out: list[str] = []
    for char in text:
        code = ord(char)
        attach = out and (unicodedata.category(char) in ("Mn", "Mc", "Me") or char == fontset.ZWJ
                          or code in fontset.SKIN_TONES or 0xE0020 <= code <= 0xE007F or out[-1][-1] == fontset.ZWJ
                          or (code in fontset.REGIONAL_INDICATORS and len(out[-1]) == 1
                              and ord(out[-1]) in fontset.REGIONAL_INDICATORS))
        if attach:
            out[-1] += char
        else:
            out.append(char)
    return out


@functools.lru_cache(maxsize=1024)
def split(text: str, script: str, rtl: bool) -> tuple[Run, ...]:
    """``text`` (one line) as runs in logical order; ``script`` is the language's (its face comes first for
    characters shared by scripts), ``rtl`` the paragraph direction."""
    levels = bidi.levels(text, rtl)
    out: list[Run] = []
    at, current = 0, None
    for cluster in clusters(text):
        face = fontset.face_for(cluster, script, current)
        level = levels[at]
        at += len(cluster)
        if face is None and any(fontset.needs_glyph(c) for c in cluster):
            _report(cluster)
        if out and out[-1].face == face and out[-1].level == level:
            out[-1] = Run(out[-1].text + cluster, face, level)
        else:
            out.append(Run(cluster, face, level))
        current = face or current
    return tuple(out)


def _report(cluster: str) -> None:
    if cluster not in _reported and len(_reported) < 1000:
        _reported.add(cluster)
        log.warning("[%s] no installed font has %s: drawn as a box", ErrorCode.UI_FONT.value,
                    " ".join(f"U+{ord(c):04X}" for c in cluster))


@functools.lru_cache(maxsize=4096)
def run_width(run: Run, size: int, bold: bool = False) -> float:
    if run.face is None:
        return sum(size * MARKER_WIDTH + 2 if any(map(fontset.needs_glyph, c)) else 0 for c in clusters(run.text))
    font = fontset.font(run.face, size, bold)
    if run.face == "Emoji":
        return font.getlength(run.text) * size / fontset.EMOJI_PPEM
    return font.getlength(run.text, **fontset.layout_options(run.direction))


def width(text: str, size: int, script: str, rtl: bool, bold: bool = False) -> float:
    return sum(run_width(run, size, bold) for run in split(text, script, rtl)) if text else 0.0


@functools.lru_cache(maxsize=256)
def _emoji_image(text: str, size: int):
    """The colour emoji of ``text`` at ``size`` px (drawn at the font's one size, then scaled), as RGBA."""
    from PIL import Image, ImageDraw

    font = fontset.font("Emoji", size)
    ascent, descent = font.getmetrics()
    big = Image.new("RGBA", (max(1, round(font.getlength(text))), ascent + descent))
    ImageDraw.Draw(big).text((0, 0), text, font=font, embedded_color=True)
    scale = size / fontset.EMOJI_PPEM
    return big.resize((max(1, round(big.width * scale)), max(1, round(big.height * scale))), Image.LANCZOS), \
        round(ascent * scale)


def _draw_emoji(draw, x: float, baseline: float, text: str, size: int, fill) -> None:
    image, ascent = _emoji_image(text, size)
    target = getattr(draw, "_image", None)  # the image an ImageDraw draws on (colour needs a paste)
    at = (round(x), round(baseline) - ascent)
    if target is not None and target.mode in ("RGB", "RGBA"):
        target.paste(image, at, image)
    else:  # a one-channel image: the emoji's shape in the text's colour
        draw.bitmap(at, image.getchannel("A"), fill=fill)


def _draw_markers(draw, x: float, baseline: float, run: Run, size: int, fill) -> None:
    for cluster in clusters(run.text):
        if any(map(fontset.needs_glyph, cluster)):
            draw.rectangle((round(x + 1), round(baseline - size * 0.7), round(x + size * MARKER_WIDTH),
                            round(baseline)), outline=fill)
            x += size * MARKER_WIDTH + 2


def draw_runs(draw, x: float, baseline: float, runs: tuple[Run, ...], size: int, *, bold: bool = False,
              fill) -> float:
    """Draw ``runs`` (logical order) left to right in visual order from ``x``; returns the x after them."""
    for n in bidi.visual_order([run.level for run in runs]):
        run = runs[n]
        if run.face is None:
            _draw_markers(draw, x, baseline, run, size, fill)
        elif run.face == "Emoji":
            _draw_emoji(draw, x, baseline, run.text, size, fill)
        else:
            draw.text((x, baseline), run.text, font=fontset.font(run.face, size, bold), fill=fill, anchor="ls",
                      **fontset.layout_options(run.direction))
        x += run_width(run, size, bold)
    return x


def fit(text: str, max_width: float, measure, ellipsis: str = "…") -> str:
    """``text``, or its longest start (whole clusters) that fits ``max_width`` with ``ellipsis`` after it."""
    if measure(text) <= max_width:
        return text
    parts = clusters(text)
    low, high = 0, len(parts)  # the longest start that fits is in [low, high)
    while low < high - 1:
        mid = (low + high) // 2
        if measure("".join(parts[:mid]).rstrip() + ellipsis) <= max_width:
            low = mid
        else:
            high = mid
    start = "".join(parts[:low]).rstrip()
    return start + ellipsis if start else ""
