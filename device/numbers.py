"""Numbers typed by people (console arguments, command-line options, simulator scripts), parsed strictly.

``int()`` and ``float()`` take far more than a person means: "²" passes ``str.isdigit`` and then fails ``int``,
"٣" and "1_0" are numbers to ``float``, and so are "+5", " 5 ", "nan", "inf" and "1e308". Here a number is at
most nine ASCII digits with an optional decimal fraction, so it is always finite and below 10**9; a range, when
given, is checked too. Anything else is refused: a ``TolkError`` with the caller's code (console), an argparse
error (command line) or None (scripts, which say the line).
"""
from __future__ import annotations

import argparse
import re

from tolk.models.errors import ErrorCode, TolkError

_WHOLE = re.compile(r"[0-9]{1,9}")  # [0-9], not \d: \d also matches "٣" and "²"
_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?|\.[0-9]{1,9}")


def strict_number(text: str, low: float, high: float, whole: bool = False) -> float | int | None:
    """``text`` as a number in [low, high], or None when it is anything else."""
    if not isinstance(text, str) or not (_WHOLE if whole else _DECIMAL).fullmatch(text):
        return None
    value = int(text) if whole else float(text)
    return value if low <= value <= high else None


def _bounded(value, text: str, what: str, low, high, code: ErrorCode):
    if low is not None and value < low:
        raise TolkError(f"{what} must be at least {low:g}, not {text[:20]}", code=code)
    if high is not None and value > high:
        raise TolkError(f"{what} must be at most {high:g}, not {text[:20]}", code=code)
    return value


def parse_whole(text: str, what: str, low: int | None = None, high: int | None = None,
                code: ErrorCode = ErrorCode.CONSOLE_USAGE) -> int:
    """A whole number of ASCII digits (``low``..``high`` when given)."""
    if not _WHOLE.fullmatch(text):
        raise TolkError(f"{what} must be a whole number (digits 0-9), not '{text[:20]}'", code=code)
    return _bounded(int(text), text, what, low, high, code)


def parse_decimal(text: str, what: str, low: float | None = None, high: float | None = None,
                  code: ErrorCode = ErrorCode.CONSOLE_USAGE) -> float:
    """A decimal number of ASCII digits and one optional point: "0.5", ".5", "3" (``low``..``high`` when given)."""
    if not _DECIMAL.fullmatch(text):
        raise TolkError(f"{what} must be a number like 0.5 (digits 0-9), not '{text[:20]}'", code=code)
    return _bounded(float(text), text, what, low, high, code)


def _argument(low: float, high: float, whole: bool):
    what = "a whole number" if whole else "a number"

    def parse(text: str):
        value = strict_number(text, low, high, whole)
        if value is None:
            raise argparse.ArgumentTypeError(f"'{text[:40]}' is not {what} from {low:g} to {high:g}")
        return value

    parse.__name__ = what  # argparse names the type in its "invalid ... value" message
    return parse


def whole_argument(low: int, high: int):
    """An argparse ``type`` for a whole number in [low, high]."""
    return _argument(low, high, whole=True)


def number_argument(low: float, high: float):
    """An argparse ``type`` for a number (digits, optional fraction) in [low, high]."""
    return _argument(low, high, whole=False)
