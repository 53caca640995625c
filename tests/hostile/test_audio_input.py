"""Hostile audio files: missing, empty, garbage, truncated, a folder, NaN samples, hours of compressed silence,
bad length limits, 2-512 channels. Each is refused with its code (or, when valid, downmixed to mono), the file is
left as it was, and the next file or turn works."""
import hashlib
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from tolk.audio.clip import AudioError, AudioTooLongError, load_audio, write_wav
from tolk.device import events as ev
from tests.hostile.helpers import make_interpreter, still_translates


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


def _float_wav(path, samples: np.ndarray, rate: int = 16000):
    """A 32-bit float WAV (format 3), which can hold NaN and infinity."""
    data = samples.astype("<f4").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack(
        "<IHHIIHH", 16, 3, 1, rate, rate * 4, 4, 32) + b"data" + struct.pack("<I", len(data))
    path.write_bytes(header + data)
    return path


def _good(tmp_path):
    return write_wav(tmp_path / "good.wav", np.full(16000, 0.2, dtype=np.float32), 16000)


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _cases(tmp_path):
    tone = (0.3 * np.sin(np.arange(16000) / 16000 * 2 * np.pi * 440)).astype(np.float32)
    good = write_wav(tmp_path / "tone.wav", tone, 16000).read_bytes()
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("this is not audio at all " * 40)
    (tmp_path / "zeros.mp3").write_bytes(b"\x00" * 100)
    (tmp_path / "riff.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    (tmp_path / "header-only.wav").write_bytes(good[:44])
    (tmp_path / "random.ogg").write_bytes(np.random.default_rng(1).bytes(50_000))
    _float_wav(tmp_path / "nan.wav", np.where(np.arange(16000) == 800, np.nan, tone).astype(np.float32))
    _float_wav(tmp_path / "inf.wav", np.where(np.arange(16000) == 800, np.inf, tone).astype(np.float32))
    return {
        "missing.wav": "AUDIO-MISSING", "folder.wav": "AUDIO-MISSING", "empty.wav": "AUDIO-CORRUPT",
        "text.mp3": "AUDIO-CORRUPT", "zeros.mp3": "AUDIO-CORRUPT", "riff.wav": "AUDIO-CORRUPT",
        "header-only.wav": "AUDIO-CORRUPT", "random.ogg": "AUDIO-CORRUPT", "nan.wav": "AUDIO-CORRUPT",
        "inf.wav": "AUDIO-CORRUPT",
    }


CASES = ["missing.wav", "folder.wav", "empty.wav", "text.mp3", "zeros.mp3", "riff.wav", "header-only.wav",
         "random.ogg", "nan.wav", "inf.wav"]


@pytest.mark.parametrize("name", CASES)
def test_a_bad_file_is_refused_with_its_code_and_left_as_it_was(tmp_path, name):
    expected = _cases(tmp_path)[name]
    path = tmp_path / name
    before = _digest(path)
    with pytest.raises(AudioError) as caught:
        load_audio(path, max_seconds=30)
    assert caught.value.code == expected and name in str(caught.value)
    assert _digest(path) == before  # untouched
    assert load_audio(_good(tmp_path), max_seconds=30).size == 16000  # the next file works


def test_hours_of_compressed_silence_stop_at_the_limit_not_in_memory(tmp_path):
    """10 minutes of silence compress to a few kB: the decode stops at the limit, with the code, long before
    the whole file (38 MB as float32 at 16 kHz) is in memory."""
    flac = _silent_flac(tmp_path / "long.flac", 600)
    assert flac.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLongError) as caught:
            load_audio(flac, max_seconds=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.code == "AUDIO-TOO-LONG"
    assert peak < 10_000_000, peak
    assert load_audio(_silent_flac(tmp_path / "short.flac", 2), max_seconds=30).size == 32000


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), float("-inf"), 0, -1])
def test_a_bad_length_limit_is_refused(tmp_path, limit):
    clip = _silent_flac(tmp_path / "short.flac", 1)
    with pytest.raises(AudioError) as caught:
        load_audio(clip, max_seconds=limit)
    assert caught.value.code == "AUDIO-BAD"
    assert load_audio(clip, max_seconds=30).size == 16000


@pytest.mark.parametrize("limit", ["nan", "inf", "0", "-5"])
def test_the_cli_refuses_a_bad_limit_before_loading_models(tmp_path, limit):
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "interpret", str(_good(tmp_path)), "--to", "es",
                           "--max-seconds", limit], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: [AUDIO-BAD]") and "Traceback" not in proc.stderr


def test_the_cli_refuses_a_corrupt_file_before_loading_models(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\x00" * 100)
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "interpret", str(bad), "--to", "es"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("error: [AUDIO-CORRUPT]") and bad.read_bytes() == b"\0" * 100


def test_too_long_speech_in_a_turn_is_refused_and_the_worker_lives_on():
    interp, translator, _ = make_interpreter(max_seconds=1.0)
    events = interp.interpret(np.full(16000 * 2, 0.2, dtype=np.float32), pair=["en", "es"]).collect(timeout=10)
    (error,) = [e for e in events if isinstance(e, ev.TurnError)]
    assert error.code == "AUDIO-TOO-LONG" and "limit" in error.message and translator.calls == []
    turn = interp.interpret(np.full(8000, 0.2, dtype=np.float32), pair=["en", "es"]).collect(10)
    assert any(isinstance(e, ev.TranslationText) for e in turn)
    still_translates(interp)



def _multichannel_wav(path, channels: int, width: int = 2, rate: int = 16000, seconds: float = 1.0):
    """A tone of 0.3 on channel 0 and its copy (or silence: ``width`` 2, odd channels) on the others."""
    import wave

    tone = 0.3 * np.sin(np.arange(int(rate * seconds)) / rate * 2 * np.pi * 440)
    pcm = {1: (tone * 127 + 128).astype("u1"), 2: (tone * 32767).astype("<i2"), 4: (tone * 2**31).astype("<i4")}
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(np.tile(pcm[width][:, None], (1, channels)).tobytes())
    return path


@pytest.mark.parametrize("channels, width, rate", [(2, 2, 16000), (6, 2, 16000), (9, 2, 16000), (32, 2, 16000),
                                                   (64, 2, 16000), (9, 1, 8000), (32, 4, 44100), (255, 2, 16000),
                                                   (512, 2, 16000)])
def test_valid_multichannel_audio_is_downmixed_whatever_the_count(tmp_path, channels, width, rate):
    """9, 32 and 64 channels were AUDIO-CORRUPT (FFmpeg has no mixing matrix for them), and FFmpeg's matrices for
    6-16 channels peaked at 1.0-2.2 from a 0.3 tone. Every count up to FFmpeg's 512 is now the channels' average:
    one second of mono at 16 kHz, at the tone's level."""
    path = _multichannel_wav(tmp_path / f"{channels}ch.wav", channels, width, rate)
    before = _digest(path)
    audio = load_audio(path, max_seconds=30)
    assert audio.dtype == np.float32 and abs(audio.size - 16000) <= 32
    assert 0.28 < float(np.abs(audio).max()) < 0.32
    assert _digest(path) == before


def test_more_channels_than_the_decoder_takes_is_audio_bad_and_a_damaged_one_stays_corrupt(tmp_path):
    over = _multichannel_wav(tmp_path / "600ch.wav", 600, seconds=0.01)
    with pytest.raises(AudioError) as caught:
        load_audio(over, max_seconds=30)
    assert caught.value.code == "AUDIO-BAD" and "600 channels" in str(caught.value)
    damaged = tmp_path / "9ch-damaged.wav"
    data = _multichannel_wav(tmp_path / "9ch.wav", 9).read_bytes()
    damaged.write_bytes(data[:36] + b"garbage!" * 20)  # the fmt chunk, then no data chunk
    with pytest.raises(AudioError) as caught:
        load_audio(damaged, max_seconds=30)
    assert caught.value.code == "AUDIO-CORRUPT"
    assert load_audio(tmp_path / "9ch.wav", max_seconds=30).size == 16000  # the next file works


def test_a_multichannel_clip_is_interpreted_like_a_mono_one(tmp_path):
    interp, translator, _ = make_interpreter()
    audio = load_audio(_multichannel_wav(tmp_path / "9ch.wav", 9, seconds=0.5), max_seconds=30)
    events = interp.interpret(audio, pair=["en", "es"]).collect(timeout=10)
    assert [e.text for e in events if isinstance(e, ev.TranslationText)] == ["GOOD MORNING."]
    still_translates(interp)
