"""Conversation text in the log: what a person said, or was told, stays out unless they asked for it.

The log is readable on the console (`log tail`, behind the passphrase) and lands in the journal: it should say
what went wrong, not what was said. Every log call that would carry a transcript, a translation or a text to speak
formats it with :func:`said`, which gives its length (and language) only, unless the ``log_conversations``
setting (a debug setting, off by default) is on. The setting is applied here by the appliance's executor, like
logging's own configuration: once, for the whole process.
"""
from __future__ import annotations

_show = False


def log_conversations(on: bool) -> None:
    """Let conversation text into the log (True) or keep it out (False, the default)."""
    global _show
    _show = bool(on)


def said(text: str, language: str = "") -> str:
    """``text`` for a log line: quoted when conversations are logged, else only its length and language."""
    if _show:
        return repr(text)
    return f"<{len(text)} chars{' ' + language if language else ''}>"
