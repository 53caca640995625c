"""The sounddevice microphone and speaker on real PortAudio streams, on a virtual sound card (tests/virtual_audio.py):
a known tone recorded, a clip played back, the card unplugged and plugged in again, and streams dying mid-turn."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests.virtual_audio import DEVICE, wait_for, dominant_hz, rms, tone
from tolk.audio.devices import AudioDeviceError, SoundDeviceMicrophone, SoundDeviceSpeaker, rescan
from tolk.models.errors import ErrorCode


class Chunks:
    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []
        self.lock = threading.Lock()

    def __call__(self, chunk: np.ndarray) -> None:
        with self.lock:
            self.chunks.append(chunk)

    def audio(self) -> np.ndarray:
        with self.lock:
            return np.concatenate(self.chunks) if self.chunks else np.zeros(0, dtype=np.float32)


@pytest.fixture
def new_speaker(virtual_audio):
    """SoundDeviceSpeaker(...), closed when the test ends (before the virtual card goes back to its state)."""
    made = []

    def make(*args, **kwargs):
        made.append(SoundDeviceSpeaker(*args, **kwargs))
        return made[-1]

    yield make
    for speaker in made:
        speaker.close()


def test_the_microphone_records_a_known_tone(virtual_audio):
    mic, got = SoundDeviceMicrophone(DEVICE), Chunks()
    assert mic.available()
    mic.start(got)
    try:
        virtual_audio.play(tone(440, 0.8, amplitude=0.5))
        wait_for(lambda: np.count_nonzero(np.abs(got.audio()) > 0.1) > 16000 * 0.5)
        time.sleep(0.1)
    finally:
        mic.stop()
    assert {c.dtype for c in got.chunks} == {np.dtype(np.float32)} and {c.ndim for c in got.chunks} == {1}
    assert {c.size for c in got.chunks} == {800}  # 50 ms blocks at 48 kHz, handed on at 16 kHz
    audio = got.audio()
    loud = audio[np.abs(audio) > 0.1]
    assert loud.size > 16000 * 0.5  # most of the tone arrived
    start = int(np.argmax(np.abs(audio) > 0.1))
    middle = audio[start + 800:start + 800 + 4800]  # 50-350 ms into the tone: all of it recorded
    assert abs(dominant_hz(middle, 16000) - 440) < 5
    blocks = [rms(loud[i:i + 800]) for i in range(0, loud.size - 800, 800)]  # 50 ms blocks of the tone
    assert abs(float(np.median(blocks)) - 0.5 / np.sqrt(2)) < 0.05  # median: a player starved by a busy CPU
    # leaves a gap now and then, the level of the tone itself does not change


def test_the_speaker_plays_a_clip_that_reaches_the_sink(virtual_audio, new_speaker):
    speaker = new_speaker(DEVICE, volume=1.0)
    recording = virtual_audio.record()
    time.sleep(0.1)
    speaker.play(tone(660, 0.6, rate=22050, amplitude=0.5), 22050)  # a Piper-rate clip, resampled to 48 kHz
    assert speaker.busy()
    wait_for(lambda: not speaker.busy())
    time.sleep(0.3)
    heard = recording.stop()
    loud = heard[np.abs(heard) > 0.1]
    assert loud.size > 16000 * 0.4 and speaker.error is None and speaker.failures == 0
    start = int(np.argmax(np.abs(heard) > 0.1))
    middle = heard[start + 800:start + 800 + 4800]
    assert abs(dominant_hz(middle, 16000) - 660) < 5
    blocks = [rms(loud[i:i + 800]) for i in range(0, loud.size - 800, 800)]  # 50 ms blocks of the tone
    assert abs(float(np.median(blocks)) - 0.5 / np.sqrt(2)) < 0.05  # median: a player starved by a busy CPU
    # leaves a gap now and then, the level of the tone itself does not change


def test_unplugged_then_plugged_in_again(virtual_audio, new_speaker):
    mic, speaker = SoundDeviceMicrophone(DEVICE), new_speaker(DEVICE, linger_seconds=0.05)
    assert mic.available() and speaker.available()
    virtual_audio.unplug()
    assert rescan()
    assert not mic.available() and not speaker.available()
    with pytest.raises(AudioDeviceError) as caught:
        mic.start(Chunks())
    assert caught.value.code is ErrorCode.AUDIO_NO_MIC
    speaker.play(tone(440, 0.1), 48000)
    wait_for(lambda: not speaker.busy())
    assert speaker.failures == 1 and speaker.error.code is ErrorCode.AUDIO_NO_SPEAKER and speaker.thread.is_alive()

    virtual_audio.replug()
    assert rescan()
    assert mic.available() and speaker.available()
    got = Chunks()
    mic.start(got)
    try:
        speaker.play(tone(440, 0.3), 48000)
        wait_for(lambda: not speaker.busy())
        wait_for(lambda: np.abs(got.audio()).max(initial=0) > 0.1)
    finally:
        mic.stop()
    assert speaker.failures == 1 and speaker.error is None


def test_the_microphone_stream_dying_mid_turn_is_reported_with_a_code(virtual_audio):
    errors: list[AudioDeviceError] = []
    mic = SoundDeviceMicrophone(DEVICE, on_error=errors.append)
    mic.start(Chunks())
    try:
        time.sleep(0.2)
        virtual_audio.unload_sink()  # the card goes away under the open stream
        wait_for(lambda: errors)
        assert isinstance(errors[0], AudioDeviceError) and errors[0].code is ErrorCode.AUDIO_NO_MIC
        assert mic.error is errors[0] and not mic.available()
    finally:
        mic.stop()  # never raises, even on the dead stream
    assert mic.error is None and len(errors) == 1  # our own stop is not a failure
    virtual_audio.load_sink()
    got = Chunks()
    mic.start(got)
    try:
        virtual_audio.play(tone(300, 0.3))
        wait_for(lambda: np.abs(got.audio()).max(initial=0) > 0.1)
    finally:
        mic.stop()


def test_the_speaker_stream_dying_mid_clip_is_reported_and_the_thread_lives_on(virtual_audio, new_speaker):
    errors: list[AudioDeviceError] = []
    speaker = new_speaker(DEVICE, on_error=errors.append)
    speaker.play(tone(440, 3.0), 48000)
    time.sleep(0.3)
    virtual_audio.unload_sink()
    wait_for(lambda: not speaker.busy())
    assert len(errors) == 1 and errors[0].code is ErrorCode.AUDIO_NO_SPEAKER
    assert "PortAudioError" in errors[0].message and speaker.failures == 1 and speaker.thread.is_alive()
    virtual_audio.load_sink()
    recording = virtual_audio.record()
    speaker.play(tone(440, 0.3), 48000)
    wait_for(lambda: not speaker.busy())
    time.sleep(0.2)
    assert np.abs(recording.stop()).max() > 0.1 and speaker.failures == 1


def test_rescan_keeps_an_open_microphone_and_waits_for_a_playing_speaker(virtual_audio, new_speaker):
    """Hands-free with no speaker: the microphone is open while the controller rescans for the speaker.
    PortAudio must never be terminated under an open stream."""
    mic, got = SoundDeviceMicrophone(DEVICE), Chunks()
    mic.start(got)
    try:
        for _ in range(3):
            assert rescan()  # the mic's stream is closed around the rescan and opened again
        assert mic.available() and mic._stream is not None and mic._stream.active
        before = len(got.chunks)
        virtual_audio.play(tone(440, 0.3))
        wait_for(lambda: np.abs(np.concatenate(got.chunks[before:] or [np.zeros(1)])).max() > 0.1)

        speaker = new_speaker(DEVICE)
        speaker.play(tone(440, 1.0), 48000)
        wait_for(lambda: speaker._playing)
        assert not rescan()  # deferred while a clip plays
        speaker.stop()
        wait_for(lambda: not speaker.busy())
        time.sleep(0.1)
        assert rescan()
    finally:
        mic.stop()


def test_hands_free_with_no_speaker_rescans_without_breaking_the_open_microphone(virtual_audio, tmp_path, new_speaker):
    """Hands-free keeps the microphone open; when the speaker goes missing, the device rescans every retry
    with that stream open (PortAudio is never terminated under it) and recovers when the speaker returns."""
    from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
    from tolk.device.controller import Controller, State
    from tolk.device.history import History
    from tolk.device.inputs import EffectFailed
    from tolk.device.interpreter import Interpreter, InterpreterConfig
    from tolk.device.settings import Settings, SettingsFile

    settings = SettingsFile(tmp_path / "settings.json")
    settings.save(Settings(mode="hands-free"))
    interp = Interpreter(FakeAsr("Good morning."), FakeTranslator(mt_manifest()), FakeVoices(),
                         InterpreterConfig(partial_every_seconds=0))
    mic, speaker = SoundDeviceMicrophone(DEVICE), new_speaker(DEVICE)
    controller = Controller(interp, mic, speaker, settings, History(tmp_path / "history.sqlite"),
                            retry_seconds=0.0, rescan_devices=rescan)
    controller.start()
    try:
        assert controller.state is State.READY
        assert controller.executor.idle()
        assert mic._stream is not None and mic._stream.active  # hands-free: listening all the time
        speaker.device = "tolk-no-such-speaker"  # the speaker is pulled out and a clip fails
        controller.post(EffectFailed(ErrorCode.AUDIO_NO_SPEAKER, "No speaker: playback failed"))
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            controller.step(0.01)  # retry_seconds=0: a rescan on every step, the microphone open throughout
        assert controller.executor.idle()
        assert controller.state is State.ERROR and controller.error[0] == "AUDIO-NO-SPEAKER"
        assert mic._stream is not None and mic._stream.active, mic.error
        assert not any(t.name == "tolk-mic" and not t.is_alive() for t in threading.enumerate())
        speaker.device = DEVICE  # plugged in again
        deadline = time.monotonic() + 5
        while controller.state is not State.READY and time.monotonic() < deadline:
            controller.step(0.01)
        assert controller.state is State.READY and controller.notice == "Audio device found again"
        assert controller.executor.idle() and mic._stream.active
    finally:
        controller.executor.close()
        mic.stop()
        interp.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the threads die on purpose
def test_the_supervisor_restarts_dead_playback_and_capture_threads(virtual_audio, monkeypatch, new_speaker):
    """A thread that dies anyway (a bug, a BaseException) is started again by the executor's supervisor, and
    the device plays and records afterwards."""
    from tolk.device.executor import Executor

    mic, got, calls = SoundDeviceMicrophone(DEVICE), Chunks(), {"n": 0}

    def feed_then_die(chunk):
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("capture thread killed")
        got(chunk)

    mic.start(feed_then_die)
    speaker = new_speaker(DEVICE, volume=1.0)
    executor = Executor.__new__(Executor)  # only its supervisor: no interpreter, settings or history needed
    executor.speaker, executor.mic, executor._next_supervise = speaker, mic, 0.0
    executor.devices = executor.storage = type("W", (), {"alive": lambda self: True})()
    try:
        wait_for(lambda: calls["n"] == 1 and not mic._thread.is_alive())
        with monkeypatch.context() as patch:
            patch.setattr(SoundDeviceSpeaker, "_play_run", lambda self, clip: (_ for _ in ()).throw(SystemExit()))
            speaker.play(tone(440, 0.2), 48000)
            wait_for(lambda: not speaker.thread.is_alive())
        executor.supervise(now=1.0)
        assert speaker.thread.is_alive() and mic._thread.is_alive()
        wait_for(lambda: got.audio().size > 16000 * 0.3)  # capture flows again
        recording = virtual_audio.record()
        speaker.play(tone(440, 0.6, amplitude=0.5), 48000)
        wait_for(lambda: not speaker.busy())
        played = recording.stop()
    finally:
        mic.stop()
        speaker.stop()
    assert np.count_nonzero(np.abs(played) > 0.1) > 16000 * 0.3  # the revived playback thread played the clip
