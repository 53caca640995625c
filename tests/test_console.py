"""The serial console over a real pty with pyserial, against a live controller (fake engines)."""
import json
from importlib import metadata
import logging
import os
import random
import threading
import time

import numpy as np
import pytest
import serial

from tolk.audio.clip import write_wav
from tolk.device.console.commands import ApplianceHandle, Console
from tolk.device.console.logbuffer import RingLogHandler
from tolk.device.console.server import ControlServer
from tolk.device.console.terminal import Session, SocketBackend
from tolk.device.controller import State
from tolk.models.store import PackStore
from tests.packfixtures import make_pack
from tests.test_controller import loop_on_thread, make_controller


class Rig:
    """A live controller loop + control socket + a console Session on a pty opened with pyserial."""

    def __init__(self, tmp_path, passphrase=None, voices=None):
        self.controller, self.mic, self.speaker, self.states = make_controller(tmp_path, text="Good morning.",
                                                                               voices=voices)
        store = PackStore(tmp_path / "packs")
        make_pack(tmp_path / "src")
        store.install_dir(tmp_path / "src")
        self.logs = RingLogHandler()
        import logging
        logging.getLogger("tolk.device").addHandler(self.logs)
        logging.getLogger("tolk.device").setLevel(logging.INFO)
        self.server = ControlServer(ApplianceHandle(self.controller, store, self.logs, audio_dirs=(tmp_path,)),
                                    tmp_path / "control.sock",
                                    passphrase=passphrase).start()
        self.loop = threading.Thread(target=self.controller.run_forever, daemon=True)
        self.loop.start()
        self.master, slave = os.openpty()
        self.port = serial.serial_for_url(os.ttyname(slave), baudrate=115200, timeout=0.05)
        self.backend = SocketBackend(tmp_path / "control.sock")
        self.session = Session(self.port.read, self.port.write, self.backend)
        self.stop = threading.Event()
        self.console = threading.Thread(target=self.session.serve, args=(self.stop.is_set,), daemon=True)
        self.console.start()
        self.read_until(b"tolk> ")
        self.speech = write_wav(tmp_path / "speech.wav", np.full(16000, 0.2, dtype=np.float32), 16000)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def read_until(self, marker: bytes, timeout: float = 20.0) -> bytes:
        out = b""
        deadline = time.monotonic() + timeout
        while marker not in out:
            assert time.monotonic() < deadline, f"no {marker!r} in {out[-400:]!r}"
            import select
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                out += os.read(self.master, 65536)
        return out

    def drain(self, quiet: float) -> bytes:
        import select
        out = b""
        while True:
            ready, _, _ = select.select([self.master], [], [], quiet)
            if not ready:
                return out
            out += os.read(self.master, 65536)

    def command(self, line: str, timeout: float = 20.0) -> str:
        self.send(line.encode() + b"\r")
        raw = self.read_until(b"tolk> ", timeout)
        return raw.decode("utf-8", "replace").replace("\r\n", "\n")

    def json_command(self, line: str, timeout: float = 20.0) -> dict:
        self.send(line.encode() + b"\r")
        raw = b""
        while not raw.endswith(b"\n"):
            raw += self.read_until(b"\n", timeout)
        return json.loads(raw.decode().strip().splitlines()[-1])

    def close(self):
        self.stop.set()
        self.controller.stopped.set()
        self.console.join(2)
        self.loop.join(5)
        self.backend.close()  # the server's connection thread ends when its client hangs up
        self.server.close()
        self.port.close()
        os.close(self.master)


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def test_every_command_answers_in_text(rig):
    out = rig.command("help")
    assert "status" in out and "translate TEXT" in out
    out = rig.command("status")
    assert "state: ready" in out and "pair: en es" in out and "packs: tiny-mt" in out and "uptime_s" in out
    assert "en  English" in rig.command("langs")
    assert "pair de es" in rig.command("pair de es")
    assert rig.controller.settings.lang_a == "de"
    assert "WHERE IS THE STATION?" in rig.command("translate --from en --to es Where is the station?")
    assert "saying (es): Hola" in rig.command("say Hola")
    assert "tiny-mt" in rig.command("models list")
    assert "tiny-mt: OK" in rig.command("models verify")
    out = rig.command(f"interpret {rig.speech}")
    assert "heard (en): Good morning." in out and "GOOD MORNING." in out  # the fake ASR always hears English
    assert "lang_a: de" in rig.command("settings get")
    assert "volume = 0.4" in rig.command("settings set volume 0.4") and rig.controller.settings.volume == 0.4
    assert "error [SETTINGS-BAD]" in rig.command("settings set volume 7")
    assert "(empty)" in rig.command("history list")  # console turns and replays are not conversation history
    rig.controller.history.add("en", "es", "Good morning.", "GOOD MORNING.")
    assert "#1 en→es: Good morning. → GOOD MORNING." in rig.command("history list")
    assert '"translation": "GOOD MORNING."' in rig.command("history export")
    assert "error [CONFIRM-NEEDED]" in rig.command("history wipe")
    assert "history wiped" in rig.command("history wipe yes") and rig.controller.history.count() == 0
    assert "one sentence en→es in" in rig.command("bench quick")
    logging.getLogger("tolk.device.test").info("a marker line for the tail")
    tail = rig.command("log tail 5")
    assert "a marker line for the tail" in tail and len(tail.strip().splitlines()) <= 5 + 2  # lines, echo, prompt
    assert f"tolk {metadata.version('tolk')}" in rig.command("version")
    assert "error [CONFIRM-NEEDED]" in rig.command("reboot")
    assert "error [CONFIRM-NEEDED]" in rig.command("shutdown")
    assert "error [CONSOLE-UNKNOWN]" in rig.command("rm -rf /")
    assert "error [CONSOLE-UNKNOWN]" in rig.command("!sh")


def test_json_mode_is_machine_readable(rig):
    rig.send(b"json on\r")
    first = json.loads(rig.read_until(b"}\n").decode().strip().splitlines()[-1])
    assert first == {"ok": True, "code": None, "text": "json on", "data": {"json": True}}
    status = rig.json_command("status")
    assert status["ok"] and status["data"]["state"] == "ready" and status["data"]["pair"] == ["en", "es"]
    bad = rig.json_command("pair en xx")
    assert not bad["ok"] and bad["code"] == "LANG-UNKNOWN" and "valid codes" in bad["text"]
    translated = rig.json_command("translate Thank you.")
    speech = translated["data"].pop("speech")
    assert translated["data"] == {"translation": "THANK YOU.", "language": "es"}
    # how it was spoken: the fake voices are espeak-like (fallback), one chunk per clause
    assert speech["chunks"] == 1 and speech["fallback"] is True and speech["seconds"] > 0
    assert set(speech) == {"voice", "chunks", "seconds", "sample_rate", "fallback"}


def test_press_left_with_a_fed_clip_drives_a_translation(rig):
    rig.mic.load(rig.speech)
    out = rig.command("press left hold 0.6")
    assert "pressed talk_a for 0.6 s" in out
    deadline = time.monotonic() + 10
    while rig.controller.state is not State.READY or "speaking" not in rig.states:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert rig.states[:5] == ["listening", "transcribing", "translating", "speaking", "ready"][:5] or \
        rig.states[1:6] == ["listening", "transcribing", "translating", "speaking", "ready"]
    assert "state: ready" in rig.command("status")
    assert rig.speaker.seconds > 0


def test_line_editing_history_and_completion(rig):
    rig.send(b"vers\t")
    assert b"ion " in rig.read_until(b"ion ")
    out = rig.read_until(b"tolk> ") if rig.send(b"\r") is None else b""
    assert f"tolk {metadata.version('tolk')}".encode() in out
    rig.send(b"statxx\x7f\x7fus\r")
    assert b"state: ready" in rig.read_until(b"tolk> ")
    rig.send(b"\x1b[A\r")  # up arrow: the last command again
    assert b"state: ready" in rig.read_until(b"tolk> ")
    rig.send(b"version\x1b\r")  # a stray ESC right before Enter: the Enter still submits the line
    assert b"tolk " in rig.read_until(b"tolk> ", timeout=5)


def test_fuzz_random_bytes_and_malformed_commands(rig):
    rng = random.Random(1234)
    words = ["status", "pair", "translate", "say", "press", "models", "log", "settings", "history", "bench",
             "json", "help", "langs", "version", "interpret", "unlock", "xx", "en", "es", "hold", "get", "set",
             "list", "tail", "-f", "\"", "'", "--from", "--to", "0.01", "-1", "nan", "1e9", "left", "menu", "up"]
    inputs = []
    for i in range(1200):
        kind = i % 3
        if kind == 0:
            inputs.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))).replace(b"\x1b", b""))
        elif kind == 1:
            inputs.append(" ".join(rng.choice(words) for _ in range(rng.randrange(1, 6))).encode())
        else:
            inputs.append(rng.choice(words).encode() + bytes(rng.randrange(1, 32) for _ in range(3)))
    for data in inputs:
        if b"json" in data:
            data = data.replace(b"json", b"jsn")  # keep the text protocol for the checks below
        rig.send(data + b"\r")
        rig.read_until(b"tolk> ", timeout=30)
    rig.send(b"\x03")  # random bytes may have left half a line: Ctrl-C clears it
    rig.drain(quiet=1.5)  # every reply has arrived
    out = rig.command("status")
    assert "appliance: running" in out and "state: " in out and "pair: " in out
    assert rig.console.is_alive() and rig.loop.is_alive()
    assert rig.controller.state in (State.READY, State.SPEAKING, State.LISTENING, State.MENU)


def test_status_when_the_appliance_is_down(tmp_path):
    console = Console(None)
    reply = console.execute("status")
    assert reply.ok and reply.data["appliance"] == "down" and "ram_total_mb" in reply.data
    assert console.execute("press left").code == "APPLIANCE-DOWN"
    assert console.execute("langs").ok


def test_passphrase_guards_state_changes(tmp_path):
    rig = Rig(tmp_path, passphrase="sesame")
    try:
        assert "error [CONSOLE-LOCKED]" in rig.command("pair de es")
        assert "error [CONSOLE-LOCKED]" in rig.command("history list")
        assert "state: ready" in rig.command("status")
        assert "error [CONSOLE-LOCKED]" in rig.command("unlock wrong")
        assert "unlocked" in rig.command("unlock sesame")
        assert "pair de es" in rig.command("pair de es")
    finally:
        rig.close()


def test_log_tail_follow_until_a_key(rig):
    import logging

    rig.send(b"log tail 3 -f\r")
    time.sleep(0.3)
    logging.getLogger("tolk.device.test").info("a fresh line for the follower")
    assert b"a fresh line for the follower" in rig.read_until(b"a fresh line for the follower")
    rig.send(b"q")  # any key ends following
    rig.read_until(b"tolk> ")
    assert "state: ready" in rig.command("status")


def test_wrong_passphrases_cost_more_each_time_then_lock_out():
    from tolk.device.console.commands import GuessLimiter

    limiter = GuessLimiter(lockout_after=2, lockout_seconds=60)
    console = Console(None, passphrase="sesame", guesses=limiter)
    started = time.monotonic()
    assert console.execute("unlock a").code == "CONSOLE-LOCKED"
    assert console.execute("unlock b").code == "CONSOLE-LOCKED"
    assert time.monotonic() - started >= 1.5  # 0.5 s, then 1 s
    locked = console.execute("unlock sesame")  # even the right one, during the lockout
    assert not locked.ok and "try again in" in locked.text
    assert Console(None, passphrase="sesame", guesses=limiter).execute("unlock sesame").ok is False  # new session
    limiter.locked_until = 0
    assert console.execute("unlock sesame").ok


def test_reboot_says_so_where_it_cannot_and_reboots_where_it_can(tmp_path):
    controller, *_ = make_controller(tmp_path)
    rebooted = []
    with loop_on_thread(controller):
        without = Console(ApplianceHandle(controller, PackStore(tmp_path / "packs")))
        reply = without.execute("reboot yes")
        assert not reply.ok and "nothing was restarted" in reply.text
        with_hook = Console(ApplianceHandle(controller, PackStore(tmp_path / "packs"),
                                            reboot=lambda: rebooted.append(True)))
        assert with_hook.execute("reboot yes").ok and rebooted == [True]


def test_voices_listed_and_chosen_from_the_console(tmp_path):
    """`voices` shows each language's voice and choices; `voice es kokoro:em_alex` changes it (saved, applied)."""
    from tolk.models.tts import SpeechRouter

    class Engine:
        voices = {"es": ["ef_dora", "em_alex"]}

        def speak(self, text, language, voice=None):
            yield from FakeVoices().speak(text, language)

    class Espeak:
        def speak(self, text, language):
            yield from FakeVoices().speak(text, language)

    router = SpeechRouter({}, Espeak(), Engine(), defaults={"es": "kokoro:ef_dora"})
    rig = Rig(tmp_path, voices=router)
    try:
        rig.send(b"json on\r")
        rig.read_until(b"}\n")
        reply = rig.json_command("voices")
        assert reply["ok"], reply
        listing = reply["data"]["voices"]
        rig.send(b"json off\r")
        rig.read_until(b"tolk> ")
        es = next(row for row in listing if row["lang"] == "es")
        assert es["voice"] == "kokoro:ef_dora" and not es["chosen"]
        assert es["choices"] == ["kokoro:ef_dora", "kokoro:em_alex", "espeak-ng"]
        assert "voice es kokoro:em_alex" in rig.command("voice es kokoro:em_alex")
        assert router.option("es") == "kokoro:em_alex"
        from tests.virtual_audio import wait_for

        saved = tmp_path / "settings.json"  # written by the storage worker, after the change was applied
        wait_for(lambda: saved.exists() and json.loads(saved.read_text())["voices"] == {"es": "kokoro:em_alex"})
        listed = rig.command("voices")  # (with the measured figures when models/voice_figures.json has them)
        assert "es: kokoro:em_alex · " in listed and "choices: kokoro:ef_dora kokoro:em_alex espeak-ng" in listed
        assert "error [TTS-MISSING]" in rig.command("voice es piper")
        assert "error [LANG-UNKNOWN]" in rig.command("voice xx espeak-ng")
        assert "voice es default" in rig.command("voice es default") and router.option("es") == "kokoro:ef_dora"
    finally:
        rig.close()


def test_voices_names_the_voice_that_speaks_never_none(tmp_path):
    """The console said "hi: None" for a language with a choice of voices but no measured default: it shows what the
    router speaks with, and "no voice" where nothing would speak."""
    from tolk.models.tts import SpeechRouter

    class Engine:
        voices = {"es": ["ef_dora", "em_alex"], "hi": ["hf_alpha", "hm_omega"]}

        def speak(self, text, language, voice=None):
            yield from FakeVoices().speak(text, language)

    router = SpeechRouter({}, None, Engine(), defaults={"es": "kokoro:ef_dora"})
    controller, *_ = make_controller(tmp_path, voices=router)
    try:
        reply = Console(ApplianceHandle(controller, PackStore(tmp_path / "packs"))).execute("voices")
        rows = {row["lang"]: row["voice"] for row in reply.data["voices"]}
        assert rows == {"es": "kokoro:ef_dora", "hi": "kokoro:hf_alpha"} == {c: router.option(c) for c in rows}
        assert "None" not in reply.text and "hi: kokoro:hf_alpha (default)" in reply.text
    finally:
        controller.close()
        controller.interpreter.close()
