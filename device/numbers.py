"""Numbers typed by a person (command-line options, simulator scripts), parsed strictly.

``float()`` and ``int()`` take far more than digits: "1e308", "nan", "inf", "1_000", "+5", " 5 " and other
scripts' digits ("١٢"). A number here is ASCII digits with an optional fraction, inside a stated range.
"""
from __future__ import annotations

import argparse
import re

_DIGITS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,6})?")


def strict_number(text: str, low: float, high: float, whole: bool = False) -> float | int | None:
    """``text`` as a number in [low, high], or None when it is anything else."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text) or (whole and "." in text):
        return None
    value = int(text) if whole else float(text)
    return value if low <= value <= high else None


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
