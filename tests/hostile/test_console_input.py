"""Hostile console input: bytes that are not UTF-8, control characters, over-long lines, bad quoting, unknown
commands, bad arguments, and `interpret` reaching for files outside the audio folders. Each answer is an error
with its code; the console and the appliance go on (state ready, settings and history unchanged)."""
import os

import numpy as np
import pytest

from tolk.audio.clip import write_wav
from tolk.device.console.commands import ApplianceHandle, Console
from tolk.models.store import PackStore
from tests.test_console import Rig
from tests.test_controller import make_controller, run_until


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


@pytest.fixture
def console(tmp_path):
    """A console on a started controller (no pty, no loop thread: on_main falls back to a direct call)."""
    controller, *_ = make_controller(tmp_path)
    controller.start()
    controller.history.add("en", "es", "Good morning.", "GOOD MORNING.")
    audio = tmp_path / "data" / "audio"
    audio.mkdir(parents=True)
    write_wav(audio / "ok.wav", np.full(16000, 0.2, dtype=np.float32), 16000)
    handle = ApplianceHandle(controller, PackStore(tmp_path / "packs"), audio_dirs=(audio,))
    handle.on_main = lambda fn, timeout=10.0: fn()
    return Console(handle), controller, audio


def test_bad_bytes_over_the_serial_line(rig):
    before = rig.controller.settings
    rig.send(b"st\xff\xfeatus\r")
    assert b"CONSOLE-BAD-INPUT" in rig.read_until(b"tolk> ")
    rig.send(b"A" * 10_000 + b"\r")
    assert b"CONSOLE-TOO-LONG" in rig.read_until(b"tolk> ")
    rig.send(b"translate \x01\x02\x07 hi\r")
    assert b"CONSOLE-BAD-INPUT" in rig.read_until(b"tolk> ")
    assert "error [CONSOLE-SYNTAX]" in rig.command('translate "unclosed')
    assert "state: ready" in rig.command("status")
    assert rig.controller.settings == before and rig.console.is_alive()


def test_interpret_over_the_serial_line_opens_only_the_audio_folders(rig, tmp_path):
    out = rig.command("interpret /etc/passwd")
    assert "error [CONSOLE-USAGE]" in out and "only from" in out
    out = rig.command(f"interpret {tmp_path}/../../../etc/passwd")
    assert "error [CONSOLE-USAGE]" in out
    assert "state: ready" in rig.command("status")


@pytest.mark.parametrize("line, code", [
    ('translate "unclosed', "CONSOLE-SYNTAX"),
    ("say 'half", "CONSOLE-SYNTAX"),
    ('pair "en es', "CONSOLE-SYNTAX"),
    ("translate \\", "CONSOLE-SYNTAX"),
    (b"status \xff", "CONSOLE-BAD-INPUT"),
    ("status \x1b[31m", "CONSOLE-BAD-INPUT"),
    ("x" * 5000, "CONSOLE-TOO-LONG"),
    ("rm -rf /", "CONSOLE-UNKNOWN"),
    ("pair en", "CONSOLE-USAGE"),
    ("pair en xx", "LANG-UNKNOWN"),
    ("pair en EN", "SETTINGS-BAD"),
    ("translate --from en --to en Hello.", "LANG-SAME"),
    ("translate --from en --to klingon Hello.", "LANG-UNKNOWN"),
    ("translate --from en --to es", "CONSOLE-USAGE"),
    ("say --lang xx hola", "LANG-UNKNOWN"),
    ("settings set volume 7", "SETTINGS-BAD"),
    ("settings set volume nan", "SETTINGS-BAD"),
    ("settings set volume loud", "CONSOLE-USAGE"),
    ("settings set history maybe", "CONSOLE-USAGE"),
    ("settings set mode shout", "SETTINGS-BAD"),
    ("settings set nope 1", "CONSOLE-USAGE"),
    ("history wipe", "CONFIRM-NEEDED"),
    ("json maybe", "CONSOLE-USAGE"),
], ids=lambda v: v[:30] if isinstance(v, str) else repr(v[:12]))
def test_bad_commands_get_their_code_and_change_nothing(console, line, code):
    con, controller, _ = console
    before = (controller.settings, controller.history.count())
    reply = con.execute(line)
    assert not reply.ok and reply.code == code, reply.text
    assert (controller.settings, controller.history.count()) == before  # nothing changed, nothing lost
    assert con.execute("status").data["state"] == "ready"


@pytest.mark.parametrize("where", ["/etc/passwd", "{audio}/../../secret.wav", "{audio}/link.wav", "{audio}/../ok.wav",
                                   "{tmp}/data/audio-evil/x.wav"])
def test_interpret_opens_only_files_inside_the_audio_folder(console, tmp_path, where):
    con, controller, audio = console
    secret = write_wav(tmp_path / "secret.wav", np.full(16000, 0.2, dtype=np.float32), 16000)
    os.symlink(secret, audio / "link.wav")  # a link inside the folder to a file outside it
    (tmp_path / "data" / "audio-evil").mkdir()
    write_wav(tmp_path / "data" / "audio-evil" / "x.wav", np.full(16000, 0.2, dtype=np.float32), 16000)
    reply = con.execute("interpret " + where.format(audio=audio, tmp=tmp_path))
    assert not reply.ok and reply.code == "CONSOLE-USAGE" and "only from" in reply.text
    assert controller.history.count() == 1
    ok = con.execute(f"interpret {audio / 'ok.wav'}")  # the audio folder itself still works
    assert ok.ok and "GOOD MORNING." in ok.text


@pytest.mark.parametrize("name, code", [("missing.wav", "AUDIO-MISSING"), ("garbage.wav", "AUDIO-CORRUPT"),
                                        ("sub", "AUDIO-MISSING")])
def test_interpret_of_a_bad_file_in_the_audio_folder(console, name, code):
    con, controller, audio = console
    (audio / "garbage.wav").write_bytes(b"not audio" * 100)
    (audio / "sub").mkdir()
    reply = con.execute(f"interpret {audio / name}")
    assert not reply.ok and reply.code == code
    assert con.execute(f"interpret {audio / 'ok.wav'}").ok and controller.history.count() == 1


# ---- the log: behind the passphrase, and free of conversation text ----------------------------------------------

@pytest.fixture
def logged_console(tmp_path):
    """A passphrase console on a started controller whose translator is the real LlmTranslator over a scripted
    generator (tests/test_guard.py) that refuses first, so the guard's warnings name the utterance and the answer;
    the console's in-RAM log takes everything from INFO up, as on the device."""
    import logging

    from tolk.audio.devices import FileMicrophone, RecordingSpeaker
    from tolk.device.console.logbuffer import RingLogHandler
    from tolk.device.controller import Controller
    from tolk.device.history import History
    from tolk.device.interpreter import Interpreter, InterpreterConfig
    from tolk.device.settings import SettingsFile
    from tolk.models import logtext
    from tests.fakes import FakeAsr, FakeVoices
    from tests.test_guard import fake_translator

    translator = fake_translator("I'm sorry, I can't help with that.", "¿Dónde está la farmacia?")
    interp = Interpreter(FakeAsr("Good morning."), translator, FakeVoices(), InterpreterConfig(partial_every_seconds=0))
    controller = Controller(interp, FileMicrophone(speed=20.0), RecordingSpeaker(),
                            SettingsFile(tmp_path / "settings.json"), History(tmp_path / "history.sqlite"),
                            retry_seconds=0.0)
    controller.start()
    logs = RingLogHandler()
    root = logging.getLogger()
    root.addHandler(logs)
    level, root.level = root.level, logging.INFO
    handle = ApplianceHandle(controller, PackStore(tmp_path / "packs"), logs)
    handle.on_main = lambda fn, timeout=10.0: fn()
    try:
        yield Console(handle, passphrase="sesame"), controller, logs
    finally:
        root.removeHandler(logs)
        root.setLevel(level)
        logtext.log_conversations(False)
        interp.close()


def test_log_tail_needs_the_passphrase(logged_console):
    """`log tail` answered without the passphrase, and the log held what was said."""
    console, controller, logs = logged_console
    import logging

    logging.getLogger("tolk.device.test").warning("a line only the unlocked may read")
    locked = console.execute("log tail 5")
    assert not locked.ok and locked.code == "CONSOLE-LOCKED" and "only the unlocked" not in locked.text
    assert not console.execute("log tail 5 -f").ok
    assert console.execute("unlock sesame").ok
    tail = console.execute("log tail 5")
    assert tail.ok and "a line only the unlocked may read" in tail.text  # nothing was lost while locked
    assert controller.state.value == "ready"


def test_the_log_holds_no_conversation_text_unless_the_debug_setting_says_so(logged_console, tmp_path):
    console, controller, logs = logged_console
    assert console.execute("unlock sesame").ok
    reply = console.execute("translate --from en --to es Where is the pharmacy?")
    assert reply.ok and "¿Dónde está la farmacia?" in reply.text  # the guard retried: the turn is not lost
    lines = "\n".join(text for _, text in logs.tail(500))
    assert "not a translation (refusal): <22 chars en> -> <11 chars es>" in lines  # "I'm sorry, " held back
    assert "pharmacy" not in lines and "sorry" not in lines and "farmacia" not in lines
    assert console.execute("settings get log_conversations").data == {"log_conversations": False}

    assert console.execute("settings set log_conversations true").ok  # the person's debug choice, saved
    run_until(controller, lambda: controller.settings.log_conversations)
    assert console.execute("translate --from en --to es Where is the chemist?").ok
    lines = "\n".join(text for _, text in logs.tail(500))
    assert "not a translation (refusal): 'Where is the chemist?' -> \"I'm sorry, \"" in lines
    saved = tmp_path / "settings.json"
    run_until(controller, lambda: saved.is_file() and '"log_conversations": true' in saved.read_text())
    assert console.execute("settings set log_conversations false").ok
    run_until(controller, lambda: not controller.settings.log_conversations)
    logs.lines.clear()
    assert console.execute("translate --from en --to es Where is the doctor?").ok
    lines = "\n".join(text for _, text in logs.tail(500))
    assert "not a translation (refusal): <20 chars en>" in lines and "doctor" not in lines


@pytest.mark.parametrize("value", ["yes", "2", "maybe"])
def test_the_debug_setting_takes_only_true_or_false(logged_console, value):
    console, controller, _ = logged_console
    assert console.execute("unlock sesame").ok
    reply = console.execute(f"settings set log_conversations {value}")
    assert not reply.ok and reply.code in ("SETTINGS-BAD", "CONSOLE-USAGE")
    assert controller.settings.log_conversations is False
