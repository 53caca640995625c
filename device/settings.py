"""User settings (language pair, mode, volume, history, back-translation, voices), persisted atomically.

Written as JSON via a temporary file, fsync, rename and a directory fsync, so a
power cut leaves either the old or the new file. A damaged file never stops the
device: defaults are used and a notice says so (the damaged file is kept aside).
"""
from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import NamedTuple

from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

MODES = ("push-to-talk", "face-to-face", "hands-free")
# A voice option as the speech router names it (tolk.models.tts): "piper", "espeak-ng" or "kokoro:<voice>".
VOICE_OPTION = re.compile(r"piper|espeak-ng|kokoro:[a-z0-9_]{1,40}")


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
    # The person's voice per language, ((code, option), ...) sorted; a language not listed speaks with its default.
    voices: tuple[tuple[str, str], ...] = ()
    log_conversations: bool = False  # debug: transcripts and translations in the log (off: their lengths only)

    def __post_init__(self) -> None:
        for name, kind in _TYPES.items():
            value = getattr(self, name)
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise SettingsError(f"{name} must be {_TYPE_NAMES[name]}, not {value!r:.40}")
        # codes as people and old files write them ("ES", "pt-BR", "zh_Hans") are stored as the registry's code,
        # so "ES" with "es" is one language (LANG-SAME), never a saved pair that fails every press
        object.__setattr__(self, "lang_a", languages.get(self.lang_a).code)
        object.__setattr__(self, "lang_b", languages.get(self.lang_b).code)
        if self.lang_a == self.lang_b:
            name = languages.get(self.lang_a).english_name
            raise SettingsError(f"the two languages of the pair must differ (both are {name})", code=ErrorCode.LANG_SAME)
        if self.mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}")
        if not (math.isfinite(self.volume) and 0.0 <= self.volume <= 1.0):
            raise SettingsError("volume must be between 0 and 1")
        voices = []
        for pair in self.voices:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise SettingsError(f"voices must map a language to a voice, not {pair!r:.40}")
            voices.append(voice_entry(*pair))
        if len({code for code, _ in voices}) != len(voices):
            raise SettingsError("voices must name each language once")
        object.__setattr__(self, "voices", tuple(sorted(voices)))

    def voice(self, code: str) -> str | None:
        """The person's voice option for ``code`` (None: the default)."""
        return dict(self.voices).get(languages.get(code).code)

    def with_voice(self, code: str, option: str | None) -> "Settings":
        code, chosen = languages.get(code).code, dict(self.voices)
        if option is None:
            chosen.pop(code, None)
        else:
            chosen[code] = option
        return replace(self, voices=tuple(sorted(chosen.items())))

    def with_changes(self, **changes) -> "Settings":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return dict(asdict(self), voices=dict(self.voices))

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        """Strict: every known field must be valid."""
        settings, bad = cls.from_dict_lenient(data)
        if bad:
            raise SettingsError(bad[0].why, code=bad[0].code)
        return settings

    @classmethod
    def from_dict_lenient(cls, data: object) -> tuple["Settings", list["BadValue"]]:
        """Each valid field taken, each bad one left at its default (a bad entry of ``voices``: that entry dropped):
        (settings, [BadValue, ...])."""
        if not isinstance(data, dict):
            return cls(), [BadValue("settings", "settings must be a JSON object")]
        settings, bad = cls(), []
        pair = {k: data[k] for k in ("lang_a", "lang_b") if k in data}
        try:  # the pair together first: ("es", "en") must not clash with the default lang_b on the way
            settings = replace(settings, **pair)
            pair = {}
        except (TolkError, ValueError, TypeError):
            pass
        for name in cls.__dataclass_fields__:
            if name in data and (name in pair or name not in ("lang_a", "lang_b")):
                value = data[name]
                if name == "voices" and isinstance(value, dict):  # JSON keeps them as {code: option}
                    value, dropped = _good_voices(value)  # one bad entry drops itself, not the others
                    bad += dropped
                try:
                    settings = replace(settings, **{name: value})
                except (TolkError, ValueError, TypeError) as err:
                    bad.append(BadValue.of(name, err))
        return settings, bad


class BadValue(NamedTuple):
    """A saved value that was not taken: the field (``voices.<key>`` for one voice entry), why, and its code."""

    field: str
    why: str
    code: ErrorCode = ErrorCode.SETTINGS_BAD

    @classmethod
    def of(cls, field: str, err: Exception) -> "BadValue":
        return cls(field, getattr(err, "message", str(err)), getattr(err, "code", ErrorCode.SETTINGS_BAD))


def voice_entry(code: object, option: object) -> tuple[str, str]:
    """One (language, voice option) pair checked, its code normalised to the registry's ("ES" → "es")."""
    if not (isinstance(code, str) and isinstance(option, str)):
        raise SettingsError(f"voices must map a language to a voice, not {(code, option)!r:.40}")
    if not VOICE_OPTION.fullmatch(option):
        raise SettingsError(f"voice {option!r:.40} is not piper, espeak-ng or kokoro:<voice>")
    return languages.get(code).code, option


def _good_voices(saved: dict) -> tuple[tuple[tuple[str, str], ...], list[BadValue]]:
    """The valid entries of a saved ``voices`` object and a BadValue for each bad one. Two keys naming one language
    ("ES" and "es"): the one already in the registry's form is kept."""
    good: dict[str, str] = {}
    bad: list[BadValue] = []
    for key, option in sorted(saved.items(), key=lambda kv: not (isinstance(kv[0], str) and kv[0] in languages.codes())):
        label = f"voices.{str(key)[:20]}"
        try:
            code, option = voice_entry(key, option)
        except (TolkError, ValueError, TypeError) as err:
            bad.append(BadValue.of(label, err))
            continue
        if code in good:
            bad.append(BadValue(label, f"{code} is already given a voice"))
            continue
        good[code] = option
    return tuple(sorted(good.items())), bad


_TYPES = {"lang_a": str, "lang_b": str, "mode": str, "volume": (int, float), "history": bool,
          "back_translation": bool, "voices": tuple, "log_conversations": bool}
_TYPE_NAMES = {"lang_a": "a language code", "lang_b": "a language code", "mode": "text", "volume": "a number",
               "history": "true or false", "back_translation": "true or false",
               "voices": "an object of language: voice", "log_conversations": "true or false"}


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
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError, ValueError) as err:
            return self._damaged(str(err)[:200])
        settings, bad = Settings.from_dict_lenient(data)
        if bad:  # the good fields stay; bad ones take their defaults (not saved until a person changes one)
            log.warning("settings file %s: bad values (%s); defaults used for them", self.path,
                        "; ".join(f"{b.field}: {b.why} [{b.code}]" for b in bad))
            return settings, (f"Settings reset: {', '.join(b.field for b in bad)} "
                              f"[{ErrorCode.SETTINGS_BAD}]")
        return settings, ""

    def _damaged(self, why: str) -> tuple[Settings, str]:
        log.warning("settings file %s is damaged (%s); using defaults", self.path, why)
        try:
            os.replace(self.path, self.path.with_suffix(".damaged"))
        except OSError:
            pass
        return Settings(), f"Settings were damaged and have been reset [{ErrorCode.SETTINGS_BAD}]"

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
