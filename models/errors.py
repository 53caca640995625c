"""Every error code Tolk can show, in one table, and the errors that carry them.

A code is a member of :class:`ErrorCode`: its value is the stable text shown on the screen and the console
(``PACK-INTEGRITY``), and it carries a one-line summary (the message when a raise gives no detail) and the
action a person can take (shown under the message on the screen). Raised errors carry a member, never a loose
string: ``TolkError("…", code=ErrorCode.PACK_UNSAFE)``. ``ErrorCode`` is a ``StrEnum``, so JSON replies and log
lines show the plain code.
"""
from __future__ import annotations

from enum import StrEnum

TRY_AGAIN = "Press a talk button to try again."
CHECK_PACKS = "Reinstall the packs: tolk models install-defaults"


class ErrorCode(StrEnum):
    """Code, summary, action. The value is the code shown to people; keep it stable."""

    def __new__(cls, code: str, summary: str, action: str) -> "ErrorCode":
        member = str.__new__(cls, code)
        member._value_ = code
        member.summary = summary
        member.action = action
        return member

    summary: str
    action: str

    # general
    TOLK_ERROR = "TOLK-ERROR", "Something went wrong.", TRY_AGAIN
    INTERNAL = "INTERNAL", "Internal error (a bug).", "Press a talk button to try again; the log has details."
    ARGS = "ARGS", "Bad command-line arguments.", "See tolk --help."
    CONFIG_BAD = "CONFIG-BAD", "The configuration file is invalid.", "Fix the named setting in the config file."
    SETTINGS_BAD = "SETTINGS-BAD", "A setting has a bad value.", "Choose a value from the menu or the console."
    SCRIPT_BAD = "SCRIPT-BAD", "The input script is invalid.", "Fix the named line of the script."
    FILE_ERROR = "FILE-ERROR", "A file cannot be read or written.", "Check the path and its permissions."
    BUILD_TOOLS_MISSING = ("BUILD-TOOLS-MISSING", "The build tools are not installed here.",
                           "Convert and fetch packs on a PC (pip install tolk[convert]), then copy them over.")
    # model packs
    PACK_MANIFEST = "PACK-MANIFEST", "A model pack's manifest is broken.", CHECK_PACKS
    PACK_INTEGRITY = "PACK-INTEGRITY", "A model pack's files are damaged.", CHECK_PACKS
    PACK_UNSAFE = "PACK-UNSAFE", "A model pack holds something unsafe.", "Use a pack from a trusted source."
    PACK_BROKEN = "PACK-BROKEN", "A new model pack does not load; the one in use stays.", CHECK_PACKS
    PACK_MISSING = "PACK-MISSING", "A model pack is not installed.", CHECK_PACKS
    FETCH_FAILED = "FETCH-FAILED", "Fetching model sources failed.", "Check the pinned sources and try again."
    CONVERT_FAILED = "CONVERT-FAILED", "Converting a model failed.", "See the message; check the source model."
    LANG_UNKNOWN = "LANG-UNKNOWN", "Unknown or unsupported language.", "Choose a language from the menu."
    LANG_SAME = "LANG-SAME", "Source and target are the same language.", "Choose two different languages."
    TEXT_EMPTY = "TEXT-EMPTY", "There is no text to translate.", "Give some text."
    TEXT_TOO_LONG = "TEXT-TOO-LONG", "The text is too long for one turn.", "Send it in shorter parts."
    # the stages of a turn
    NO_SPEECH = "NO-SPEECH", "No speech heard.", "Hold the button while you speak."
    ASR_FAILED = "ASR-FAILED", "Speech recognition failed.", TRY_AGAIN
    MT_FAILED = "MT-FAILED", "Translation failed.", TRY_AGAIN
    MT_NOT_TRANSLATION = ("MT-NOT-TRANSLATION", "The model answered or obeyed instead of translating; a notice was "
                          "said instead of its answer.", "Say it again in other words.")
    TTS_FAILED = "TTS-FAILED", "Speech synthesis failed.", TRY_AGAIN
    TTS_MISSING = "TTS-MISSING", "No voice for this language.", "Install espeak-ng or a voice pack."
    TTS_CRASHED = "TTS-CRASHED", "The voice engine crashed on this text.", "Press a talk button to go on; it restarted."
    # audio
    AUDIO_DEVICE = "AUDIO-DEVICE", "Audio device problem.", "Check the microphone and speaker; Tolk checks again."
    AUDIO_NO_MIC = "AUDIO-NO-MIC", "No microphone found.", "Plug in a microphone; Tolk checks again."
    AUDIO_NO_SPEAKER = "AUDIO-NO-SPEAKER", "No speaker found.", "Plug in a speaker; Tolk checks again."
    AUDIO_BAD = "AUDIO-BAD", "The audio cannot be used.", "Use a mono or stereo speech recording."
    AUDIO_CORRUPT = "AUDIO-CORRUPT", "The audio file cannot be decoded.", "Use a WAV, FLAC, MP3 or OGG file."
    AUDIO_MISSING = "AUDIO-MISSING", "No such audio file.", "Check the path."
    AUDIO_TOO_LONG = "AUDIO-TOO-LONG", "The recording is too long.", "Speak in shorter turns."
    # screen
    UI_FONT = "UI-FONT", "A font is missing.", "Install fonts-noto-core, fonts-noto-cjk and fonts-noto-color-emoji."
    UI_RENDER = "UI-RENDER", "Part of the screen could not be drawn.", "Tolk keeps working; the log has details."
    UI_DISPLAY = "UI-DISPLAY", "The display cannot be used.", "Check the display wiring and [display] config."
    # serial console and control socket
    APPLIANCE_DOWN = "APPLIANCE-DOWN", "The appliance is not running.", "Run: status, or restart the service."
    APPLIANCE_RUNNING = ("APPLIANCE-RUNNING", "Another appliance is running here and holds the control socket.",
                         "Stop it first, or give this one its own socket (TOLK_CONTROL_SOCKET).")
    CONSOLE_USAGE = "CONSOLE-USAGE", "Wrong use of a console command.", "Type: help"
    CONSOLE_UNKNOWN = "CONSOLE-UNKNOWN", "Unknown console command.", "Type: help"
    CONSOLE_SYNTAX = "CONSOLE-SYNTAX", "The command line cannot be parsed.", "Check the quotes."
    CONSOLE_TOO_LONG = "CONSOLE-TOO-LONG", "The input is too long.", "Send a shorter line."
    CONSOLE_BAD_INPUT = "CONSOLE-BAD-INPUT", "The input is not valid text.", "Send UTF-8 text."
    CONSOLE_LOCKED = "CONSOLE-LOCKED", "The console is locked.", "Type: unlock PASSPHRASE"
    CONSOLE_TIMEOUT = "CONSOLE-TIMEOUT", "The appliance did not answer in time.", "Try again; status says more."
    CONSOLE_PORT = "CONSOLE-PORT", "The serial port cannot be opened.", "Check the port name."
    CONSOLE_INTERNAL = "CONSOLE-INTERNAL", "The console hit a bug.", "Try again; the log has details."
    CONFIRM_NEEDED = "CONFIRM-NEEDED", "This needs a confirmation.", "Repeat the command with: yes"
    HISTORY_DAMAGED = ("HISTORY-DAMAGED", "The history file was damaged.",
                       "Nothing to do: it was kept aside and a new one started.")
    HISTORY_OFF = "HISTORY-OFF", "History is switched off.", "Switch it on in the settings."


class TolkError(Exception):
    """Base of every error Tolk shows to a person: a code from :class:`ErrorCode` and a human message."""

    code: ErrorCode = ErrorCode.TOLK_ERROR

    def __init__(self, message: str | None = None, *, code: ErrorCode | None = None) -> None:
        if code is not None:
            if not isinstance(code, ErrorCode):
                raise TypeError(f"error code must be an ErrorCode member, not {code!r}")
            self.code = code
        super().__init__(message if message is not None else self.code.summary)

    @property
    def message(self) -> str:
        """The human message without the code."""
        return str(self.args[0]) if self.args else ""

    @property
    def action(self) -> str:
        """What a person can do about it (from the table)."""
        return self.code.action

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ManifestError(TolkError, ValueError):
    """A pack manifest is missing, malformed or inconsistent."""

    code = ErrorCode.PACK_MANIFEST


class PackIntegrityError(TolkError):
    """A pack's files do not match its manifest (missing, wrong size, wrong hash)."""

    code = ErrorCode.PACK_INTEGRITY


class UnsafePackError(TolkError):
    """A pack contains something that must never be loaded (path escape, link, pickle)."""

    code = ErrorCode.PACK_UNSAFE


class UnsafePathError(UnsafePackError, ManifestError):
    """A manifest names a path that is absolute or climbs out of the pack folder."""

    code = ErrorCode.PACK_UNSAFE


class PackNotFoundError(TolkError, LookupError):
    """No installed pack has the requested id or kind."""

    code = ErrorCode.PACK_MISSING


class UnknownLanguageError(TolkError, KeyError):
    """A language code is not in the registry."""

    code = ErrorCode.LANG_UNKNOWN


class FetchError(TolkError):
    """Obtaining or assembling the default model sources failed."""

    code = ErrorCode.FETCH_FAILED


class ConversionError(TolkError):
    """Turning a source model into a CTranslate2 pack failed."""

    code = ErrorCode.CONVERT_FAILED
