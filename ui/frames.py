"""Screen layouts: one Pillow image per view model (ui.screens), for 240x240 and 320x240 panels.

Deterministic (no clock, no randomness), so golden-frame tests compare pixels.
Text is drawn in runs (``ui.runs``): each character in a font that has it, shaped, the runs of a line in
bidi order; a text that cannot be drawn is left out of the frame and logged (UI-RENDER), never raised.
"""
from __future__ import annotations

import logging

from PIL import Image, ImageDraw

from tolk.models.errors import ErrorCode
from tolk.ui import fontset, runs, screens as sc
from tolk.ui.textbox import draw_text_box

log = logging.getLogger(__name__)
BG = (16, 20, 24)
FG = (240, 240, 240)
DIM = (150, 156, 164)
ACCENT = (64, 156, 255)
LISTEN = (46, 204, 113)
WORK = (241, 196, 15)
ERROR = (231, 76, 60)
HEADER_H = 28


def _header(draw: ImageDraw.ImageDraw, width: int, text: str, color) -> None:
    draw.rectangle((0, 0, width, HEADER_H - 1), fill=color)
    draw_line(draw, (6, 4), text, 17, fill=BG, bold=True)


def draw_line(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int, *, fill=FG, bold=False,
              max_width: int | None = None) -> int:
    """One line of possibly mixed-script text (left to right, runs in bidi order), cut to ``max_width`` with an
    ellipsis; returns the x after it. Never raises: a line that cannot be drawn is left out and logged (UI-RENDER)."""
    x, y = xy
    try:
        ascent = fontset.font("Latn", size, bold).getmetrics()[0]
        if max_width is not None:  # cut at the end of the text (logical order), with an ellipsis
            text = runs.fit(text, max_width, lambda s: runs.width(s, size, "Latn", False, bold))
        return int(runs.draw_runs(draw, x, y + ascent, runs.split(text, "Latn", False), size, bold=bold, fill=fill))
    except Exception as err:  # noqa: BLE001 - a frame without this line beats no frame
        log.error("[%s] a line could not be drawn (%d characters): %s: %s", ErrorCode.UI_RENDER.value, len(text),
                  type(err).__name__, err)
        return x


def _level_meter(draw, box, level: float) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, outline=DIM)
    filled = left + 2 + int((right - left - 4) * max(0.0, min(1.0, level)))
    if filled > left + 2:
        draw.rectangle((left + 2, top + 2, filled, bottom - 2), fill=LISTEN)


def _ready(img, draw, s: sc.ReadyScreen) -> None:
    w, h = img.size
    _header(draw, w, "Tolk · ready", ACCENT)
    draw_text_box(draw, (10, 40, w - 10, 80), s.a.name, 28, s.a.code, bold=True, align="center")
    draw_line(draw, (w // 2 - 12, 80), "⇅", 24, fill=DIM)
    draw_text_box(draw, (10, 110, w - 10, 150), s.b.name, 28, s.b.code, bold=True, align="center")
    draw_line(draw, (10, 160), f"Mode: {s.mode}", 14, fill=DIM)
    draw_line(draw, (10, 180), "Hold ◀ left / right ▶ to talk", 14, fill=DIM)
    if s.notice:
        draw_text_box(draw, (10, h - 44, w - 10, h - 4), s.notice, 13, "en", fill=WORK)


def _listening(img, draw, s: sc.ListeningScreen) -> None:
    w, h = img.size
    _header(draw, w, "Listening", LISTEN)
    draw_text_box(draw, (10, 34, w - 10, 62), f"{s.speaker.name} → {s.listener.name}", 16, s.speaker.code,
                  fill=DIM) if s.speaker.code == s.listener.code else _pair_line(draw, w, s.speaker, s.listener, 34)
    _level_meter(draw, (10, 64, w - 10, 80), s.level)
    draw_text_box(draw, (10, 90, w - 10, h - 8), s.partial or "…", 20, s.speaker.code)


def _pair_line(draw, w: int, a: sc.Side, b: sc.Side, y: int) -> None:
    x = draw_line(draw, (10, y), a.name, 16, fill=DIM)
    x = draw_line(draw, (x + 4, y), "→", 16, fill=DIM)
    draw_line(draw, (x + 4, y), b.name, 16, fill=DIM, max_width=w - x - 14)


def _working(img, draw, s: sc.WorkingScreen) -> None:
    w, h = img.size
    _header(draw, w, s.stage.capitalize() + "…", WORK)
    _pair_line(draw, w, s.speaker, s.listener, 34)
    if s.source_text:
        draw_text_box(draw, (10, 60, w - 10, 120), s.source_text, 15, s.speaker.code, fill=DIM)
    if s.translation:
        draw_text_box(draw, (10, 126, w - 10, h - 8), s.translation, 20, s.listener.code)


def _result_half(draw, box, s: sc.ResultScreen) -> None:
    left, top, right, bottom = box
    draw_text_box(draw, (left, top, right, top + (bottom - top) * 2 // 3), s.translation, 22, s.listener.code,
                  bold=True, first_line=s.scroll, min_size=15)
    marker = f"{s.listener.name}" + (" · robotic voice" if s.listener.fallback_voice else "")
    draw_line(draw, (left, bottom - 18), marker, 12, fill=DIM, max_width=right - left)


def _result(img, draw, s: sc.ResultScreen) -> None:
    w, h = img.size
    if s.split:  # face to face: the listener's half is upside down, facing them
        half = Image.new("RGB", (w, h // 2), BG)
        _result_half(ImageDraw.Draw(half), (8, 6, w - 8, h // 2 - 4), s)
        img.paste(half.rotate(180), (0, 0))
        draw.line((0, h // 2, w, h // 2), fill=DIM)
        draw_text_box(draw, (8, h // 2 + 6, w - 8, h - 24), s.source_text, 15, s.speaker.code, fill=DIM)
        if s.back_translation:
            draw_text_box(draw, (8, h - 22, w - 8, h - 2), "↺ " + s.back_translation, 12, s.speaker.code, fill=DIM)
        return
    _header(draw, w, s.detected and f"Heard: {s.detected}" or "Translation", ACCENT)
    source_bottom = 88 if s.back_translation else 96
    draw_text_box(draw, (8, 32, w - 8, source_bottom - 24 if s.back_translation else source_bottom), s.source_text,
                  14, s.speaker.code, fill=DIM)
    if s.back_translation:
        draw_text_box(draw, (8, source_bottom - 22, w - 8, source_bottom), "↺ " + s.back_translation, 12,
                      s.speaker.code, fill=DIM)
    draw.line((8, source_bottom + 2, w - 8, source_bottom + 2), fill=(60, 66, 72))
    _result_half(draw, (8, source_bottom + 8, w - 8, h - 4), s)


def _menu(img, draw, s: sc.MenuScreen) -> None:
    w, h = img.size
    _header(draw, w, s.title, ACCENT)
    row = 26
    visible = (h - HEADER_H - 26) // row
    first = max(0, min(s.selected - visible // 2, len(s.items) - visible))
    for i, label in enumerate(s.items[first:first + visible]):
        y = HEADER_H + 4 + i * row
        if first + i == s.selected:
            draw.rectangle((4, y - 1, w - 4, y + row - 3), fill=(40, 70, 110))
        draw_line(draw, (10, y + 2), label, 15, max_width=w - 20)
    if s.hint:
        draw_line(draw, (6, h - 20), s.hint, 11, fill=DIM, max_width=w - 12)


def _error(img, draw, s: sc.ErrorScreen) -> None:
    w, h = img.size
    _header(draw, w, "Error", ERROR)
    draw_line(draw, (10, 36), s.code, 20, fill=ERROR, bold=True, max_width=w - 20)
    draw_text_box(draw, (10, 66, w - 10, 130), s.message, 16, "en")
    draw_text_box(draw, (10, 136, w - 10, h - 8), s.action, 15, "en", fill=WORK)


def _boot(img, draw, s: sc.BootScreen) -> None:
    w, h = img.size
    draw_line(draw, (w // 2 - 34, h // 2 - 40), "Tolk", 32, bold=True)
    draw_line(draw, (20, h // 2 + 6), s.message, 15, fill=DIM)
    draw.rectangle((20, h // 2 + 34, w - 20, h // 2 + 44), outline=DIM)
    draw.rectangle((22, h // 2 + 36, 22 + int((w - 44) * s.progress), h // 2 + 42), fill=ACCENT)


_LAYOUTS = {sc.ReadyScreen: _ready, sc.ListeningScreen: _listening, sc.WorkingScreen: _working,
            sc.ResultScreen: _result, sc.MenuScreen: _menu, sc.ErrorScreen: _error, sc.BootScreen: _boot}


def render(screen: sc.Screen, size: tuple[int, int] = (240, 240)) -> Image.Image:
    if tuple(size) not in sc.SIZES:
        raise ValueError(f"unsupported screen size {size}; supported: {sc.SIZES}")
    img = Image.new("RGB", size, BG)
    _LAYOUTS[type(screen)](img, ImageDraw.Draw(img), screen)
    return img
