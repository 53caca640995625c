"""The `tolk` command misused: a folder for an output file, a bad --script (missing, a folder, bad quote, not
UTF-8, a wait of 'nan' or 1e308, over 64 kB, /dev/zero, an endless pipe), a --mic-file of hours, bad bench
arguments, a second simulator on a live control socket, deep or broken JSON in a pack, an unsafe pack. Each ends
with exit 2 and one coded line, no traceback, before any model loads; files and installed packs are left as they
were."""
import os
import socket
import subprocess
import sys
import threading
import tracemalloc

import numpy as np
import pytest

from tolk.audio.clip import write_wav
from tolk.device.cli import main
from tolk.models.store import PackStore
from tests.packfixtures import make_pack, rewrite_manifest


def tolk(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def clip(tmp_path):
    return write_wav(tmp_path / "in.wav", np.full(16000, 0.2, dtype=np.float32), 16000)


@pytest.mark.parametrize("where", ["folder", "missing-parent"])
def test_interpret_output_that_is_not_a_file_path(capsys, tmp_path, clip, where):
    out = tmp_path / "out" if where == "folder" else tmp_path / "nowhere" / "out.wav"
    if where == "folder":
        out.mkdir()
    code, _, err = tolk(capsys, "interpret", clip, "--to", "es", "-o", out)
    assert code == 2 and err.startswith("error: [FILE-ERROR]") and "Traceback" not in err
    assert (out.is_dir() and not any(out.iterdir())) if where == "folder" else not out.parent.exists()


SCRIPTS = {
    "missing": (None, "FILE-ERROR"),
    "folder": ("<dir>", "FILE-ERROR"),
    "bad-quote": (b'hold talk_a\nwait "unclosed\n', "SCRIPT-BAD"),
    "not-utf8": (b"hold \xff\xfe talk_a\n", "SCRIPT-BAD"),
    "wait-nan": (b"wait nan\n", "SCRIPT-BAD"),
    "wait-inf": (b"wait-mic inf\n", "SCRIPT-BAD"),
    "wait-negative": (b"wait -1\n", "SCRIPT-BAD"),
    "wait-1e308": (b"wait 1e308\n", "SCRIPT-BAD"),  # float() takes it: a wait of 10^308 s
    "wait-over-an-hour": (b"wait 3601\n", "SCRIPT-BAD"),
    "wait-arabic-digits": ("wait ١٢\n".encode(), "SCRIPT-BAD"),
    "wait-underscores": (b"hold talk_a 1_000\n", "SCRIPT-BAD"),
    "over-64-kB": (b"# a comment line\n" * 5000, "SCRIPT-BAD"),
    "unknown-action": (b"rm -rf /\n", "SCRIPT-BAD"),
    "unknown-button": (b"press self_destruct\n", "SCRIPT-BAD"),
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_bad_script_is_refused_before_the_appliance_starts(capsys, tmp_path, monkeypatch, name):
    from tolk.device import cli_appliance

    content, code = SCRIPTS[name]
    script = tmp_path / "s.script"
    if content == "<dir>":
        script.mkdir()
    elif content is not None:
        script.write_bytes(content)
    built = []
    monkeypatch.setattr(cli_appliance, "build", lambda *a, **k: built.append(a) or pytest.fail("built"))
    exit_code, _, err = tolk(capsys, "simulate", "--headless", "--script", script, "--mic-file", tmp_path / "x.wav",
                             "--data-dir", tmp_path / "data")
    assert exit_code == 2 and err.startswith(f"error: [{code}]") and "Traceback" not in err, err
    assert built == [] and not (tmp_path / "data").exists()  # nothing opened, nothing written
    if content not in (None, "<dir>"):
        assert script.read_bytes() == content


@pytest.mark.parametrize("how, code", [("deep", "PACK-MANIFEST"), ("not-json", "PACK-MANIFEST"),
                                       ("escape", "PACK-UNSAFE"), ("huge", "PACK-MANIFEST")])
def test_installing_a_bad_pack_changes_nothing(capsys, tmp_path, how, code):
    packs = tmp_path / "packs"
    make_pack(tmp_path / "good")
    assert tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / "good", "--no-load-test")[0] == 0
    active = PackStore(packs).get("tiny-mt").path
    bad = tmp_path / "bad"
    make_pack(bad, payload=b"\x07" * 64)
    if how == "deep":
        (bad / "manifest.json").write_text('{"a":' * 200000 + "1" + "}" * 200000)
    elif how == "not-json":
        (bad / "manifest.json").write_text('{"id": "tiny-mt", ')
    elif how == "huge":
        (bad / "manifest.json").write_text(" " * 5_000_000 + "{}")
    else:
        rewrite_manifest(bad, files=[{"path": "../../etc/passwd", "size": 1, "sha256": "0" * 64}])
    exit_code, _, err = tolk(capsys, "models", "--packs-dir", packs, "install", bad, "--no-load-test")
    assert exit_code == 2 and err.startswith(f"error: [{code}]") and "Traceback" not in err
    assert PackStore(packs).get("tiny-mt").path == active
    assert tolk(capsys, "models", "--packs-dir", packs, "verify", "tiny-mt")[0] == 0  # still loads and verifies


def test_a_damaged_installed_manifest_does_not_break_listing_the_others(capsys, tmp_path):
    packs = tmp_path / "packs"
    for pack_id in ("pack-a", "pack-b"):
        make_pack(tmp_path / pack_id, pack_id=pack_id)
        assert tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / pack_id, "--no-load-test")[0] == 0
    (PackStore(packs).get("pack-b").path / "manifest.json").write_text("[" * 100000 + "]" * 100000)
    code, out, err = tolk(capsys, "models", "--packs-dir", packs, "list")
    assert "Traceback" not in err and "pack-a" in out
    code, out, err = tolk(capsys, "models", "--packs-dir", packs, "verify", "pack-b")
    assert code == 2 and err.startswith("error: [PACK-MANIFEST]") and "Traceback" not in err


def test_as_a_process_no_traceback_reaches_the_terminal(tmp_path):
    cases = [(["simulate", "--headless", "--script", str(tmp_path / "missing.script")], "FILE-ERROR"),
             (["translate", "", "--from", "en", "--to", "es"], "TEXT-EMPTY"),
             (["interpret", str(tmp_path), "--to", "es"], "AUDIO-MISSING")]
    for args, code in cases:
        proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", *args], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"error: [{code}]")


def test_a_new_version_that_does_not_load_is_never_switched_to(capsys, tmp_path):
    """Right files (sizes and hashes match its manifest) but a model the engine cannot open: the install
    load-tests it, refuses it with PACK-BROKEN and removes it; the version in use stays active and verified."""
    packs = tmp_path / "packs"
    make_pack(tmp_path / "good")
    assert tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / "good", "--no-load-test")[0] == 0
    active = PackStore(packs).get("tiny-mt").path
    make_pack(tmp_path / "new", payload=b"not a CTranslate2 model" * 10)
    exit_code, _, err = tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / "new")
    assert exit_code == 2 and err.startswith("error: [PACK-BROKEN] tiny-mt does not load") and "Traceback" not in err
    assert PackStore(packs).get("tiny-mt").path == active
    assert sorted(p.name for p in (packs / ".versions").iterdir()) == [active.name]  # the broken one is gone
    assert tolk(capsys, "models", "--packs-dir", packs, "verify", "tiny-mt")[0] == 0


def test_a_real_pack_passes_its_load_test_at_install(capsys, tmp_path, real_store):
    """The real Piper voice opens and speaks 'Hello.' before the switch."""
    import shutil

    voice = next(p for p in real_store.installed() if p.manifest.engine.value == "piper")
    shutil.copytree(voice.path, tmp_path / "voice")
    code, out, err = tolk(capsys, "models", "--packs-dir", tmp_path / "packs", "install", tmp_path / "voice")
    assert code == 0 and f"installed {voice.id}" in out, err


def _no_build(monkeypatch):
    from tolk.device import cli_appliance

    built = []
    monkeypatch.setattr(cli_appliance, "build", lambda *a, **k: built.append(a) or pytest.fail("built"))
    return built


def test_a_device_as_script_is_refused_without_reading_it(capsys, tmp_path, monkeypatch):
    """`--script /dev/zero` read without a limit before: a device is refused before it is opened."""
    built = _no_build(monkeypatch)
    code, _, err = tolk(capsys, "simulate", "--headless", "--script", "/dev/zero", "--mic-file", tmp_path / "x.wav",
                        "--data-dir", tmp_path / "data")
    assert code == 2 and err.startswith("error: [SCRIPT-BAD] /dev/zero: not a script file") and "Traceback" not in err
    assert built == [] and not (tmp_path / "data").exists()


def test_an_endless_pipe_as_script_stops_at_the_limit(capsys, tmp_path, monkeypatch):
    """A pipe (`--script <(yes wait 1)`) is read, but only up to 64 kB: then SCRIPT-BAD, the writer sees EPIPE."""
    built = _no_build(monkeypatch)
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    written = []

    def feed():
        try:
            with open(fifo, "wb", buffering=0) as pipe:
                while True:
                    written.append(pipe.write(b"wait 1\n" * 1000))
        except BrokenPipeError:  # the reader closed its end
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    code, _, err = tolk(capsys, "simulate", "--headless", "--script", fifo, "--mic-file", tmp_path / "x.wav",
                        "--data-dir", tmp_path / "data")
    writer.join(10)
    assert code == 2 and err.startswith("error: [SCRIPT-BAD]") and "over 64 kB" in err, err
    assert not writer.is_alive() and sum(written) < 200_000  # the reader stopped; the writer was not drained
    assert built == [] and not (tmp_path / "data").exists()


def test_a_mic_file_of_hours_stops_decoding_at_the_turn_limit(capsys, tmp_path, monkeypatch):
    """`--mic-file` decoded the whole file before: 10 minutes of FLAC silence (a few kB) now stop at the 30 s turn
    limit with AUDIO-TOO-LONG, within 10 MB (the whole file is 38 MB as float32), before any model loads."""
    from tests.hostile.test_audio_input import _silent_flac

    built = _no_build(monkeypatch)
    flac = _silent_flac(tmp_path / "long.flac", 600)
    before = flac.read_bytes()
    tracemalloc.start()
    try:
        code, _, err = tolk(capsys, "simulate", "--headless", "--mic-file", flac, "--data-dir", tmp_path / "data",
                            "--frames", tmp_path / "frames")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 2 and err.startswith("error: [AUDIO-TOO-LONG] long.flac: longer than the 30 s limit"), err
    assert peak < 10_000_000, peak
    assert built == [] and not (tmp_path / "data").exists() and flac.read_bytes() == before


@pytest.mark.parametrize("kind", ["device", "pipe"])
def test_a_mic_file_that_is_a_device_or_a_pipe_is_refused_unread(capsys, tmp_path, monkeypatch, kind):
    built = _no_build(monkeypatch)
    path = "/dev/zero" if kind == "device" else tmp_path / "pipe"
    if kind == "pipe":
        os.mkfifo(path)  # nobody writes: opening it would block for ever
    code, _, err = tolk(capsys, "simulate", "--headless", "--mic-file", path, "--data-dir", tmp_path / "data",
                        "--frames", tmp_path / "frames")
    assert code == 2 and err.startswith(f"error: [AUDIO-MISSING] {path}: not a file"), err
    assert built == [] and not (tmp_path / "data").exists()


BENCH = [["--only", "soak", "--turns", "0"], ["--runs", "-1"], ["--clips", "bogus"], ["--runs", "1e3"],
         ["--turns", "nan"], ["--speech-prompts", "0"], ["--voice-sentences", "١٠"], ["--only", "voices",
         "--voice-languages", "xx"], ["--turns", "99999999"]]


@pytest.mark.parametrize("args", BENCH, ids=[" ".join(a) for a in BENCH])
def test_bad_bench_arguments_are_refused_up_front(capsys, tmp_path, monkeypatch, args):
    """They were accepted and failed later with INTERNAL (after the models had loaded)."""
    from tolk.device.bench import runner, soak

    monkeypatch.setattr(runner, "run_bench", lambda *a, **k: pytest.fail("the bench ran"))
    monkeypatch.setattr(soak, "run_soak", lambda *a, **k: pytest.fail("the soak ran"))
    code, out, err = tolk(capsys, "bench", *args, "-o", tmp_path / "bench")
    assert code == 2 and err.startswith(f"error: [ARGS] tolk bench: argument {args[-2]}"), err
    assert err.count("\n") == 1 and out == "" and "Traceback" not in err  # one coded line
    assert not (tmp_path / "bench").exists()


def test_bad_mic_speed_is_refused_as_a_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "simulate", "--mic-speed", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: [ARGS] tolk simulate: argument --mic-speed")
    assert proc.stderr.count("\n") == 1


def test_a_second_simulator_does_not_take_a_live_control_socket(capsys, tmp_path, monkeypatch, clip):
    """The second `tolk simulate` unlinked the first one's socket and bound its own. Now it exits with
    APPLIANCE-RUNNING before loading models, and the first still answers on the same socket."""
    from tolk.device.console.commands import Reply
    from tolk.device.console.server import ControlServer

    path = tmp_path / "control.sock"
    monkeypatch.setenv("TOLK_CONTROL_SOCKET", str(path))
    first = ControlServer(None, path).start()
    try:
        inode = path.stat().st_ino
        built = _no_build(monkeypatch)
        code, _, err = tolk(capsys, "simulate", "--headless", "--mic-file", clip, "--data-dir", tmp_path / "data",
                            "--frames", tmp_path / "frames")
        assert code == 2 and err.startswith(f"error: [APPLIANCE-RUNNING] {path}: another appliance"), err
        assert built == [] and path.stat().st_ino == inode
        assert _ask(path, "version").startswith('{"ok": true')  # the first appliance's console still answers
    finally:
        first.close()
    assert not path.exists()


def test_a_second_simulator_process_is_refused_while_the_first_holds_the_socket(tmp_path, clip):
    """The real case: two processes. The first (this one) holds the lock and answers; the second exits with one
    coded line before loading models."""
    from tolk.device.console.server import ControlServer

    path = tmp_path / "control.sock"
    first = ControlServer(None, path).start()
    try:
        proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "simulate", "--headless", "--mic-file",
                               str(clip), "--data-dir", str(tmp_path / "data"), "--frames", str(tmp_path / "frames")],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, TOLK_CONTROL_SOCKET=str(path)))
        assert proc.returncode == 2 and proc.stderr.startswith("error: [APPLIANCE-RUNNING]"), proc.stderr
        assert proc.stderr.count("\n") == 1 and _ask(path, "version").startswith('{"ok": true')
    finally:
        first.close()


def test_a_live_socket_without_the_lock_is_not_taken_either(tmp_path):
    """A process that listens on the socket but holds no lock (an older Tolk) is live too."""
    from tolk.device.console.server import SocketClaim
    from tolk.models.errors import TolkError

    path = tmp_path / "control.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen(1)
        with pytest.raises(TolkError) as caught:
            SocketClaim(path)
        assert caught.value.code == "APPLIANCE-RUNNING" and path.exists()


def test_a_stale_socket_of_a_dead_appliance_is_reclaimed(tmp_path):
    """A socket file left by a process that died (bound, never unlinked; no lock held): the next one takes it."""
    from tolk.device.console.server import ControlServer

    path = tmp_path / "control.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()
    assert path.exists()
    server = ControlServer(None, path).start()
    try:
        assert _ask(path, "version").startswith('{"ok": true')
    finally:
        server.close()


def _ask(path, line: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(path))
        conn.sendall(line.encode() + b"\n")
        return conn.makefile("rb").readline().decode()
