"""A virtual sound card for tests: a private PulseAudio daemon with a null sink, reached through ALSA's `pulse` plugin.

PortAudio (so sounddevice, so Tolk's real audio classes) sees it as the ALSA device ``pulse``: what is played
there goes to the null sink, and recording from it records the sink's monitor, so a signal played comes back
as input. Nothing global changes: the daemon lives in a temporary folder (its own XDG_RUNTIME_DIR and HOME) and
only the tests that ask for the ``virtual_audio`` fixture see it (``PULSE_SERVER`` is set for them alone, and
PortAudio lists its devices again on the way in and out).

Debian packages: pulseaudio, pulseaudio-utils, libasound2-plugins (setup.sh installs them). Without them the
tests skip, except with TOLK_REQUIRE_REAL_MODELS=1 (CI), where they fail.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import select
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

DEVICE = "pulse"  # the ALSA plugin's PCM, as PortAudio names it
SINK = "tolk_null"
RATE = 48000
PACKAGES = "pulseaudio pulseaudio-utils libasound2-plugins"
_PLUGIN_GLOB = "/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"
ACTIVE: "PulseDaemon | None" = None  # the daemon of the running test that asked for ``virtual_audio``


def missing() -> str | None:
    """Why the virtual device cannot run here, or None."""
    tools = [t for t in ("pulseaudio", "pactl", "pacat", "parec") if shutil.which(t) is None]
    if tools:
        return f"{', '.join(tools)} not installed"
    if not list(Path("/").glob(_PLUGIN_GLOB.lstrip("/"))):
        return "the ALSA pulse plugin (libasound2-plugins) is not installed"
    return None


def need_virtual_audio(reason: str) -> None:
    message = f"no virtual sound card ({reason}); install: apt-get install {PACKAGES}"
    if os.environ.get("TOLK_REQUIRE_REAL_MODELS") == "1":
        pytest.fail(message)
    pytest.skip(message)


class PulseDaemon:
    """One private PulseAudio server; ``unplug()``/``replug()`` stop and start it (the card goes away)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "run").mkdir(parents=True, exist_ok=True)
        (root / "home").mkdir(exist_ok=True)
        self.socket = root / "run" / "native"
        self.env = dict(os.environ, XDG_RUNTIME_DIR=str(root / "run"), HOME=str(root / "home"),
                        PULSE_SERVER=f"unix:{self.socket}")
        self.env.pop("PULSE_LATENCY_MSEC", None)
        self._daemon: subprocess.Popen | None = None
        self._keepalive: list[subprocess.Popen] = []
        self.players: list[subprocess.Popen] = []

    def start(self) -> None:
        script = self.root / "default.pa"
        script.write_text(f"load-module module-native-protocol-unix socket={self.socket} auth-anonymous=1\n"
                          f"load-module module-null-sink sink_name={SINK} rate={RATE} channels=1\n"
                          f"set-default-sink {SINK}\nset-default-source {SINK}.monitor\n")
        log = open(self.root / "pulseaudio.log", "ab")
        self._daemon = subprocess.Popen(
            ["pulseaudio", "-n", "-F", str(script), "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=no", "--disable-shm=yes", "--log-target=stderr", "--log-level=warning"],
            env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 10
        while self.pactl("info", check=False).returncode != 0:
            if self._daemon.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pulseaudio did not start: {(self.root / 'pulseaudio.log').read_text()[-800:]}")
            time.sleep(0.05)
        self._keep_awake()

    def _keep_awake(self) -> None:
        """A new null sink sleeps for its longest latency (about 2 s) before it looks at its clients, and a
        stream opened meanwhile waits that long for its first period. Wait that out here, once per sink, with a
        low-latency client on each side that stays connected so the sink keeps short periods."""
        for proc in self._keepalive:
            if proc.poll() is None:
                proc.kill()
            proc.wait(5)
        self._keepalive = [subprocess.Popen(
            ["pacat", direction, f"--device={device}", "--latency-msec=20", "--format=s16le", "--rate=8000",
             "--channels=1", "--client-name=tolk-test-keepalive", *path],
            env=self.env, stdout=subprocess.PIPE if not path else subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for direction, device, path in (("--playback", SINK, ["/dev/zero"]), ("--record", f"{SINK}.monitor", []))]
        recorder = self._keepalive[1]
        assert recorder.stdout is not None
        ready, _, _ = select.select([recorder.stdout], [], [], 10)
        if not ready:
            raise RuntimeError("the null sink's monitor gave no audio in 10 s")
        self._drain = threading.Thread(target=lambda out=recorder.stdout: [None for _ in iter(lambda: out.read(4096), b"")],
                                       daemon=True)
        self._drain.start()

    def stop(self) -> None:
        for proc in [*self._keepalive, self._daemon]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self._keepalive, self._daemon = [], None

    unplug, replug = stop, start

    def owned(self) -> list:
        """The daemon, its keep-alive clients and their drain thread: process-wide, restarted by tests that
        unplug the card (tests/leaks.py does not count them as a test's leftovers)."""
        procs = [p for p in (self._daemon, *self._keepalive) if p is not None]
        return [p.pid for p in procs] + [t for t in (getattr(self, "_drain", None),) if t is not None]

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10,
                              check=check)

    def unload_sink(self) -> None:
        """The sink vanishes under its streams (as a USB card pulled mid-turn), the server stays: their next
        read or write fails. (pactl has no kill-sink-input, and a stream moved to a sink that is then removed
        is rescued to the default sink, not failed.)"""
        self.pactl("unload-module", "module-null-sink")

    def load_sink(self) -> None:
        self.pactl("load-module", "module-null-sink", f"sink_name={SINK}", f"rate={RATE}", "channels=1")
        self.pactl("set-default-sink", SINK)
        self.pactl("set-default-source", f"{SINK}.monitor")
        self._keep_awake()

    def play(self, signal: np.ndarray, rate: int = RATE) -> subprocess.Popen:
        """Play float32 mono ``signal`` into the sink from another process (independent of the code tested).
        Do not wait for it: pacat's drain at the end waits out the null sink's long latency (about 2 s); wait
        for the audio to arrive instead. ``stop_players()`` ends them."""
        proc = subprocess.Popen(["pacat", "--playback", f"--device={SINK}", "--format=float32le", f"--rate={rate}",
                                 "--channels=1", "--latency-msec=30"], env=self.env, stdin=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        assert proc.stdin is not None
        proc.stdin.write(np.asarray(signal, dtype="<f4").tobytes())
        proc.stdin.close()
        self.players.append(proc)
        return proc

    def stop_players(self) -> None:
        for proc in self.players:
            if proc.poll() is None:
                proc.kill()
            proc.wait(5)
        self.players.clear()

    def record(self, rate: int = 16000) -> "MonitorRecording":
        """Record the sink's monitor (what reaches the 'speaker') from another process."""
        return MonitorRecording(self, rate)


class MonitorRecording:
    def __init__(self, daemon: PulseDaemon, rate: int) -> None:
        self.rate = rate
        self._file = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(["parec", f"--device={SINK}.monitor", "--format=float32le", f"--rate={rate}",
                                       "--channels=1", "--latency-msec=20"], env=daemon.env, stdout=self._file,
                                      stderr=subprocess.DEVNULL)

    def stop(self) -> np.ndarray:
        self._proc.terminate()
        self._proc.wait(5)
        self._file.seek(0)
        data = self._file.read()
        self._file.close()
        return np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4").copy()


def wait_for(predicate, timeout: float = 5.0) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def dominant_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    return float(np.argmax(spectrum) * rate / signal.size)


def rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64)))) if signal.size else 0.0


def tone(hz: float, seconds: float, rate: int = RATE, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture(scope="session")
def pulse_daemon(tmp_path_factory):
    reason = missing()
    if reason:
        need_virtual_audio(reason)
    daemon = PulseDaemon(Path(tempfile.mkdtemp(prefix="tolk-pa-")))
    try:
        daemon.start()
    except (RuntimeError, OSError) as err:
        need_virtual_audio(str(err))
    from tests.leaks import process_wide

    forget = process_wide(daemon.owned)
    yield daemon
    forget()
    daemon.stop()
    shutil.rmtree(daemon.root, ignore_errors=True)


@pytest.fixture
def virtual_audio(pulse_daemon, monkeypatch):
    """The daemon running with its sink, this process pointed at it and PortAudio's device list fresh."""
    from tolk.audio.devices import rescan

    if pulse_daemon._daemon is None:
        pulse_daemon.start()  # a test before this one unplugged it
    elif pulse_daemon.pactl("list", "short", "sinks", check=False).stdout.find(SINK) < 0:
        pulse_daemon.load_sink()
    for name in ("XDG_RUNTIME_DIR", "PULSE_SERVER"):
        monkeypatch.setenv(name, pulse_daemon.env[name])
    monkeypatch.delenv("PULSE_LATENCY_MSEC", raising=False)
    deadline = time.monotonic() + 3
    while not rescan():  # a speaker of an earlier test may still be closing its stream
        assert time.monotonic() < deadline, "PortAudio could not list its devices again"
        time.sleep(0.05)
    global ACTIVE
    ACTIVE = pulse_daemon
    yield pulse_daemon
    ACTIVE = None
    pulse_daemon.stop_players()
    monkeypatch.undo()
    rescan()  # back to the machine's own devices (none, on CI)
