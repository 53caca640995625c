"""One contract for every microphone and speaker: the fakes (FileMicrophone, RecordingSpeaker) and the sounddevice
classes on the virtual sound card (tests/virtual_audio.py)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from tests import virtual_audio as va
from tests.virtual_audio import DEVICE, wait_for, rms, tone
from tolk.audio.devices import FileMicrophone, RecordingSpeaker, SoundDeviceMicrophone, SoundDeviceSpeaker


@pytest.fixture(params=["fake", "sounddevice"])
def mic(request):
    if request.param == "fake":
        yield FileMicrophone(speed=4.0, chunk_seconds=0.05)
    else:
        request.getfixturevalue("virtual_audio")
        made = SoundDeviceMicrophone(DEVICE)
        yield made
        made.stop()


@pytest.fixture(params=["fake", "sounddevice"])
def speaker(request):
    if request.param == "fake":
        yield RecordingSpeaker(rate=16000)
        return
    request.getfixturevalue("virtual_audio")
    made = SoundDeviceSpeaker(DEVICE, linger_seconds=0.05)
    yield made
    made.close()


def test_mic_available_chunks_and_idempotent_start_stop(mic):
    assert mic.available()
    mic.stop()  # stop before start: nothing happens
    first, second = [], []
    lock = threading.Lock()
    mic.start(lambda c: first.append(c))
    mic.start(lambda c: (lock.acquire(), second.append(c), lock.release()))  # restarts with the new callback
    wait_for(lambda: len(second) >= 3)
    mic.stop()
    mic.stop()
    count = len(second)
    time.sleep(0.15)
    assert len(second) == count  # nothing after stop
    for chunk in second:
        assert chunk.dtype == np.float32 and chunk.ndim == 1 and chunk.size == 800  # 50 ms at 16 kHz, mono
    mic.start(second.append)  # and it starts again after a stop
    wait_for(lambda: len(second) > count + 1)
    mic.stop()


def test_speaker_plays_at_once_is_busy_stops_and_applies_volume(speaker):
    assert speaker.available()
    clip = tone(440, 1.0, rate=16000)
    started = time.monotonic()
    speaker.play(clip, 16000)
    assert time.monotonic() - started < 0.1  # queued, never played in the caller
    if isinstance(speaker, SoundDeviceSpeaker):
        assert speaker.busy()  # playing in real time
    speaker.stop()
    wait_for(lambda: not speaker.busy(), timeout=1.0)  # stop() cuts it well before its second ends
    assert time.monotonic() - started < 0.9

    speaker.volume = 0.25
    if isinstance(speaker, RecordingSpeaker):
        speaker.play(tone(440, 0.2, rate=16000), 16000)
        assert abs(rms(speaker.chunks[-1]) - 0.25 * 0.5 / np.sqrt(2)) < 0.01
        assert not speaker.busy()
        return
    recording = va.ACTIVE.record()  # the sink's monitor, recorded by another process
    speaker.play(tone(440, 0.4, rate=16000), 16000)
    wait_for(lambda: not speaker.busy())
    time.sleep(0.2)
    heard = recording.stop()
    loud = heard[np.abs(heard) > 0.02]
    assert loud.size > 16000 * 0.2
    start = int(np.argmax(np.abs(heard) > 0.02))
    assert abs(rms(heard[start + 800:start + 4000]) - 0.25 * 0.5 / np.sqrt(2)) < 0.02

