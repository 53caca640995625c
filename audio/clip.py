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

from tolk.models.errors import ErrorCode, TolkError
from tolk.models.pcm import ASR_RATE, to_float32, to_int16

__all__ = ["ASR_RATE", "AudioError", "CorruptAudioError", "load_audio", "resample", "rms_level", "to_float32",
           "to_int16", "write_wav"]
log = logging.getLogger(__name__)


class AudioError(TolkError):
    code = ErrorCode.AUDIO_BAD


class CorruptAudioError(AudioError, ValueError):
    code = ErrorCode.AUDIO_CORRUPT


def load_audio(path: Path, rate: int = ASR_RATE) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``rate`` Hz; a clear error if it is not readable audio."""
    from faster_whisper.audio import decode_audio

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file", code=ErrorCode.AUDIO_MISSING)
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
