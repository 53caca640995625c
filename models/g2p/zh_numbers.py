"""Arabic numbers in a Chinese text written out in Chinese, for the pinyin reader.

Integers up to 10 digits (longer runs, like phone numbers, and ones with a leading zero are read digit by digit;
``1,000`` is one thousand), decimals with 点, percentages as 百分之…, clock times ``9:30`` as 九点三十分 (``2:00``
→ 两点), years before 年 digit by digit, and a minus sign as 负.
"""
from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
_UNITS = ("", "十", "百", "千")
_GROUPS = ("", "万", "亿", "万亿")

LONGEST = 10  # digits read as one number; longer runs (phone numbers: 11) are read digit by digit
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TIME = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)[%％]")
_YEAR = re.compile(r"(\d{2,4})(?=年)")
_NUMBER = re.compile(r"(?<![\d.])(-?)(\d+)(?:\.(\d+))?(?![\d])")


def digit_by_digit(digits: str) -> str:
    return "".join(DIGITS[int(d)] for d in digits)


def _group(value: int) -> str:
    """0 < value < 10000, with 零 for inner zeros (1005 → 一千零五)."""
    text, pending_zero = "", False
    for position in range(3, -1, -1):
        digit = value // 10 ** position % 10
        if digit == 0:
            pending_zero = bool(text)
            continue
        text += ("零" if pending_zero else "") + DIGITS[digit] + _UNITS[position]
        pending_zero = False
    return text


def integer(value: int) -> str:
    """``value`` (0 ≤ value < 10^16) in Chinese: 10 → 十, 15 → 十五, 105 → 一百零五, 20000 → 二万."""
    if value == 0:
        return "零"
    groups = []
    rest = value
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    text, zero_before = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_before = bool(text)
            continue
        if text and (zero_before or group < 1000):
            text += "零"
        text += _group(group) + _GROUPS[index]
        zero_before = False
    return text[1:] if text.startswith("一十") else text


def number(sign: str, whole: str, fraction: str | None) -> str:
    """A written number: integer part, optional decimal digits after 点, 负 for a minus."""
    if len(whole) > LONGEST or (len(whole) > 1 and whole.startswith("0")):
        text = digit_by_digit(whole)
    else:
        text = integer(int(whole))
    if fraction:
        text += "点" + digit_by_digit(fraction)
    return ("负" if sign else "") + text


def _time(found: re.Match[str]) -> str:
    hour, minute = int(found.group(1)), int(found.group(2))
    if hour > 24 or minute > 59:
        return found.group()
    text = ("两" if hour == 2 else integer(hour)) + "点"
    if minute:
        text += ("零" if minute < 10 else "") + integer(minute) + "分"
    return text


def _percent(found: re.Match[str]) -> str:
    value = found.group(1)
    whole, _, fraction = value.lstrip("-").partition(".")
    return ("负" if value.startswith("-") else "") + "百分之" + number("", whole, fraction or None)


def spell_numbers(text: str) -> str:
    """``text`` with every Arabic number written out in Chinese characters."""
    text = text.translate(str.maketrans("０１２３４５６７８９：．", "0123456789:."))
    text = _THOUSANDS.sub("", text)
    text = _TIME.sub(_time, text)
    text = _PERCENT.sub(_percent, text)
    text = _YEAR.sub(lambda found: digit_by_digit(found.group(1)), text)
    return _NUMBER.sub(lambda found: number(found.group(1), found.group(2), found.group(3)), text)
