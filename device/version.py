"""Tolk's version: read from the installed distribution's metadata (pyproject.toml is the one source)."""
from __future__ import annotations

from importlib import metadata


def tolk_version() -> str:
    try:
        return metadata.version("tolk")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
