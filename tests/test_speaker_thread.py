"""The sounddevice speaker's playback thread survives a failing device and never looks idle while it has work."""
import time

import numpy as np

from tolk.audio.devices import SoundDeviceSpeaker
from tests.leaks import closing


def test_a_failing_device_never_kills_the_playback_thread():
    speaker = closing(SoundDeviceSpeaker(device="no-such-device-anywhere"))
    for _ in range(3):
        speaker.play(np.zeros(1600, dtype=np.float32), 16000)
    deadline = time.monotonic() + 10
    while speaker.busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not speaker.busy() and speaker.failures == 3  # each clip failed on its own; the thread lives on
    speaker.play(np.zeros(1600, dtype=np.float32), 16000)
    assert speaker.busy()  # counted from the moment it is queued, not when the thread picks it up
    deadline = time.monotonic() + 10
    while speaker.busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert speaker.failures == 4


def test_stop_drops_what_is_queued():
    speaker = closing(SoundDeviceSpeaker(device="no-such-device-anywhere"))
    for _ in range(50):
        speaker.play(np.zeros(160, dtype=np.float32), 16000)
    speaker.stop()
    deadline = time.monotonic() + 10
    while speaker.busy() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not speaker.busy()


def test_close_ends_the_playback_thread_for_good():
    speaker = SoundDeviceSpeaker(device="no-such-device-anywhere")
    for _ in range(20):
        speaker.play(np.zeros(160, dtype=np.float32), 16000)
    speaker.close()
    assert not speaker.thread.is_alive() and not speaker.busy()  # what was queued is dropped
    speaker.stop()  # after close: harmless, and the supervisor does not start the thread again
    assert not speaker.revive() and not speaker.thread.is_alive()
