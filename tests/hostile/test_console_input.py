"""Hostile console input: bytes that are not UTF-8, control characters, over-long lines, bad quoting, unknown
commands, bad arguments, and `interpret` reaching for files outside the audio folders. Each answer is an error
with its code; the console and the appliance go on (state ready, settings and history unchanged)."""
import json
import logging
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
    ("pair en EN", "LANG-SAME"),
    ("pair ES es", "LANG-SAME"),
    ("pair en-US en", "LANG-SAME"),
    ("settings set lang_a ES", "LANG-SAME"),
    ("settings set lang_b en-US", "LANG-SAME"),
    ("settings set lang_a zz-ZZ", "LANG-UNKNOWN"),
    ("translate --from en --to en Hello.", "LANG-SAME"),
    ("translate --from en --to klingon Hello.", "LANG-UNKNOWN"),
    ("translate --from en --to es", "CONSOLE-USAGE"),
    ("translate --from", "CONSOLE-USAGE"),
    ("translate --from --de Hallo", "CONSOLE-USAGE"),
    ("translate --to", "CONSOLE-USAGE"),
    ("translate --form de Hallo", "CONSOLE-USAGE"),
    ("say --lang", "CONSOLE-USAGE"),
    ("say --lang --es hola", "CONSOLE-USAGE"),
    ("translate \u200b\u200c\u2060", "TEXT-EMPTY"),
    ("translate \ufeff", "TEXT-EMPTY"),
    ("translate \u0301\u0308", "TEXT-EMPTY"),
    ("translate \u202e\u2066\u2069", "TEXT-EMPTY"),
    ("say \u200b\u200c\u2060", "TEXT-EMPTY"),
    ("say --lang de \u2060", "TEXT-EMPTY"),
    ("say --lang xx hola", "LANG-UNKNOWN"),
    ("settings set volume 7", "SETTINGS-BAD"),
    ("settings set volume nan", "CONSOLE-USAGE"),
    ("settings set volume inf", "CONSOLE-USAGE"),
    ("settings set volume 1e308", "CONSOLE-USAGE"),
    ("settings set volume \u0660.\u0665", "CONSOLE-USAGE"),
    ("settings set volume 0_5", "CONSOLE-USAGE"),
    ("settings set volume -0.5", "CONSOLE-USAGE"),
    ("history list \u00b2", "CONSOLE-USAGE"),
    ("history list \u0663", "CONSOLE-USAGE"),
    ("history list 1e3", "CONSOLE-USAGE"),
    ("history list -1", "CONSOLE-USAGE"),
    ("history list 0", "CONSOLE-USAGE"),
    ("history list 201", "CONSOLE-USAGE"),
    ("history list 99999999999999999999", "CONSOLE-USAGE"),
    ("history list 5 6", "CONSOLE-USAGE"),
    ("press a hold \u00b2", "CONSOLE-USAGE"),
    ("press a hold nan", "CONSOLE-USAGE"),
    ("press a hold inf", "CONSOLE-USAGE"),
    ("press a hold 1e308", "CONSOLE-USAGE"),
    ("press a hold \u0663", "CONSOLE-USAGE"),
    ("press a hold 61", "CONSOLE-USAGE"),
    ("settings set volume loud", "CONSOLE-USAGE"),
    ("settings set history maybe", "CONSOLE-USAGE"),
    ("settings set mode shout", "SETTINGS-BAD"),
    ("settings set nope 1", "CONSOLE-USAGE"),
    ("history wipe", "CONFIRM-NEEDED"),
    ("json maybe", "CONSOLE-USAGE"),
], ids=lambda v: v[:30] if isinstance(v, str) else repr(v[:12]))
def test_bad_commands_get_their_code_and_change_nothing(console, line, code, tmp_path, caplog):
    con, controller, _ = console
    before = (controller.settings, controller.history.count(), controller.inputs.qsize())
    reply = con.execute(line)
    assert not reply.ok and reply.code == code, reply.text
    assert "Traceback" not in caplog.text and "console command failed" not in caplog.text  # no internal error
    # nothing changed, nothing lost, nothing posted to the main loop (a press, a setting, a replay)
    assert (controller.settings, controller.history.count(), controller.inputs.qsize()) == before
    assert not (tmp_path / "settings.json").exists()  # nothing saved
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


@pytest.mark.parametrize("line", ["log tail \u00b2", "log tail after=\u00b2", "log tail 1e9", "log tail 0", "log tail 501",
                                  "log tail after=-1", "log tail nan", "log tail \u0663"])
def test_log_tail_numbers_are_parsed_strictly(console, line, caplog):
    from tolk.device.console.logbuffer import RingLogHandler

    con, controller, _ = console
    con.handle.logs = RingLogHandler()
    con.handle.logs.emit(logging.makeLogRecord({"msg": "one line"}))
    reply = con.execute(line)
    assert not reply.ok and reply.code == "CONSOLE-USAGE", reply.text
    assert "console command failed" not in caplog.text
    assert con.execute("log tail 5").ok and con.execute("log tail 5 after=0 -f").data["lines"]


def test_history_list_with_a_good_number_still_lists(console):
    con, controller, _ = console
    assert [r["source"] for r in con.execute("history list 1").data] == ["Good morning."]
    assert con.execute("history list").ok and con.execute("history list 200").ok


def test_a_good_code_in_any_form_is_stored_as_the_registry_code(console, tmp_path):
    """`settings set lang_b DE-at` and `pair PT-br EN` are taken as de and pt/en, saved and applied as such."""
    con, controller, _ = console
    reply = con.execute("settings set lang_b DE-at")
    assert reply.ok and reply.data == {"lang_b": "de"}
    controller.step(0.01)
    assert controller.settings.lang_b == "de" and controller.executor.idle()
    assert json.loads((tmp_path / "settings.json").read_text())["lang_b"] == "de"
    assert con.execute("pair PT-br EN").data == {"pair": ["pt", "en"]}
    controller.step(0.01)
    assert (controller.settings.lang_a, controller.settings.lang_b) == ("pt", "en") and controller.executor.idle()
    assert con.execute("settings set lang_a EN-us").code == "LANG-SAME"  # en is lang_b now
    assert json.loads((tmp_path / "settings.json").read_text())["lang_a"] == "pt"  # the refused one is not saved


def test_double_dash_ends_the_options_so_such_text_can_be_translated(console):
    con, controller, _ = console
    reply = con.execute("translate --from en --to es -- --de is a flag")
    assert reply.ok and reply.data["translation"] == "--DE IS A FLAG"
    assert con.execute("translate -5 degrees").data["translation"] == "-5 DEGREES"  # one dash is text
    assert con.execute("translate Hello\u200b.").ok  # an invisible character inside real text is fine


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
        controller.close()
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
