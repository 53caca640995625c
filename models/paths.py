"""Where Tolk keeps its data: model packs, the download cache and settings.

On the device everything lives on the data partition (``/data/tolk``); on a PC
under ``~/.local/share/tolk``. ``TOLK_DATA_DIR`` overrides both, and
``TOLK_CACHE_DIR`` moves only the (large, disposable) download cache.
"""
from __future__ import annotations

import os
from pathlib import Path

DEVICE_DATA_DIR = Path("/data/tolk")


def data_dir() -> Path:
    env = os.environ.get("TOLK_DATA_DIR")
    if env:
        return Path(env)
    if DEVICE_DATA_DIR.is_dir():
        return DEVICE_DATA_DIR
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "tolk"


def packs_dir() -> Path:
    return data_dir() / "packs"


def cache_dir() -> Path:
    env = os.environ.get("TOLK_CACHE_DIR")
    return Path(env) if env else data_dir() / "cache"
