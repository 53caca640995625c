"""Console commands: one line in, one ``Reply`` out. No shell escape, bounded input, never raises.

Runs inside the appliance process (behind ``server``) with an ``ApplianceHandle``,
or in the console process alone with ``handle=None`` when the appliance is down.
"""
from __future__ import annotations

import hmac
import io
import json
import logging
import os
import shlex
import threading
import time
import unicodedata
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tolk.device import events as ev
from tolk.device.numbers import parse_decimal, parse_whole
from tolk.device.version import tolk_version
from tolk.models import languages
from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

MAX_LINE = 1024


@dataclass(frozen=True)
class Reply:
    ok: bool
    text: str
    data: Any = None
    code: ErrorCode | None = None

    def to_json(self) -> str:
        return json.dumps({"ok": self.ok, "code": self.code, "text": self.text, "data": self.data},
                          ensure_ascii=False, default=str)


def fail(code: ErrorCode, text: str) -> Reply:
    return Reply(False, text, None, code)


def default_audio_dirs() -> tuple[Path, ...]:
    """The data partition's audio folder and the sample clips the image ships."""
    from tolk.models import paths

    return (paths.data_dir() / "audio", Path("/usr/share/tolk/clips"))


@dataclass
class ApplianceHandle:
    """What the console may touch in the running appliance."""

    controller: Any  # device.controller.Controller
    store: Any  # models.store.PackStore
    logs: Any = None  # device.console.logbuffer.RingLogHandler
    started: float = field(default_factory=time.monotonic)
    reboot: Callable[[], None] | None = None
    # folders whose audio files `interpret` may open (nothing else on the device)
    audio_dirs: tuple[Path, ...] = field(default_factory=lambda: default_audio_dirs())
    debug: bool = False  # `debug` fault-injection commands ([console] debug = true; test images only)

    def on_main(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` on the controller's thread (where every state change happens) and return its result."""
        done, box = threading.Event(), {}

        def call() -> None:
            try:
                box["value"] = fn()
            except Exception as err:  # noqa: BLE001 - handed back to the console thread
                box["error"] = err
            finally:
                done.set()

        self.controller.post(call)
        if not done.wait(timeout):
            raise TolkError("the appliance did not answer in time", code=ErrorCode.CONSOLE_TIMEOUT)
        if "error" in box:
            raise box["error"]
        return box.get("value")


COMMANDS = {
    "help": "help [COMMAND] — list commands",
    "status": "status — state, language pair, packs, uptime, CPU temperature, RAM, battery",
    "langs": "langs — the languages and their codes",
    "pair": "pair A B — set the conversation's two languages",
    "voices": "voices — each language's voice, its choices and measured figures",
    "voice": "voice LANG OPTION|default — speak LANG with OPTION (one of its choices in `voices`)",
    "translate": "translate TEXT — translate from language A to B (or: translate --from xx --to yy TEXT)",
    "say": "say TEXT — speak TEXT in language B (or: say --lang xx TEXT)",
    "interpret": "interpret FILE — transcribe and translate an audio file (from the data folder's audio/)",
    "press": "press BUTTON [hold SECONDS] — talk_a talk_b swap menu select up down power (alias: left right)",
    "models": "models list|verify — installed packs; check every file's sha256",
    "log": "log tail [N] [-f] — recent log lines; -f follows",
    "settings": "settings get [KEY] | settings set KEY VALUE",
    "history": "history list [N] | history export | history wipe yes",
    "bench": "bench quick — time one short translation",
    "reboot": "reboot yes — restart the device",
    "shutdown": "shutdown yes — power off",
    "version": "version — firmware and engine versions",
    "json": "json on|off — one JSON object per reply",
    "unlock": "unlock PASSPHRASE — allow commands that change state or read history or the log",
    "debug": "debug hang|eat-memory [MB]|kill|service — faults for the image test (only with [console] debug = true)",
}
PROTECTED = {"pair", "voice", "say", "interpret", "press", "settings set", "history list", "history export", "history wipe",
             "reboot", "shutdown", "translate", "debug", "log"}
BUTTON_ALIASES = {"left": "talk_a", "right": "talk_b", "a": "talk_a", "b": "talk_b"}


def check_line(raw: bytes | str) -> tuple[str | None, Reply | None]:
    """The line as text, or an error reply for bytes no person types."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_LINE:
            return None, fail(ErrorCode.CONSOLE_TOO_LONG, f"line too long ({len(raw)} bytes, limit {MAX_LINE})")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, fail(ErrorCode.CONSOLE_BAD_INPUT, "the line is not valid UTF-8 (line noise?)")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_LINE:
        return None, fail(ErrorCode.CONSOLE_TOO_LONG, f"line too long (limit {MAX_LINE} bytes)")
    bad = [c for c in raw if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c != "\t"]
    if bad:
        return None, fail(ErrorCode.CONSOLE_BAD_INPUT, f"the line holds {len(bad)} control or invalid character(s)")
    return raw.strip(), None


@dataclass
class GuessLimiter:
    """Wrong passphrases cost more each time (0.5 s, 1 s, 2 s … up to 8 s) and, after ``lockout_after`` in a
    row, every try is refused for ``lockout_seconds``. One per process: a new session does not reset it."""

    lockout_after: int = 10
    lockout_seconds: float = 300.0
    failures: int = 0
    locked_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def locked_for(self) -> float:
        return max(0.0, self.locked_until - time.monotonic())

    def failed(self) -> float:
        """Record a wrong guess; returns the delay to serve before answering."""
        with self.lock:
            self.failures += 1
            delay = min(8.0, 0.5 * 2 ** (self.failures - 1))
            if self.failures >= self.lockout_after:
                self.locked_until = time.monotonic() + self.lockout_seconds
                self.failures = 0
            return delay

    def succeeded(self) -> None:
        with self.lock:
            self.failures = 0


PASSPHRASE_GUESSES = GuessLimiter()


class Console:
    """One session: its JSON mode and unlock state, and the commands."""

    def __init__(self, handle: ApplianceHandle | None, passphrase: str | None = None,
                 guesses: GuessLimiter = PASSPHRASE_GUESSES) -> None:
        self.handle = handle
        self.guesses = guesses
        self.passphrase = passphrase or None
        self.unlocked = self.passphrase is None
        self.json_mode = False
        self.release_hang = threading.Event()  # `debug hang` waits on this (set only by tests)

    # -- entry point -------------------------------------------------------------
    def execute(self, raw: bytes | str) -> Reply:
        try:
            line, error = check_line(raw)
            if error:
                return error
            if not line:
                return Reply(True, "")
            try:
                words = shlex.split(line)
            except ValueError as err:
                return fail(ErrorCode.CONSOLE_SYNTAX, f"cannot parse the line: {err}")
            if not words:
                return Reply(True, "")
            name, args = words[0].lower(), words[1:]
            if name not in COMMANDS or (name == "debug" and not self._debug_on()):
                return fail(ErrorCode.CONSOLE_UNKNOWN, f"unknown command '{name[:40]}'; type help")
            sub = f"{name} {args[0]}" if args else name
            if (name in PROTECTED or sub in PROTECTED) and not self.unlocked:
                return fail(ErrorCode.CONSOLE_LOCKED, "this command needs the passphrase: unlock PASSPHRASE")
            return getattr(self, "cmd_" + name)(args)
        except TolkError as err:
            return fail(err.code, err.message)
        except Exception as err:  # noqa: BLE001 - the console never dies on a command
            log.exception("console command failed")
            return fail(ErrorCode.CONSOLE_INTERNAL, f"{type(err).__name__}: {err}")

    def _live(self) -> ApplianceHandle:
        if self.handle is None:
            raise TolkError("the appliance is not running (status says more)", code=ErrorCode.APPLIANCE_DOWN)
        return self.handle

    # -- commands ------------------------------------------------------------------
    def _debug_on(self) -> bool:
        return self.handle is not None and self.handle.debug

    def cmd_help(self, args: list[str]) -> Reply:
        shown = {k: v for k, v in COMMANDS.items() if k != "debug" or self._debug_on()}
        if args and args[0] in shown:
            return Reply(True, shown[args[0]])
        return Reply(True, "\n".join(shown.values()), sorted(shown))

    def cmd_version(self, args: list[str]) -> Reply:
        import ctranslate2

        data = {"tolk": tolk_version(), "ctranslate2": ctranslate2.__version__}
        return Reply(True, " ".join(f"{k} {v}" for k, v in data.items()), data)

    def cmd_json(self, args: list[str]) -> Reply:
        if args not in (["on"], ["off"]):
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["json"])
        self.json_mode = args[0] == "on"
        return Reply(True, f"json {args[0]}", {"json": self.json_mode})

    def cmd_unlock(self, args: list[str]) -> Reply:
        if self.passphrase is None:
            return Reply(True, "no passphrase is set")
        if (wait := self.guesses.locked_for()) > 0:
            return fail(ErrorCode.CONSOLE_LOCKED, f"too many wrong passphrases: try again in {wait:.0f} s")
        if len(args) == 1 and hmac.compare_digest(args[0].encode(), self.passphrase.encode()):
            self.guesses.succeeded()
            self.unlocked = True
            return Reply(True, "unlocked")
        time.sleep(self.guesses.failed())  # slow down guessing, more each time
        return fail(ErrorCode.CONSOLE_LOCKED, "wrong passphrase")

    def cmd_langs(self, args: list[str]) -> Reply:
        rows = [{"code": l.code, "name": l.english_name, "native": l.native_name} for l in languages.LANGUAGES]
        return Reply(True, "\n".join(f"{r['code']:3} {r['name']} ({r['native']})" for r in rows), rows)

    def cmd_status(self, args: list[str]) -> Reply:
        from tolk.device.system import read_health, read_system
        from tolk.models import paths

        system = {**read_system(), **read_health(paths.data_dir())}
        if self.handle is None:
            data = {"appliance": "down", **system}
            return Reply(True, "appliance: down (not running)\n" + _fmt(system), data)
        handle = self.handle
        controller = handle.controller
        packs = [p.id for p in handle.store.installed()]
        data = {"appliance": "running", "state": controller.state.value,
                "pair": [controller.settings.lang_a, controller.settings.lang_b], "mode": controller.settings.mode,
                "packs": packs, "uptime_s": round(time.monotonic() - handle.started, 1), **system}
        if controller.error:
            data["error"] = f"[{controller.error[0]}] {controller.error[1]}"
        if controller.notice:
            data["notice"] = controller.notice
        return Reply(True, _fmt(data), data)

    def cmd_pair(self, args: list[str]) -> Reply:
        if len(args) != 2:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["pair"])
        a, b = (languages.get(x).code for x in args)
        handle = self._live()
        handle.controller.settings.with_changes(lang_a=a, lang_b=b)  # a bad pair fails here, with its code
        handle.controller.set_settings(lang_a=a, lang_b=b)
        handle.on_main(lambda: None)  # returns once the change has been applied (inputs are handled in order)
        return Reply(True, f"pair {a} {b}", {"pair": [a, b]})

    def cmd_voices(self, args: list[str]) -> Reply:
        from tolk.device.machine import voice_of
        from tolk.models.voice_choice import figures_by_option

        model = self._live().controller.model
        figures = figures_by_option()
        rows = []
        for code, options in model.facts.voice_options:
            current = voice_of(model, code) or "no voice"
            measured = figures.get(code, {}).get(current)
            rows.append({"lang": code, "voice": current, "chosen": model.settings.voice(code) is not None,
                         "choices": list(options),
                         "cer": measured.cer if measured else None,
                         "first_audio_s": measured.first_audio_s if measured else None})
        text = "\n".join(
            f"{r['lang']}: {r['voice']}{'' if r['chosen'] else ' (default)'}"
            + (f" · CER {r['cer']:.2f} · first audio {r['first_audio_s']:.2f} s" if r["cer"] is not None else "")
            + f" · choices: {' '.join(r['choices'])}" for r in rows)
        return Reply(True, text or "no language has a choice of voice on this device", {"voices": rows})

    def cmd_voice(self, args: list[str]) -> Reply:
        if len(args) != 2:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["voice"])
        handle = self._live()
        code, option = languages.get(args[0]).code, args[1]
        options = dict(handle.controller.model.facts.voice_options).get(code, ())
        if option != "default" and option not in options:
            return fail(ErrorCode.TTS_MISSING, f"no voice '{option[:40]}' for {code} here; choices: "
                                               f"{' '.join(options) or 'none (one voice only)'}")
        voices = handle.controller.settings.with_voice(code, None if option == "default" else option).voices
        handle.controller.set_settings(voices=voices)
        handle.on_main(lambda: None)  # returns once the change has been applied
        return Reply(True, f"voice {code} {option}", {"lang": code, "voice": option})

    def _turn_events(self, turn, timeout: float = 300) -> list[ev.Event]:
        return turn.collect(timeout=timeout)

    def cmd_translate(self, args: list[str]) -> Reply:
        handle = self._live()
        given, words = _options(args, ("--from", "--to"), "translate")
        source = given.get("--from", handle.controller.settings.lang_a)
        target = given.get("--to", handle.controller.settings.lang_b)
        text = " ".join(words)
        if not text:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["translate"])
        interpreter = handle.controller.interpreter
        events = self._turn_events(interpreter.translate_text(text, source, target))
        return _turn_reply(events, getattr(interpreter, "voices", None))

    def cmd_say(self, args: list[str]) -> Reply:
        from tolk.device.interpreter import check_text

        handle = self._live()
        given, words = _options(args, ("--lang",), "say")
        language = languages.get(given.get("--lang", handle.controller.settings.lang_b)).code
        if not words:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["say"])
        text = " ".join(words)
        check_text(text, handle.controller.interpreter.config.max_text_chars)  # TEXT-EMPTY here, not on the screen
        handle.controller.replay(text, language)
        return Reply(True, f"saying ({language}): {text}", {"language": language, "text": text})

    def cmd_interpret(self, args: list[str]) -> Reply:
        from tolk.audio.clip import load_audio

        if len(args) != 1:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["interpret"])
        handle = self._live()
        settings = handle.controller.settings
        interpreter = handle.controller.interpreter
        path = Path(args[0]).resolve()
        if not any(path.is_relative_to(folder.resolve()) for folder in handle.audio_dirs):
            return fail(ErrorCode.CONSOLE_USAGE, "interpret reads audio files only from "
                        + " or ".join(str(d) for d in handle.audio_dirs))
        audio = load_audio(path, max_seconds=interpreter.config.max_seconds)
        turn = handle.controller.interpreter.interpret(audio, pair=(settings.lang_a, settings.lang_b))
        return _turn_reply(self._turn_events(turn), getattr(interpreter, "voices", None))

    def cmd_press(self, args: list[str]) -> Reply:
        from tolk.device.controller import BUTTONS, ButtonEvent

        if not args or len(args) not in (1, 3) or (len(args) == 3 and args[1] != "hold"):
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["press"])
        button = BUTTON_ALIASES.get(args[0].lower(), args[0].lower())
        if button not in BUTTONS:
            return fail(ErrorCode.CONSOLE_USAGE, f"unknown button '{args[0][:20]}'; buttons: {' '.join(BUTTONS)}")
        seconds = 0.05
        if len(args) == 3:
            seconds = parse_decimal(args[2], "hold (seconds)", 0, 60)
        controller = self._live().controller
        controller.post(ButtonEvent(button, "press"))
        time.sleep(seconds)
        if button == "power" and seconds >= 3:
            controller.post(ButtonEvent(button, "hold"))
        controller.post(ButtonEvent(button, "release"))
        return Reply(True, f"pressed {button} for {seconds:g} s", {"button": button, "seconds": seconds})

    def cmd_models(self, args: list[str]) -> Reply:
        from tolk.models import paths
        from tolk.device.packs_report import cmd_list, cmd_verify
        from tolk.models.store import PackStore

        if args not in (["list"], ["verify"]):
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["models"])
        store = self.handle.store if self.handle else PackStore(paths.packs_dir())
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = cmd_list(store, False) if args == ["list"] else cmd_verify(store, [])
        text = (out.getvalue() + err.getvalue()).strip()
        return Reply(code == 0, text, {"exit": code}, None if code == 0 else ErrorCode.PACK_INTEGRITY)

    def cmd_log(self, args: list[str]) -> Reply:
        handle = self._live()
        if not args or args[0] != "tail" or handle.logs is None:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["log"])
        count, after = 20, 0
        for arg in (a for a in args[1:] if a != "-f"):
            if arg.startswith("after="):
                after = parse_whole(arg[6:], "after")
            else:
                count = parse_whole(arg, "log tail N", 1, 500)
        lines = handle.logs.tail(count, after=after)
        return Reply(True, "\n".join(t for _, t in lines), {"lines": [[n, t] for n, t in lines],
                                                             "last": lines[-1][0] if lines else after,
                                                             "follow": "-f" in args})

    def cmd_settings(self, args: list[str]) -> Reply:
        handle = self._live()
        settings = handle.controller.settings
        if args[:1] == ["get"] and len(args) <= 2:
            data = settings.to_dict() if len(args) == 1 else {args[1]: settings.to_dict().get(args[1])}
            if len(args) == 2 and args[1] not in settings.to_dict():
                return fail(ErrorCode.CONSOLE_USAGE, f"no setting '{args[1][:40]}'; settings: {' '.join(settings.to_dict())}")
            return Reply(True, _fmt(data), data)
        if args[:1] == ["set"] and len(args) == 3:
            key, value = args[1], args[2]
            current = settings.to_dict()
            if key not in current:
                return fail(ErrorCode.CONSOLE_USAGE, f"no setting '{key[:40]}'; settings: {' '.join(current)}")
            typed = _parse_value(value, current[key], key)
            # a bad value fails here, with its code; a good one is posted as stored ("ES" -> "es")
            typed = getattr(handle.controller.settings.with_changes(**{key: typed}), key)
            handle.controller.set_settings(**{key: typed})
            handle.on_main(lambda: None)  # returns once the change has been applied
            return Reply(True, f"{key} = {typed}", {key: typed})
        return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["settings"])

    def cmd_history(self, args: list[str]) -> Reply:
        history = self._live().controller.history
        if history is None:
            return fail(ErrorCode.HISTORY_OFF, "history is not kept on this device")
        if args[:1] == ["list"] and len(args) <= 2:
            count = parse_whole(args[1], "history list N", 1, 200) if len(args) == 2 else 10
            entries = history.recent(count)
            rows = [{"id": e.id, "at": e.at, "from": e.source_lang, "to": e.target_lang, "source": e.source_text,
                     "translation": e.translation} for e in entries]
            return Reply(True, "\n".join(f"#{r['id']} {r['from']}→{r['to']}: {r['source']} → {r['translation']}"
                                         for r in rows) or "(empty)", rows)
        if args == ["export"]:
            exported = history.export_json()
            return Reply(True, exported, json.loads(exported))
        if args == ["wipe", "yes"]:
            history.wipe()
            self._live().controller.history_changed()
            return Reply(True, "history wiped")
        if args == ["wipe"]:
            return fail(ErrorCode.CONFIRM_NEEDED, "this deletes every saved turn: type  history wipe yes")
        return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["history"])

    def cmd_bench(self, args: list[str]) -> Reply:
        if args != ["quick"]:
            return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["bench"])
        handle = self._live()
        started = time.monotonic()
        events = self._turn_events(handle.controller.interpreter.translate_text(
            f"Where is the train station? ({time.time():.0f})", "en", "es"))
        reply = _turn_reply(events)
        seconds = time.monotonic() - started
        return Reply(reply.ok, f"one sentence en→es in {seconds:.2f} s: {reply.text}", {"seconds": seconds},
                     reply.code)

    def _power(self, args: list[str], what: str) -> Reply:
        if args != ["yes"]:
            return fail(ErrorCode.CONFIRM_NEEDED, f"really {what}? type:  {what} yes")
        handle = self._live()
        if what == "reboot":
            if handle.reboot is None:
                return fail(ErrorCode.CONSOLE_USAGE, "reboot works only on the device (tolk run under systemd); "
                                                     "nothing was restarted")
            handle.on_main(handle.reboot)
        else:
            handle.controller.power_off()
        return Reply(True, f"{what} now")

    def cmd_reboot(self, args: list[str]) -> Reply:
        return self._power(args, "reboot")

    def cmd_shutdown(self, args: list[str]) -> Reply:
        return self._power(args, "shutdown")

    def cmd_debug(self, args: list[str]) -> Reply:
        from tolk.device.console import debug

        handle = self._live()
        if args == ["hang"]:  # posted either way: a loop still busy (e.g. its first frame) hangs when it gets there
            hung = debug.hang(handle.controller, self.release_hang, timeout=45)
            return Reply(True, "main loop hung" if hung else "hang posted; the main loop has not reached it in 45 s",
                         {"hung": hung})
        if args[:1] == ["eat-memory"] and len(args) <= 2:
            limit = parse_whole(args[1], "eat-memory MB", 1, 999_999) if len(args) == 2 else None
            eater = debug.MemoryEater(limit)
            eater.start()
            self.eater = eater  # kept reachable: what it holds stays allocated
            what = "until MemoryMax" if limit is None else f"{limit} MB"
            return Reply(True, f"allocating {what}", {"limit_mb": limit})
        if args == ["kill"]:
            debug.kill_self()
            return Reply(True, "SIGKILL to the service in 0.5 s", {"pid": os.getpid()})
        if args == ["service"]:
            report = debug.service_report()
            return Reply(True, _fmt(report["show"]) + "\n" + "\n".join(report["events"]), report)
        return fail(ErrorCode.CONSOLE_USAGE, COMMANDS["debug"])


def _parse_value(text: str, like: Any, key: str) -> Any:
    if isinstance(like, bool):
        if text.lower() not in ("on", "off", "true", "false", "1", "0"):
            raise TolkError(f"'{text[:20]}' is not on/off", code=ErrorCode.CONSOLE_USAGE)
        return text.lower() in ("on", "true", "1")
    if isinstance(like, float):
        return parse_decimal(text, key)  # its range is the setting's own check (SETTINGS-BAD)
    return text


def _options(args: list[str], names: tuple[str, ...], command: str) -> tuple[dict[str, str], list[str]]:
    """Leading ``--name VALUE`` options and the words after them. A missing value (``translate --from`` or
    ``--from --de``) or an unknown ``--word`` is a usage error, never text; ``--`` ends the options, so text that
    starts with two dashes can still be given."""
    given, words = {}, list(args)
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag == "--":
            break
        if flag not in names:
            raise TolkError(f"unknown option '{flag[:20]}' (options: {' '.join(names)}; put -- before text that "
                            f"starts with --). {COMMANDS[command]}", code=ErrorCode.CONSOLE_USAGE)
        if not words or words[0].startswith("--"):
            raise TolkError(f"{flag} needs a language code. {COMMANDS[command]}", code=ErrorCode.CONSOLE_USAGE)
        given[flag] = words.pop(0)
    return given, words


def _fmt(data: dict) -> str:
    return "\n".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in data.items())


def _turn_reply(events: list[ev.Event], voices=None) -> Reply:
    """The turn as a reply: what was heard, the translation and (``speech``) how it was spoken: the voice that spoke
    (as the audio chunks name it; else the option the router picks for the target language, ``voices``) and the
    audio chunks (a neural voice that failed shows as ``fallback`` and its voice as espeak-ng, which spoke instead)."""
    error = next((e for e in events if isinstance(e, ev.TurnError)), None)
    if error:
        return fail(error.code, error.message)
    if any(isinstance(e, ev.NoSpeech) for e in events):
        return fail(ErrorCode.NO_SPEECH, "no speech heard")
    heard = next((e for e in events if isinstance(e, ev.FinalText)), None)
    translation = ev.joined_translation(events)
    target = next((e.language for e in events if isinstance(e, ev.TranslationText)), None)
    data = {"translation": translation, "language": target}
    audio = [e for e in events if isinstance(e, ev.AudioOut)]
    if audio:
        spoken = ev.spoken_voices(events)  # the voice that spoke (espeak-ng when the neural one fell back)
        option = voices.option(target) if voices is not None and target and hasattr(voices, "option") else None
        data["speech"] = {"voice": ", ".join(spoken) if spoken else option, "chunks": len(audio),
                          "seconds": round(sum(a.samples.size / a.sample_rate for a in audio), 2),
                          "sample_rate": audio[0].sample_rate, "fallback": any(a.fallback_voice for a in audio)}
    text = translation
    if heard:
        data.update(heard=heard.text, heard_language=heard.language, confidence=round(heard.confidence, 3))
        text = f"heard ({heard.language}): {heard.text}\ntranslation ({target}): {translation}"
    return Reply(True, text, data)
