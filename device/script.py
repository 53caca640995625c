"""Scenario scripts for the simulator: timed button actions replayed unattended.

One action per line (``#`` starts a comment)::

    mic clip.wav          the fake microphone plays this clip on its next capture
    press BUTTON          press and release
    hold BUTTON [SECONDS] press and keep holding (SECONDS given: hold that long, then release)
    release BUTTON
    wait SECONDS
    wait-mic [TIMEOUT]    until the fake microphone has played its clip
    wait-state STATE [TIMEOUT]
    expect-state STATE

Buttons: talk_a (left) talk_b (right) swap menu select up down power.
"""
from __future__ import annotations

import errno
import os
import shlex
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from tolk.device.controller import BUTTONS, ButtonEvent, State
from tolk.device.numbers import strict_number
from tolk.models.errors import ErrorCode, TolkError


class ScriptError(TolkError, ValueError):
    code = ErrorCode.SCRIPT_BAD


@dataclass(frozen=True)
class Action:
    verb: str
    args: tuple[str, ...]
    line: int


# The longest script in the repo (demo_script) is 300 bytes and the longest wait in it 300 s; 64 kB is ~2,000
# lines, and an hour is longer than any scenario run here (the soak bench runs 300 turns in ~20 minutes).
MAX_SCRIPT_BYTES = 64 * 1024
MAX_SECONDS = 3600

_VERBS = {"mic": (1, 1), "press": (1, 1), "hold": (1, 2), "release": (1, 1), "wait": (1, 1), "wait-mic": (0, 1),
          "wait-state": (1, 2), "expect-state": (1, 1)}


def parse_script(text: str, base: Path = Path(".")) -> list[Action]:
    actions = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            verb, *args = shlex.split(line)
        except ValueError as err:  # an unclosed quote
            raise ScriptError(f"line {number}: cannot parse the line ({err})") from None
        if verb not in _VERBS:
            raise ScriptError(f"line {number}: unknown action '{verb}' (known: {', '.join(_VERBS)})")
        low, high = _VERBS[verb]
        if not low <= len(args) <= high:
            raise ScriptError(f"line {number}: '{verb}' takes {low}-{high} arguments")
        if verb in ("press", "hold", "release") and args[0] not in BUTTONS:
            raise ScriptError(f"line {number}: unknown button '{args[0]}' (buttons: {', '.join(BUTTONS)})")
        if verb in ("wait-state", "expect-state") and args[0] not in {s.value for s in State}:
            raise ScriptError(f"line {number}: unknown state '{args[0]}'")
        if verb == "mic":
            args = [str((base / args[0]).resolve()) if not Path(args[0]).is_absolute() else args[0]]
        for value in (args[1:] if verb in ("hold", "wait-state") else args if verb in ("wait", "wait-mic") else ()):
            seconds(value, number)
        actions.append(Action(verb, tuple(args), number))
    return actions


def seconds(value: str, line: int = 0) -> float:
    """A number of seconds from a script: ASCII digits (``1e308``, ``nan`` or ``١٢`` are not), at most
    MAX_SECONDS; anything else is SCRIPT-BAD."""
    number = strict_number(value, 0, MAX_SECONDS)
    if number is None:
        raise ScriptError(f"line {line}: '{value[:40]}' is not a number of seconds from 0 to {MAX_SECONDS} "
                          f"(digits, e.g. 2.5)")
    return number


def load_script(path: Path) -> list[Action]:
    """Read and parse a script file (relative clip paths are relative to it).

    A file or a pipe is read up to MAX_SCRIPT_BYTES: more, a device (``/dev/zero``) or a socket, or not UTF-8 text
    is SCRIPT-BAD; a missing file or a folder is the OSError it raises (FILE-ERROR on the command line).
    """
    path = Path(path)
    mode = os.stat(path).st_mode  # checked before opening: opening a device (a watchdog, a tape) can already act
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "a folder, not a script file", str(path))
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        raise ScriptError(f"{path}: not a script file (a device or a socket); give a text file")
    with open(path, "rb") as handle:  # bounded read, even if the path was swapped for something endless
        data = handle.read(MAX_SCRIPT_BYTES + 1)
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScriptError(f"{path}: over {MAX_SCRIPT_BYTES // 1024} kB; a script is a few lines of actions")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScriptError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    return parse_script(text, base=path.parent)


def run_script(appliance, actions: list[Action], mic=None) -> None:
    """Execute ``actions`` against a running appliance, ticking it while waiting."""
    controller = appliance.controller

    def tick_until(done, timeout: float, what: str, line: int) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise ScriptError(f"line {line}: timed out after {timeout:.0f} s waiting for {what} "
                                  f"(state is {controller.state.value})")
            appliance.tick(0.02)

    for action in actions:
        verb, args = action.verb, action.args
        if verb == "mic":
            if mic is None or not hasattr(mic, "load"):
                raise ScriptError(f"line {action.line}: 'mic' needs the file microphone (--mic-file mode)")
            mic.load(Path(args[0]))
        elif verb == "press":
            controller.post(ButtonEvent(args[0], "press"))
            appliance.tick(0.02)
            controller.post(ButtonEvent(args[0], "release"))
        elif verb == "hold":
            controller.post(ButtonEvent(args[0], "press"))
            if len(args) == 2:
                end = time.monotonic() + float(args[1])
                tick_until(lambda: time.monotonic() >= end, float(args[1]) + 1, "hold", action.line)
                controller.post(ButtonEvent(args[0], "hold"))
                controller.post(ButtonEvent(args[0], "release"))
        elif verb == "release":
            controller.post(ButtonEvent(args[0], "release"))
        elif verb == "wait":
            end = time.monotonic() + float(args[0])
            tick_until(lambda: time.monotonic() >= end, float(args[0]) + 1, "wait", action.line)
        elif verb == "wait-mic":
            if mic is None or not hasattr(mic, "clip_done"):
                raise ScriptError(f"line {action.line}: 'wait-mic' needs the file microphone")
            tick_until(mic.clip_done.is_set, float(args[0]) if args else 60, "the clip to end", action.line)
        elif verb == "wait-state":
            state = State(args[0])
            tick_until(lambda: controller.state is state, float(args[1]) if len(args) > 1 else 120,
                       f"state {state.value}", action.line)
        elif verb == "expect-state":
            appliance.tick(0.02)
            if controller.state.value != args[0]:
                raise ScriptError(f"line {action.line}: expected state {args[0]}, it is {controller.state.value}")
        if controller.stopped.is_set():
            return
        appliance.tick(0.0)
