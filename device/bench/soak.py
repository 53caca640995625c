"""The soak: hundreds of turns through the whole appliance, watching for leaks and stuck states.

The real controller, executor and interpreter (the real packs unless a test passes its own interpreter) run
with a clip-playing microphone and a speaker that counts what it plays. Every cycle of ten turns mixes
push-to-talk on both sides, a turn cancelled by a new press, a hands-free turn, the microphone unplugged and
plugged back, and a replay from the history menu. Measured: RSS after warm-up and at the end, open file
descriptors and threads, the state left behind, and the bytes the process wrote (all of it settings and
history: the data partition's share of SD-card wear).
"""
from __future__ import annotations

import json
import logging
import os
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from tolk.audio.clip import resample, write_wav
from tolk.audio.devices import FileMicrophone
from tolk.device.bench.metrics import status_mb
from tolk.device.controller import ButtonEvent, Controller
from tolk.device.history import History
from tolk.device.settings import SettingsFile
from tolk.device.state import State

log = logging.getLogger(__name__)
CYCLE = ("ptt_a", "ptt_b", "ptt_a", "cancel", "ptt_a", "hands_free", "ptt_b", "unplug", "ptt_a", "replay")
WARMUP_TURNS = 30


class CountingSpeaker:
    """A speaker that plays nowhere but keeps count (keeping the audio would itself look like a leak)."""

    def __init__(self) -> None:
        self.volume, self.plugged, self.seconds, self.clips = 0.8, True, 0.0, 0

    def available(self) -> bool:
        return self.plugged

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.seconds += samples.size / rate
        self.clips += 1

    def stop(self) -> None:
        pass

    def busy(self) -> bool:
        return False


@dataclass
class SoakReport:
    turns: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rss_mb_after_warmup: float = 0.0
    rss_mb_end: float = 0.0
    rss_growth_percent: float = 0.0
    fds_after_warmup: int = 0
    fds_end: int = 0
    threads_after_warmup: int = 0
    threads_end: int = 0
    final_state: str = ""
    final_error: str = ""
    bytes_written_per_100_turns: int = 0
    history_rows: int = 0
    speech_seconds: float = 0.0
    rss_mb: list[float] = field(default_factory=list)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _written() -> int:
    """Bytes this process has handed to write() and friends (/proc/self/io wchar)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


class Soak:
    def __init__(self, interpreter, clips: dict[str, Path], data_dir: Path, mic_speed: float = 4.0,
                 timeout: float = 120.0, warmup: int = WARMUP_TURNS) -> None:
        self.warmup = warmup
        self.mic, self.speaker = FileMicrophone(speed=mic_speed), CountingSpeaker()
        self.clips, self.timeout = clips, timeout
        self.controller = Controller(interpreter, self.mic, self.speaker, SettingsFile(data_dir / "settings.json"),
                                     History(data_dir / "history.sqlite"), retry_seconds=0.2)
        self.report = SoakReport()

    def _until(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"soak: waiting for {what}, state {self.controller.state.value}")
            self.controller.step(0.01)

    def _press(self, button: str, action: str = "press") -> None:
        self.controller.post(ButtonEvent(button, action))
        self.controller.step(0.0)

    def _idle(self) -> None:
        self._until(lambda: self.controller.state is State.READY and self.controller.turn is None, "ready")

    def _talk(self, side: str) -> None:
        button = f"talk_{side}"
        self.mic.load(self.clips["en" if side == "a" else "es"])
        self._press(button)
        self._until(lambda: self.mic.clip_done.is_set(), "the clip to play")
        self._press(button, "release")
        self._idle()

    def ptt_a(self) -> None:
        self._talk("a")

    def ptt_b(self) -> None:
        self._talk("b")

    def cancel(self) -> None:
        self.mic.load(self.clips["en"])
        self._press("talk_a")
        self._until(lambda: self.controller.state is State.LISTENING, "listening")
        self._press("talk_b")  # a new press cancels the running turn
        self._press("talk_b", "release")
        self._idle()

    def hands_free(self) -> None:
        self.controller.set_settings(mode="hands-free")
        self.mic.load(self.clips["hands_free"])
        self._until(lambda: self.controller.state is not State.READY, "speech detected")
        self._idle()
        self.controller.set_settings(mode="push-to-talk")
        self.controller.step(0.0)

    def unplug(self) -> None:
        self.mic.plugged = False
        self._press("talk_a")
        self._until(lambda: self.controller.state is State.ERROR, "the no-microphone screen")
        self.mic.plugged = True
        self._until(lambda: self.controller.state is State.READY, "found again")

    def replay(self) -> None:
        for name in ("menu", *["down"] * 5, "select"):  # Settings -> History
            self._press(name)
        self._until(lambda: self.controller.model.menu and self.controller.model.menu[-1].title == "History",
                    "the history menu")
        self._press("down")
        self._press("select")  # the newest turn is spoken again
        self._until(lambda: self.controller.turn is None and self.controller.state is State.READY, "replayed")

    def run(self, turns: int, progress: Callable[[str], None] = lambda _: None) -> SoakReport:
        r, c = self.report, self.controller
        c.start()
        self._idle()
        started, written = time.monotonic(), _written()
        for n in range(turns):
            kind = CYCLE[n % len(CYCLE)]
            getattr(self, kind)()
            r.outcomes[kind] = r.outcomes.get(kind, 0) + 1
            r.turns += 1
            r.rss_mb.append(round(status_mb("VmRSS"), 1))
            if r.turns == self.warmup:
                r.fds_after_warmup, r.threads_after_warmup = _fds(), _threads()
            if n % 10 == 9:
                progress(f"soak: {r.turns}/{turns} turns, RSS {r.rss_mb[-1]:.0f} MB")
        c.executor.idle()
        for _ in range(20):
            c.step(0.01)
        r.seconds = round(time.monotonic() - started, 1)
        warm = r.rss_mb[self.warmup - 1:self.warmup + 19] or r.rss_mb[:1]
        r.rss_mb_after_warmup = round(statistics.median(warm), 1)
        r.rss_mb_end = round(statistics.median(r.rss_mb[-20:]), 1)
        r.rss_growth_percent = round(100 * (r.rss_mb_end - r.rss_mb_after_warmup) / r.rss_mb_after_warmup, 1)
        r.fds_end, r.threads_end = _fds(), _threads()
        r.final_state = c.state.value
        r.final_error = f"[{c.error.code}] {c.error.message}" if c.error else ""
        r.bytes_written_per_100_turns = int((_written() - written) * 100 / max(1, r.turns))
        r.history_rows = c.history.count() if c.history else 0
        r.speech_seconds = round(self.speaker.seconds, 1)
        return r

    def close(self) -> None:
        self.controller.executor.close()
        self.mic.stop()


def make_clips(folder: Path, english: np.ndarray, spanish: np.ndarray, rate: int) -> dict[str, Path]:
    """The soak's microphone clips (16 kHz): one per side, and a hands-free one with silence around it."""
    folder.mkdir(parents=True, exist_ok=True)
    en, es = resample(english, rate, 16000), resample(spanish, rate, 16000)
    quiet = np.zeros(8000, dtype=np.float32)
    return {"en": write_wav(folder / "soak-en.wav", en, 16000), "es": write_wav(folder / "soak-es.wav", es, 16000),
            "hands_free": write_wav(folder / "soak-hands-free.wav", np.concatenate([quiet, en, quiet, quiet]),
                                    16000)}


def write_report(report: SoakReport, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(asdict(report), indent=1))
    lines = [
        f"# Soak: {report.turns} turns in {report.seconds:.0f} s",
        "",
        "| measure | after warm-up (turn 30) | end |",
        "|---|---|---|",
        f"| RSS (median of 20 turns) | {report.rss_mb_after_warmup:.0f} MB | {report.rss_mb_end:.0f} MB "
        f"({report.rss_growth_percent:+.1f} %) |",
        f"| open file descriptors | {report.fds_after_warmup} | {report.fds_end} |",
        f"| threads | {report.threads_after_warmup} | {report.threads_end} |",
        "",
        f"Turns: {', '.join(f'{k} {v}' for k, v in sorted(report.outcomes.items()))}. Final state: "
        f"{report.final_state}{' ' + report.final_error if report.final_error else ''}. History rows: "
        f"{report.history_rows}. Speech played: {report.speech_seconds:.0f} s.",
        f"Bytes written by the process (settings and history; no frames, logs in RAM): "
        f"{report.bytes_written_per_100_turns / 1024:.0f} KiB per 100 turns.",
    ]
    path = out / "soak.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_soak(store, turns: int, out: Path, progress: Callable[[str], None] = print) -> Path:
    """The soak on the installed default packs (``tolk bench --only soak``)."""
    import tempfile

    from tolk.device.interpreter import InterpreterConfig
    from tolk.device.loader import load_interpreter
    from tolk.models.tts import EspeakTts

    interpreter = load_interpreter(store, InterpreterConfig())
    speech = list(interpreter.voices.speak("Where is the train station?", "en"))
    english, rate = np.concatenate([s.audio for s in speech]), speech[0].sample_rate
    (spanish,) = EspeakTts(words_per_minute=150).speak("¿Dónde está la estación?", "es")
    spanish_audio = resample(spanish.audio, spanish.sample_rate, rate)
    with tempfile.TemporaryDirectory(prefix="tolk-soak-") as tmp:
        clips = make_clips(Path(tmp) / "clips", english, spanish_audio, rate)
        soak = Soak(interpreter, clips, Path(tmp) / "data")
        try:
            report = soak.run(turns, progress)
        finally:
            soak.close()
            interpreter.close()
    log.info("soak done: %s", {k: v for k, v in asdict(report).items() if k != "rss_mb"})
    return write_report(report, out)

