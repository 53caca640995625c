"""Reading common audio formats at any rate; resampling; WAV writing."""
import wave

import numpy as np
import pytest

from tolk.audio.clip import AudioError, CorruptAudioError, load_audio, resample, rms_level, write_wav


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
        pytest.skip(f"cannot encode {codec} here: {err}")
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


def test_missing_empty_and_garbage_files(tmp_path):
    with pytest.raises(AudioError, match="no such audio file"):
        load_audio(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(CorruptAudioError):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "text.mp3").write_text("this is not audio at all " * 40)
    with pytest.raises(CorruptAudioError, match="text.mp3"):
        load_audio(tmp_path / "text.mp3")


def _silent_flac(path, seconds: int, rate: int = 8000):
    import av

    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate, layout="mono")
        block = np.zeros((1, rate), dtype=np.int16)
        for _ in range(seconds):
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_a_long_file_is_refused_while_decoding_not_after(tmp_path):
    """10 minutes of silence compress to almost nothing: the decode stops at the limit, with the code."""
    from tolk.audio.clip import AudioTooLongError

    flac = _silent_flac(tmp_path / "long.flac", 600)
    assert flac.stat().st_size < 2_000_000
    with pytest.raises(AudioTooLongError) as caught:
        load_audio(flac, max_seconds=30)
    assert caught.value.code == "AUDIO-TOO-LONG"
    assert load_audio(_silent_flac(tmp_path / "short.flac", 2), max_seconds=30).size == 32000


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), 0, -1])
def test_a_bad_length_limit_is_refused(tmp_path, limit):
    from tolk.audio.clip import AudioError

    with pytest.raises(AudioError):
        load_audio(_silent_flac(tmp_path / "short.flac", 1), max_seconds=limit)
