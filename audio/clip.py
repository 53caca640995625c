"""Audio as numpy arrays: reading any common file format, resampling, writing WAV.

Everything inside Tolk is mono float32 in [-1, 1]; speech recognition runs at
16 kHz. Files are decoded with PyAV (FFmpeg, the same decoder faster-whisper
uses) so WAV, FLAC, MP3, Ogg/Opus and M4A all work at any sample rate.
"""
from __future__ import annotations

import logging
import wave
from pathlib import Path

import numpy as np

from models.errors import TolkError

log = logging.getLogger(__name__)

ASR_RATE = 16000


class AudioError(TolkError):
    code = "AUDIO-BAD"


class CorruptAudioError(AudioError, ValueError):
    code = "AUDIO-CORRUPT"


def load_audio(path: Path, rate: int = ASR_RATE) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``rate`` Hz; a clear error if it is not readable audio."""
    from faster_whisper.audio import decode_audio

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file", code="AUDIO-MISSING")
    try:
        audio = decode_audio(str(path), sampling_rate=rate)
    except Exception as err:  # PyAV raises many error types for damaged input
        raise CorruptAudioError(f"{path.name}: not a readable audio file ({type(err).__name__}: {err})") from err
    if audio.size == 0:
        raise CorruptAudioError(f"{path.name}: the file holds no audio samples")
    return np.ascontiguousarray(audio, dtype=np.float32)


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality resampling (libsoxr)."""
    if from_rate == to_rate or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    import soxr

    return soxr.resample(audio.astype(np.float32, copy=False), from_rate, to_rate).astype(np.float32, copy=False)


def to_int16(audio: np.ndarray) -> np.ndarray:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


def to_float32(pcm16: bytes | np.ndarray) -> np.ndarray:
    samples = np.frombuffer(pcm16, dtype="<i2") if isinstance(pcm16, (bytes, bytearray)) else pcm16
    return samples.astype(np.float32) / 32768.0


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    """Write mono 16-bit PCM WAV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(to_int16(audio).tobytes())
    return path


def rms_level(audio: np.ndarray) -> float:
    """Loudness 0..1 for a level meter (RMS, with a little headroom)."""
    if audio.size == 0:
        return 0.0
    return float(min(1.0, np.sqrt(np.mean(np.square(audio, dtype=np.float64))) * 4.0))
