"""Errors raised by the model layer.

Every error carries a stable ``code`` that the screen and the console can show
(for example ``PACK-HASH``), plus a human message that says what to do.
"""
from __future__ import annotations


class TolkError(Exception):
    """Base of every error Tolk shows to a person."""

    code = "TOLK-ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human message without the code."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ManifestError(TolkError, ValueError):
    """A pack manifest is missing, malformed or inconsistent."""

    code = "PACK-MANIFEST"


class PackIntegrityError(TolkError):
    """A pack's files do not match its manifest (missing, wrong size, wrong hash)."""

    code = "PACK-INTEGRITY"


class UnsafePackError(TolkError):
    """A pack contains something that must never be loaded (path escape, link, pickle)."""

    code = "PACK-UNSAFE"


class UnsafePathError(UnsafePackError, ManifestError):
    """A manifest names a path that is absolute or climbs out of the pack folder."""

    code = "PACK-UNSAFE"


class PackNotFoundError(TolkError, LookupError):
    """No installed pack has the requested id or kind."""

    code = "PACK-MISSING"


class UnknownLanguageError(TolkError, KeyError):
    """A language code is not in the registry."""

    code = "LANG-UNKNOWN"


class FetchError(TolkError):
    """Obtaining or assembling the default model sources failed."""

    code = "FETCH-FAILED"


class ConversionError(TolkError):
    """Turning a source model into a CTranslate2 pack failed."""

    code = "CONVERT-FAILED"
