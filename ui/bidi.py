"""The part of the Unicode bidirectional algorithm (UAX #9) that orders a line's runs for display.

libraqm reorders the text of one draw call, but a line drawn in several fonts is several calls: the order of
those runs on the line is decided here. ``levels`` resolves an embedding level per character (rules W1-W7,
N0-N2, I1-I2 and L1's trailing white space) for one line with a given paragraph direction; ``visual_order``
is rule L2 over runs of equal level. Explicit embeddings, overrides and isolates (U+202A-202E, U+2066-2069)
are ignored as X9 removes them, without applying what they ask (text from speech and a translation model
does not carry them). ``tests/test_bidi.py`` compares the levels with GNU FriBidi (what raqm uses) on
random mixed-direction lines.
"""
from __future__ import annotations

import unicodedata

# BidiBrackets.txt pairs for the brackets a translation can contain (ASCII, fullwidth, CJK, the math angles)
BRACKETS = {"(": ")", "[": "]", "{": "}", "⁅": "⁆", "⁽": "⁾", "₍": "₎", "⌈": "⌉", "⌊": "⌋", "〈": "〉",
            "⟨": "⟩", "⟦": "⟧", "⦃": "⦄", "（": "）", "［": "］", "｛": "｝", "｟": "｠", "｢": "｣",
            "〈": "〉", "《": "》", "「": "」", "『": "』", "【": "】", "〔": "〕", "〖": "〗", "〘": "〙", "〚": "〛"}
_CLOSING = {close: open_ for open_, close in BRACKETS.items()}
_CANONICAL = {"〈": "〈", "〉": "〉"}  # U+2329/232A are canonically U+3008/3009 (BD16)
MAX_BRACKET_DEPTH = 63  # BD16: stop pairing after this many open brackets
_EXPLICIT = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_NEUTRAL = frozenset({"B", "S", "WS", "ON"})


def bidi_class(char: str) -> str:
    kind = unicodedata.bidirectional(char)
    if kind in _EXPLICIT:
        return "BN"
    return kind or "L"  # unassigned code points: left-to-right (their default outside the RTL blocks)


def _strong(kind: str) -> str:
    """Direction of a resolved type for the neutral rules: EN and AN count as R (N1)."""
    return "L" if kind == "L" else "R"


def _resolve_weak(types: list[str], sos: str) -> None:
    """W1-W7 on one isolating run sequence (the whole line), in place; BN already removed."""
    prev = sos
    for n, kind in enumerate(types):  # W1
        if kind == "NSM":
            types[n] = "ON" if prev in ("LRI", "RLI", "FSI", "PDI") else prev
        prev = types[n]
    last_strong = sos
    for n, kind in enumerate(types):  # W2, W3
        if kind in ("L", "R", "AL"):
            last_strong = kind
        if kind == "EN" and last_strong == "AL":
            types[n] = "AN"
    for n, kind in enumerate(types):
        if kind == "AL":
            types[n] = "R"
    for n in range(1, len(types) - 1):  # W4
        before, kind, after = types[n - 1], types[n], types[n + 1]
        if kind == "ES" and before == after == "EN" or kind == "CS" and before == after and before in ("EN", "AN"):
            types[n] = before
    n = 0
    while n < len(types):  # W5: European terminators next to a European number
        if types[n] != "ET":
            n += 1
            continue
        end = n
        while end < len(types) and types[end] == "ET":
            end += 1
        if (n > 0 and types[n - 1] == "EN") or (end < len(types) and types[end] == "EN"):
            types[n:end] = ["EN"] * (end - n)
        n = end
    for n, kind in enumerate(types):  # W6
        if kind in ("ES", "ET", "CS"):
            types[n] = "ON"
    last_strong = sos
    for n, kind in enumerate(types):  # W7
        if kind in ("L", "R"):
            last_strong = kind
        elif kind == "EN" and last_strong == "L":
            types[n] = "L"


def _bracket_pairs(chars: list[str], types: list[str]) -> list[tuple[int, int]]:
    """BD16: matching bracket pairs (only brackets whose type is still ON), sorted by the opening one."""
    stack: list[tuple[str, int]] = []
    pairs: list[tuple[int, int]] = []
    for n, char in enumerate(chars):
        if types[n] != "ON":
            continue
        char = _CANONICAL.get(char, char)
        if char in BRACKETS:
            if len(stack) >= MAX_BRACKET_DEPTH:
                break
            stack.append((BRACKETS[char], n))
        elif char in _CLOSING:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == char:
                    pairs.append((stack[depth][1], n))
                    del stack[depth:]
                    break
    return sorted(pairs)


def _resolve_brackets(chars: list[str], types: list[str], original: list[str], sos: str, embedding: str) -> None:
    """N0: a bracket pair takes the embedding direction when that is inside it, else the context's."""
    for start, end in _bracket_pairs(chars, types):
        inside = {_strong(kind) for kind in types[start + 1:end] if kind in ("L", "R", "EN", "AN")}
        if not inside:
            continue
        if embedding in inside:
            direction = embedding
        else:
            before = next((_strong(kind) for kind in reversed(types[:start]) if kind in ("L", "R", "EN", "AN")), sos)
            direction = before if before != embedding else embedding
        for n in (start, end):
            types[n] = direction
            follow = n + 1
            while follow < len(types) and original[follow] == "NSM":  # marks on a bracket follow it
                types[follow] = direction
                follow += 1


def _resolve_neutral(types: list[str], sos: str, eos: str, embedding: str) -> None:
    """N1, N2: a run of neutrals between two equal directions takes it, else the embedding direction."""
    n = 0
    while n < len(types):
        if types[n] not in _NEUTRAL:
            n += 1
            continue
        end = n
        while end < len(types) and types[end] in _NEUTRAL:
            end += 1
        before = _strong(types[n - 1]) if n > 0 else sos
        after = _strong(types[end]) if end < len(types) else eos
        types[n:end] = [before if before == after else embedding] * (end - n)
        n = end


def first_strong_rtl(text: str) -> bool | None:
    """P2, P3: whether the first strong character is right-to-left (None: the text has none)."""
    for char in text:
        kind = bidi_class(char)
        if kind in ("L", "R", "AL"):
            return kind != "L"
    return None


def paragraph_rtl(text: str, language_rtl: bool) -> bool:
    """A box's direction: its language's, unless the text has no strong character of that direction — then its
    first strong character's (Hebrew in an English box runs right to left; "WiFi" alone in an Arabic box
    runs left to right)."""
    wanted = ("R", "AL") if language_rtl else ("L",)
    if any(bidi_class(char) in wanted for char in text):
        return language_rtl
    first = first_strong_rtl(text)
    return language_rtl if first is None else first


def levels(text: str, rtl: bool) -> list[int]:
    """The resolved embedding level of each character of one line (paragraph level 1 when ``rtl``)."""
    base = 1 if rtl else 0
    original_all = [bidi_class(char) for char in text]
    kept = [n for n, kind in enumerate(original_all) if kind != "BN"]  # X9
    chars = [text[n] for n in kept]
    original = [original_all[n] for n in kept]
    types = list(original)
    sos = eos = "R" if rtl else "L"
    _resolve_weak(types, sos)
    _resolve_brackets(chars, types, original, sos, sos)
    _resolve_neutral(types, sos, eos, sos)
    resolved = []
    for kind in types:  # I1, I2
        if base == 0:
            resolved.append(1 if kind == "R" else 2 if kind in ("AN", "EN") else 0)
        else:
            resolved.append(2 if kind in ("L", "EN", "AN") else 1)
    for n in range(len(original) - 1, -1, -1):  # L1: white space at the end of the line
        if original[n] not in ("WS", "S", "B"):
            break
        resolved[n] = base
    for n, kind in enumerate(original):  # L1: segment separators and the white space before them
        if kind in ("S", "B"):
            resolved[n] = base
            back = n - 1
            while back >= 0 and original[back] == "WS":
                resolved[back] = base
                back -= 1
    out = [base] * len(text)
    previous = base
    kept_at = dict(zip(kept, resolved))
    for n in range(len(text)):  # removed characters take the level of the one before them
        previous = out[n] = kept_at.get(n, previous)
    return out


def visual_order(run_levels: list[int]) -> list[int]:
    """L2: indexes of runs (given in logical order with their levels) in display order, left to right."""
    order = list(range(len(run_levels)))
    if not run_levels:
        return order
    lowest_odd = min((level for level in run_levels if level % 2), default=None)
    if lowest_odd is None:
        return order
    for level in range(max(run_levels), lowest_odd - 1, -1):
        n = 0
        while n < len(order):
            if run_levels[order[n]] < level:
                n += 1
                continue
            end = n
            while end < len(order) and run_levels[order[end]] >= level:
                end += 1
            order[n:end] = reversed(order[n:end])
            n = end
    return order
