"""Wrapping and drawing text in a box, in runs (``ui.runs``): each run in a font that has it, shaped
(libraqm), the runs of a line in bidi order, right-aligned for right-to-left languages, and line breaks that
never split a character cluster. Scripts written without spaces (Chinese, Japanese, Thai) break between
clusters. Drawing never raises: a box that cannot be drawn is left out and logged with its code (UI-RENDER)."""
from __future__ import annotations

import logging
from typing import Callable

from tolk.models.errors import ErrorCode
from tolk.ui import bidi, fontset, runs
from tolk.ui.runs import clusters  # noqa: F401 - the cluster rule, imported from here by callers

log = logging.getLogger(__name__)
NO_SPACE_SCRIPTS = frozenset({"Hans", "Jpan", "Thai"})


def wrap(text: str, width: float, measure: Callable[[str], float], spaced: bool = True) -> list[str]:
    """Lines of ``text`` no wider than ``width`` pixels as ``measure`` says (a single over-wide cluster gets
    its own line); ``spaced`` False breaks between any two clusters (Chinese, Japanese, Thai)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        units = paragraph.split(" ") if spaced else runs.clusters(paragraph)
        joiner = " " if spaced else ""
        line = ""
        for unit in units:
            candidate = f"{line}{joiner}{unit}" if line else unit
            if measure(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = unit
            while measure(line) > width and len(runs.clusters(line)) > 1:  # a very long word
                parts = runs.clusters(line)
                cut = len(parts) - 1
                while cut > 1 and measure("".join(parts[:cut])) > width:
                    cut -= 1
                lines.append("".join(parts[:cut]))
                line = "".join(parts[cut:])
        lines.append(line)
    return [line for line in lines if line.strip()] or [""]


def _primary_font(script: str, size: int, bold: bool):
    """The language's font (its metrics set the line height and baseline), else Noto Sans."""
    try:
        return fontset.font(script, size, bold)
    except fontset.FontError:
        return fontset.font("Latn", size, bold)


def draw_text_box(draw, box: tuple[int, int, int, int], text: str, size: int, language: str, *,
                  bold: bool = False, fill=(255, 255, 255), align: str = "start", first_line: int = 0,
                  min_size: int | None = None) -> dict:
    """Draw ``text`` inside ``box`` (left, top, right, bottom) in the language's direction, each character in
    a font that has it.

    The paragraph direction is the language's unless the text has no character of that direction
    (``bidi.paragraph_rtl``). Returns {"lines": drawn lines, "overflow": True if text did not fit, "script":
    the language's script, "rtl": the paragraph direction,
    "missing": characters no installed font has (drawn as boxes)}; "lines" is empty and "error" set when the
    box could not be drawn (logged as UI-RENDER; the rest of the frame is drawn).
    """
    try:
        return _draw_text_box(draw, box, text, size, language, bold, fill, align, first_line, min_size)
    except Exception as err:  # noqa: BLE001 - a frame without this text beats no frame and no appliance
        log.error("[%s] a text box could not be drawn (%d characters, %s): %s: %s", ErrorCode.UI_RENDER.value,
                  len(text), language, type(err).__name__, err)
        return {"lines": [], "overflow": False, "script": "", "missing": set(), "error": type(err).__name__}


def _draw_text_box(draw, box, text, size, language, bold, fill, align, first_line, min_size) -> dict:
    from tolk.models import languages

    lang = languages.get(language)
    rtl = bidi.paragraph_rtl(text, lang.rtl)
    left, top, right, bottom = box
    measure = None
    for size in range(size, (min_size or size) - 1, -1):  # shrink long text down to min_size to fit
        measure = lambda s, size=size: runs.width(s, size, lang.script, rtl, bold)  # noqa: E731
        lines = wrap(text, right - left, measure, spaced=lang.script not in NO_SPACE_SCRIPTS)
        ascent, descent = _primary_font(lang.script, size, bold).getmetrics()
        line_height = ascent + descent + max(2, size // 8)
        visible = max(1, (bottom - top) // line_height)
        if len(lines) <= first_line + visible:
            break
    shown = lines[first_line:first_line + visible]
    overflow = len(lines) > first_line + visible
    if overflow and shown:
        ellipsis = "…" if not fontset.missing_glyphs("…") else "..."
        while shown[-1] and measure(shown[-1] + ellipsis) > right - left:
            shown[-1] = "".join(runs.clusters(shown[-1])[:-1])
        shown[-1] += ellipsis
    y = top
    missing: set[str] = set()
    for line in shown:
        line_runs = runs.split(line, lang.script, rtl)
        w = sum(runs.run_width(run, size, bold) for run in line_runs)
        at_end = (align == "start" and rtl) or (align == "end" and not rtl)
        x = left + (right - left - w) / 2 if align == "center" else (right - w if at_end else left)
        runs.draw_runs(draw, x, y + ascent, line_runs, size, bold=bold, fill=fill)
        missing |= {c for run in line_runs if run.face is None for c in run.text if fontset.needs_glyph(c)}
        y += line_height
    return {"lines": shown, "overflow": overflow, "script": lang.script, "rtl": rtl, "missing": missing}
