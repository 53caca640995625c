"""Reading common audio formats at any rate; resampling; WAV writing."""
import wave

import numpy as np
import pytest

from tests.conftest import need
from tolk.audio.clip import load_audio, resample, rms_level, write_wav


def _tone(rate, seconds=1.0, freq=440.0):
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _encode(path, audio, rate, codec):
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray((audio * 32767).astype(np.int16)[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


@pytest.mark.parametrize("name, codec, rate", [("a.flac", "flac", 44100), ("a.ogg", "libopus", 48000),
                                               ("a.mp3", "libmp3lame", 22050)])
def test_common_formats_and_rates_decode_to_16k_mono(tmp_path, name, codec, rate):
    try:
        _encode(tmp_path / name, _tone(rate, 2.0), rate, codec)
    except Exception as err:  # an FFmpeg build without this encoder
        need(f"cannot encode {codec} here: {err}")
    audio = load_audio(tmp_path / name)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / 16000 - 2.0) < 0.1
    assert 0.15 < np.sqrt(np.mean(audio ** 2)) < 0.25  # the tone survived (RMS of 0.3 sine ~ 0.21)


def test_wav_round_trip_and_resample(tmp_path):
    path = write_wav(tmp_path / "t.wav", _tone(22050), 22050)
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
    audio = load_audio(path)
    assert abs(audio.size - 16000) < 50
    assert resample(_tone(48000), 48000, 16000).size == 16000
    assert rms_level(np.zeros(10, dtype=np.float32)) == 0.0 and 0 < rms_level(_tone(16000)) <= 1
