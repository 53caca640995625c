"""Tests close what they start: the threads and child processes alive after a test that were not alive before it.

tests/conftest.py checks every test with :func:`snapshot` before and :func:`leftovers` after (its function-scoped
fixtures torn down by then). Session- and module-scoped fixtures are set up before the first snapshot of the test
that needs them, so what they start at set-up belongs to their scope, not to the test. A process-wide fixture
that starts something again *during* a test (the virtual sound card plugged back in) names it with
:func:`process_wide` for as long as it lives.

A thread is a leak whether or not it is a daemon: the appliance's own threads (tolk-inference, tolk-devices,
tolk-storage, tolk-mic, tolk-playback, tolk-control, ...) are all daemons, and one left behind keeps running a
loop that posts into a controller nobody steps ("main loop not answering: input dropped" in later tests' logs).
Threads started outside Python (PortAudio's callback thread, seen by ``threading`` as a "dummy" thread once it
calls into Python) are not counted: their life is the library's. Child processes are read from /proc (psutil is
not a dependency); zombies are not counted (reaped later by ``subprocess``), a running or stopped child is.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

# How long a test's threads and children get to finish after it: a closed worker ends in milliseconds; 2 s
# covers a playback thread finishing its last 20 ms period and a subprocess answering SIGTERM under load
# (2 cores shared by the whole suite).
JOIN_SECONDS = 2.0

Owned = Callable[[], Iterable["threading.Thread | int"]]
_process_wide: list[Owned] = []
_closers: list[Callable[[], object]] = []


def close_after_test(close: Callable[[], object]) -> None:
    """Run ``close`` when the running test ends, passed or failed, before its leftovers are counted: for the
    helpers that build things with threads (an interpreter, a controller, a speaker) and are not fixtures."""
    _closers.append(close)


def closing(thing, close: str = "close"):
    """``thing``, its ``close`` method (or the method named) run when the test ends: ``interp = closing(Interpreter(...))``."""
    close_after_test(getattr(thing, close))
    return thing


def run_closers() -> list[str]:
    """Run the registered closers, last registered first; what each one raised, as lines."""
    errors = []
    while _closers:
        close = _closers.pop()
        try:
            close()
        except Exception as err:  # noqa: BLE001 - every closer runs; the failures are reported together
            errors.append(f"closing {getattr(close, '__qualname__', close)!s} raised {type(err).__name__}: {err}")
    return errors


def process_wide(owned: Owned) -> Callable[[], None]:
    """Register a process-wide fixture's threads and child pids (``owned()`` is asked at each check); returns the
    function that unregisters them (call it at the fixture's teardown)."""
    _process_wide.append(owned)
    return lambda: _process_wide.remove(owned)


def children() -> dict[int, str]:
    """This process's live (not zombie) children: pid -> command line."""
    multiprocessing.active_children()  # reaps finished multiprocessing children
    me, found = os.getpid(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after its last ")"
            state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
            if int(ppid) != me or state == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):
            continue  # ended while being read
        found[int(entry.name)] = cmdline or stat[stat.index("(") + 1:stat.rindex(")")]
    return found


@dataclass(frozen=True)
class Snapshot:
    threads: frozenset[threading.Thread]
    pids: frozenset[int]


def snapshot() -> Snapshot:
    return Snapshot(frozenset(threading.enumerate()), frozenset(children()))


def _owned() -> tuple[set[threading.Thread], set[int]]:
    threads, pids = set(), set()
    for owned in _process_wide:
        for item in owned():
            (threads if isinstance(item, threading.Thread) else pids).add(item)
    return threads, pids


@dataclass(frozen=True)
class Leftovers:
    threads: tuple[threading.Thread, ...]
    pids: dict[int, str]  # pid -> command line

    def __bool__(self) -> bool:
        return bool(self.threads or self.pids)

    def lines(self) -> list[str]:
        return ([f"thread {t.name!r} ({'daemon' if t.daemon else 'non-daemon'}, running "
                 f"{getattr(getattr(t, '_target', None), '__qualname__', '?')})" for t in self.threads]
                + [f"child process {pid}: {cmd[:120]}" for pid, cmd in sorted(self.pids.items())])

    def end_children(self) -> None:
        """Stop the leaked children so they do not disturb the next test (the leak is still reported)."""
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def leftovers(before: Snapshot, join_seconds: float = JOIN_SECONDS) -> Leftovers:
    """What was started since ``before`` and is still running after up to ``join_seconds``."""
    deadline = time.monotonic() + join_seconds
    while True:
        owned_threads, owned_pids = _owned()
        threads = tuple(t for t in threading.enumerate() if t not in before.threads and t not in owned_threads
                        and t.is_alive() and not isinstance(t, threading._DummyThread))
        pids = {pid: cmd for pid, cmd in children().items() if pid not in before.pids and pid not in owned_pids}
        left = deadline - time.monotonic()
        if (not threads and not pids) or left <= 0:
            return Leftovers(threads, pids)
        if threads:
            threads[0].join(min(left, 0.05))
        else:
            time.sleep(min(left, 0.05))
