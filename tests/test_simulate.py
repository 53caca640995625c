"""Scripted headless simulation with the real default packs: the acceptance scenario of the appliance."""
import os
import subprocess
import sys

import pytest

from tolk.audio.devices import FileMicrophone, RecordingSpeaker
from tolk.device.appliance import Appliance
from tolk.device.controller import Controller
from tolk.device.history import History
from tolk.device.script import parse_script, run_script
from tolk.device.settings import SettingsFile
from tolk.models.build.phrases import missing_words
from tolk.ui import screens as sc
from tests.leaks import closing

pytestmark = pytest.mark.real_models


def test_scripted_conversation_both_ways(real_interpreter, clips, tmp_path):
    from tolk.ui.outputs import MemoryDisplay
    from tolk.ui.frames import render

    shown = []

    def recording_render(screen, size):
        shown.append(screen)
        return render(screen, size)

    mic, speaker, display = FileMicrophone(speed=1.0), RecordingSpeaker(), MemoryDisplay()  # real time, as spoken
    states = []
    controller = Controller(real_interpreter, mic, speaker, SettingsFile(tmp_path / "settings.json"),
                            History(tmp_path / "history.sqlite"), on_state=lambda old, new: states.append(new.value))
    closing(mic, "stop")
    closing(controller)  # the model stays loaded (session fixture): its workers and the microphone end here
    appliance = Appliance(controller, display, (240, 240), recording_render)
    appliance.controller.start()
    appliance.refresh()
    script = parse_script(f"""
        mic {clips['en']}
        hold talk_a
        wait-mic 60
        release talk_a
        wait-state ready 300
        mic {clips['es']}
        hold talk_b
        wait-mic 60
        release talk_b
        wait-state ready 300
    """)
    run_script(appliance, script, mic)

    listening = [s for s in shown if isinstance(s, sc.ListeningScreen)]
    assert listening and any(s.partial for s in listening), "no partial text was shown while listening"
    results = [s for s in shown if isinstance(s, sc.ResultScreen)]
    to_spanish = [r for r in results if r.listener.code == "es"]
    to_english = [r for r in results if r.listener.code == "en"]
    assert to_spanish and not missing_words(to_spanish[-1].translation, "es", ["estacion"]), to_spanish[-1]
    assert to_english and not missing_words(to_english[-1].translation, "en", ["station"]), to_english[-1]
    assert states.count("listening") == 2 and states.count("speaking") == 2
    assert speaker.seconds > 2.0
    assert len(display.frames) == len(shown) and display.frames[-1].size == (240, 240)
    assert controller.executor.idle(30)  # the second turn's history row is written by the storage worker
    assert [e.target_lang for e in controller.history.recent()] == ["en", "es"]


def test_simulate_command_headless_script(clips, tmp_path, real_store):
    script = tmp_path / "scenario.txt"
    script.write_text("wait-state ready 60\nhold talk_a\nwait-mic 60\nrelease talk_a\nwait-state ready 300\n")
    frames = tmp_path / "frames"
    env = dict(os.environ, TOLK_CONTROL_SOCKET=str(tmp_path / "control.sock"))  # not the one other runs use
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "simulate", "--headless", "--frames", str(frames),
                           "--mic-file", str(clips["en"]), "--mic-speed", "2", "--audio", "files", "--speaker-file",
                           str(tmp_path / "out.wav"), "--script", str(script), "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [line.split()[-1] for line in proc.stdout.splitlines() if "->" in line]
    assert lines[:3] == ["ready", "listening", "transcribing"] and lines[-1] == "ready"
    assert len(list(frames.glob("*.png"))) >= 4 and (tmp_path / "out.wav").stat().st_size > 10000


def test_board_entry_point_runs_and_reports_missing_audio(tmp_path, real_store):
    """`tolk run` with no microphone: it starts, shows AUDIO-NO-MIC, keeps running. The config names devices no
    machine has, so this holds whether or not the machine running the test has a sound card."""
    import os
    import signal
    import time

    config = tmp_path / "config.toml"
    config.write_text(f'[display]\ndriver = "png"\nframes_dir = "{tmp_path / "frames"}"\n'
                      '[audio]\ninput_device = "tolk-test-no-such-mic"\noutput_device = "tolk-test-no-such-speaker"\n')
    env = dict(os.environ, GPIOZERO_PIN_FACTORY="mock", TOLK_CONTROL_SOCKET=str(tmp_path / "control.sock"))
    proc = subprocess.Popen([sys.executable, "-m", "tolk.device.cli", "run", "--config", str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "frames").glob("*.png")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.5)
        time.sleep(2)
        assert proc.poll() is None  # still running
        from tolk.device.console.terminal import SocketBackend

        reply = SocketBackend(tmp_path / "control.sock").execute(b"status")
        assert reply.ok and reply.data["state"] == "error"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_window_keys_filter_x11_auto_repeat():
    """A held key under X11 sends release+press pairs; the window must see one press and one release."""
    from tolk.device.window_sim import RELEASE_SETTLE_MS, HeldKeys

    timers, posted, now = {}, [], {"ms": 0}

    def after(ms, fn):
        timers[len(timers) + 1] = (now["ms"] + ms, fn)
        return len(timers)

    def advance(ms):
        now["ms"] += ms
        for tid, (due, fn) in sorted(timers.items()):
            if due <= now["ms"]:
                del timers[tid]
                fn()

    keys = HeldKeys(posted.append, after, lambda tid: timers.pop(tid, None))
    keys.down("a")
    for _ in range(20):  # 20 auto-repeats, 30 ms apart, release and press at the same instant
        advance(30)
        keys.up("a")
        keys.down("a")
    advance(30)
    keys.up("a")  # the real release
    advance(RELEASE_SETTLE_MS + 1)
    keys.down("l")
    keys.down("l")  # a second press without release (another kind of repeat) is ignored too
    assert [(e.button, e.action) for e in posted] == [("talk_a", "press"), ("talk_a", "release"),
                                                      ("talk_b", "press")]
