"""Wrapping and drawing text in a box: shaped (libraqm), right-to-left where needed, and line breaks that
never split a character cluster. Scripts written without spaces (Chinese, Japanese, Thai) break between
clusters."""
from __future__ import annotations

import unicodedata

from tolk.ui import fontset

NO_SPACE_SCRIPTS = frozenset({"Hans", "Jpan", "Thai"})


def clusters(text: str) -> list[str]:
    """Base characters with their combining marks (Thai vowels, Devanagari signs, Arabic harakat)."""
    out: list[str] = []
    for char in text:
        if out and (unicodedata.category(char) in ("Mn", "Mc", "Me") or char == "\u200d"):
            out[-1] += char
        else:
            out.append(char)
    return out


def _width(font, text: str, direction: str) -> float:
    return font.getlength(text, **fontset.layout_options(direction)) if text else 0.0


def wrap(text: str, font, width: int, script: str, direction: str = "ltr") -> list[str]:
    """Lines of ``text`` no wider than ``width`` pixels (a single over-wide cluster gets its own line)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        units = clusters(paragraph) if script in NO_SPACE_SCRIPTS else paragraph.split(" ")
        joiner = "" if script in NO_SPACE_SCRIPTS else " "
        line = ""
        for unit in units:
            candidate = f"{line}{joiner}{unit}" if line else unit
            if _width(font, candidate, direction) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = unit
            while _width(font, line, direction) > width and len(clusters(line)) > 1:  # a very long word
                parts = clusters(line)
                cut = len(parts) - 1
                while cut > 1 and _width(font, "".join(parts[:cut]), direction) > width:
                    cut -= 1
                lines.append("".join(parts[:cut]))
                line = "".join(parts[cut:])
        lines.append(line)
    return [line for line in lines if line.strip()] or [""]


def draw_text_box(draw, box: tuple[int, int, int, int], text: str, size: int, language: str, *,
                  bold: bool = False, fill=(255, 255, 255), align: str = "start", first_line: int = 0,
                  min_size: int | None = None) -> dict:
    """Draw ``text`` inside ``box`` (left, top, right, bottom) in the language's script and direction.

    Returns {"lines": drawn lines, "overflow": True if text did not fit, "script": font script used}.
    """
    from tolk.models import languages

    lang = languages.get(language)
    script = fontset.script_for_text(text, lang.script) if text else lang.script
    direction = "rtl" if lang.rtl else "ltr"
    left, top, right, bottom = box
    for size in range(size, (min_size or size) - 1, -1):  # shrink long text down to min_size to fit
        font = fontset.font(script, size, bold)
        lines = wrap(text, font, right - left, script, direction)
        ascent, descent = font.getmetrics()
        line_height = ascent + descent + max(2, size // 8)
        visible = max(1, (bottom - top) // line_height)
        if len(lines) <= first_line + visible:
            break
    shown = lines[first_line:first_line + visible]
    overflow = len(lines) > first_line + visible
    if overflow and shown:
        ellipsis = next((e for e in ("…", "...", "") if not fontset.missing_glyphs(e, script)), "")
        while shown[-1] and _width(font, shown[-1] + ellipsis, direction) > right - left:
            shown[-1] = "".join(clusters(shown[-1])[:-1])
        shown[-1] += ellipsis
    y = top
    for line in shown:
        w = _width(font, line, direction)
        at_end = (align == "start" and lang.rtl) or (align == "end" and not lang.rtl)
        x = left + (right - left - w) / 2 if align == "center" else (right - w if at_end else left)
        draw.text((x, y), line, font=font, fill=fill, **fontset.layout_options(direction))
        y += line_height
    return {"lines": shown, "overflow": overflow, "script": script}
