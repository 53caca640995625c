"""User settings (language pair, mode, volume, history, back-translation), persisted atomically.

Written as JSON via a temporary file, fsync, rename and a directory fsync, so a
power cut leaves either the old or the new file. A damaged file never stops the
device: defaults are used and a notice says so (the damaged file is kept aside).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

MODES = ("push-to-talk", "face-to-face", "hands-free")


class SettingsError(TolkError, ValueError):
    code = ErrorCode.SETTINGS_BAD


@dataclass(frozen=True)
class Settings:
    lang_a: str = "en"
    lang_b: str = "es"
    mode: str = "push-to-talk"
    volume: float = 0.8  # 0..1
    history: bool = True
    back_translation: bool = False

    def __post_init__(self) -> None:
        for code in (self.lang_a, self.lang_b):
            languages.get(code)
        if self.lang_a == self.lang_b:
            raise SettingsError("the two languages of the pair must differ")
        if self.mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}")
        if not 0.0 <= float(self.volume) <= 1.0:
            raise SettingsError("volume must be between 0 and 1")

    def with_changes(self, **changes) -> "Settings":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        if not isinstance(data, dict):
            raise SettingsError("settings must be a JSON object")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError as err:
            raise SettingsError(str(err)) from err


class SettingsFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> tuple[Settings, str]:
        """The saved settings and a notice ('' when all is well)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Settings(), ""
        except (OSError, UnicodeDecodeError) as err:
            return self._damaged(f"unreadable ({err})")
        try:
            return Settings.from_dict(json.loads(text)), ""
        except (json.JSONDecodeError, TolkError, ValueError, TypeError) as err:
            return self._damaged(str(err))

    def _damaged(self, why: str) -> tuple[Settings, str]:
        log.warning("settings file %s is damaged (%s); using defaults", self.path, why)
        try:
            os.replace(self.path, self.path.with_suffix(".damaged"))
        except OSError:
            pass
        return Settings(), "Settings were damaged and have been reset [SETTINGS-BAD]"

    def save(self, settings: Settings) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(settings.to_dict(), handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
