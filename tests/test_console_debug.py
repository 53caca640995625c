"""`debug hang|eat-memory|kill|service`: fault injection for the image test, only with [console] debug = true."""
import signal
import subprocess
import sys
import threading
import time

import pytest

from tolk.device.config import ConfigError, ConsoleConfig, load_config
from tolk.device.console import debug
from tolk.device.console.commands import ApplianceHandle, Console
from tolk.models.store import PackStore
from tests.test_controller import loop_on_thread, make_controller


@pytest.fixture
def live(tmp_path):
    """A controller whose main loop runs on a thread, as in `tolk run`; yields (controller, make_console)."""
    controller, *_ = make_controller(tmp_path)

    def console(debug_on=True, passphrase=None):
        return Console(ApplianceHandle(controller, PackStore(tmp_path / "packs"), debug=debug_on),
                       passphrase=passphrase)

    with loop_on_thread(controller):
        yield controller, console


def test_debug_is_unknown_and_unlisted_unless_the_config_turns_it_on(live):
    _, console = live
    off = console(debug_on=False)
    assert off.execute("debug hang").code == "CONSOLE-UNKNOWN"
    assert "debug" not in off.execute("help").data and "debug hang" not in off.execute("help").text
    assert Console(None).execute("debug kill").code == "CONSOLE-UNKNOWN"  # appliance down: never
    on = console()
    assert "debug" in on.execute("help").data
    assert on.execute("debug").code == "CONSOLE-USAGE" and on.execute("debug eat-memory lots").code == "CONSOLE-USAGE"


def test_debug_needs_the_passphrase(live):
    _, console = live
    locked = console(passphrase="sesame")
    assert locked.execute("debug kill").code == "CONSOLE-LOCKED"
    assert locked.execute("unlock sesame").ok and locked.execute("debug").code == "CONSOLE-USAGE"


def test_config_turns_debug_on_and_checks_its_type(tmp_path):
    assert load_config(None).console.debug is False
    path = tmp_path / "config.toml"
    path.write_text("[console]\ndebug = true\n")
    assert load_config(path).console.debug is True
    with pytest.raises(ConfigError):
        ConsoleConfig(debug="yes")


def test_hang_blocks_the_main_loop_until_released(live):
    controller, console = live
    on = console()
    reply = on.execute("debug hang")
    assert reply.ok and reply.data == {"hung": True}
    answered = threading.Event()
    controller.post(lambda: answered.set())
    assert not answered.wait(0.5)  # the loop is stuck: nothing else it is handed runs
    on.release_hang.set()  # only a test can release it
    assert answered.wait(5)


def test_eat_memory_allocates_touched_blocks_up_to_its_limit(live):
    _, console = live
    on = console()
    reply = on.execute("debug eat-memory 40")
    assert reply.ok and reply.data == {"limit_mb": 40}
    on.eater.join(10)
    assert on.eater.mb == 40 and sum(len(b) for b in on.eater.blocks) == 40 * debug.MB
    assert on.eater.blocks[0][:4] == b"\xa5" * 4
    on.eater.blocks.clear()


def test_kill_answers_first_then_sends_sigkill(live, monkeypatch):
    _, console = live
    sent = []
    done = threading.Event()
    monkeypatch.setattr(debug.os, "kill", lambda pid, sig: (sent.append((pid, sig)), done.set()))
    started = time.monotonic()
    reply = console().execute("debug kill")
    assert reply.ok and not sent  # the reply goes out before the signal
    assert done.wait(5) and time.monotonic() - started >= 0.4
    assert sent == [(reply.data["pid"], signal.SIGKILL)]


def test_kill_self_really_kills_a_process():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        debug.kill_self(delay=0.05, pid=child.pid)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        child.kill()


def test_service_report_parses_systemctl_and_picks_fault_lines(monkeypatch):
    outputs = {"systemctl": "NRestarts=2\nResult=success\nWatchdogUSec=2min\n",
               "journalctl": "[ 10.0] tolk[1]: state booting -> ready\n"
                             "[ 99.1] systemd[1]: tolk.service: Watchdog timeout (limit 2min)!\n"
                             "[ 99.5] systemd[1]: tolk.service: Failed with result 'watchdog'.\n"}

    def run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 0, outputs[cmd[0]], "")

    monkeypatch.setattr(debug.shutil, "which", lambda name: "/usr/bin/" + name)
    report = debug.service_report(run=run)
    assert report["show"]["NRestarts"] == "2"
    assert len(report["events"]) == 2 and "Watchdog timeout" in report["events"][0]
    monkeypatch.setattr(debug.shutil, "which", lambda name: None)
    assert debug.service_report(run=run)["note"] == "systemd is not running here"


def test_status_shows_the_notice_of_each_damaged_file(tmp_path):
    (tmp_path / "history.sqlite").write_bytes(b"garbage" * 500)
    (tmp_path / "settings.json").write_text('{"volume": "0.5"}')
    controller, *_ = make_controller(tmp_path)
    data = Console(ApplianceHandle(controller, PackStore(tmp_path / "packs"))).execute("status").data
    assert "HISTORY-DAMAGED" in data["notice"] and "SETTINGS-BAD" in data["notice"]
