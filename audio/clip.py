"""Audio as numpy arrays: reading any common file format, resampling, writing WAV.

Everything inside Tolk is mono float32 in [-1, 1]; speech recognition runs at
16 kHz. Files are decoded with PyAV (FFmpeg, the same decoder faster-whisper
uses) so WAV, FLAC, MP3, Ogg/Opus and M4A all work at any sample rate.
"""
from __future__ import annotations

import logging
import math
import struct
import wave
from pathlib import Path

import numpy as np

from tolk.models.errors import ErrorCode, TolkError
from tolk.models.pcm import ASR_RATE, to_float32, to_int16

__all__ = ["ASR_RATE", "AudioError", "AudioTooLongError", "CorruptAudioError", "load_audio", "resample", "rms_level", "to_float32",
           "to_int16", "write_wav"]
log = logging.getLogger(__name__)


class AudioError(TolkError):
    code = ErrorCode.AUDIO_BAD


class CorruptAudioError(AudioError, ValueError):
    code = ErrorCode.AUDIO_CORRUPT


class AudioTooLongError(AudioError):
    code = ErrorCode.AUDIO_TOO_LONG


def load_audio(path: Path, rate: int = ASR_RATE, max_seconds: float | None = None) -> np.ndarray:
    """Decode ``path`` to mono float32 at ``rate`` Hz; a clear error if it is not readable audio.

    Decoding streams and stops as soon as the audio is longer than ``max_seconds``: a small file that
    holds hours of (compressible) sound never fills the memory.
    """
    path = Path(path)
    if max_seconds is not None and not (math.isfinite(max_seconds) and max_seconds > 0):
        raise AudioError(f"the length limit must be a positive number of seconds, not {max_seconds}")
    if not path.is_file():  # a device (/dev/zero) or a pipe would be read without end
        why = "not a file (a folder, a device or a pipe)" if path.exists() else "no such audio file"
        raise AudioError(f"{path}: {why}", code=ErrorCode.AUDIO_MISSING)
    limit = None if max_seconds is None else int(max_seconds * rate)
    try:
        audio = _decode(path, rate, limit)
    except AudioTooLongError:
        raise
    except Exception as err:  # PyAV raises many error types for damaged input
        if (channels := _wav_channels(path)) > MAX_CHANNELS:
            raise AudioError(f"{path.name}: {channels} channels, over the {MAX_CHANNELS} the decoder takes") from err
        raise CorruptAudioError(f"{path.name}: not a readable audio file ({type(err).__name__}: {err})") from err
    if audio.size == 0:
        raise CorruptAudioError(f"{path.name}: the file holds no audio samples")
    if not np.isfinite(audio).all():
        raise CorruptAudioError(f"{path.name}: the audio holds NaN or infinite samples")
    return audio


def _decode(path: Path, rate: int, limit: int | None) -> np.ndarray:
    import av

    chunks, total = [], 0
    with av.open(str(path), metadata_errors="ignore") as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            for out in resampler.resample(_mono(frame)):
                samples = out.to_ndarray().reshape(-1)
                chunks.append(samples.astype(np.float32, copy=False))
                total += samples.size
            if limit is not None and total > limit:
                raise AudioTooLongError(f"{path.name}: longer than the {limit / rate:.0f} s limit for one turn; "
                                        f"speak in shorter parts")
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
    return np.ascontiguousarray(np.concatenate(chunks) if chunks else np.zeros(0, np.float32))


# FFmpeg decodes up to 512 channels (FF_SANE_NB_CHANNELS); a WAV header can say up to 65,535
MAX_CHANNELS = 512


def _wav_channels(path: Path) -> int:
    """The channel count of a WAV file's first chunk when it is a consistent PCM/float ``fmt `` chunk, else 0."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if len(head) < 36 or head[:4] != b"RIFF" or head[8:16] != b"WAVEfmt ":
        return 0
    size, tag, channels, rate, byte_rate, align, bits = struct.unpack("<IHHIIHH", head[16:36])
    consistent = (size >= 16 and tag in (1, 3, 0xFFFE) and channels and bits in (8, 16, 24, 32, 64)
                  and align == channels * bits // 8 and byte_rate == rate * align)
    return channels if consistent else 0


# Full scale of each integer sample format FFmpeg decodes to (planar "p" variants alike)
_FULL_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0, "s64": 9223372036854775808.0}


def _mono(frame):
    """A decoded frame downmixed to mono float32 by averaging its channels, whatever their count.

    FFmpeg's resampler fails on layouts it has no mixing matrix for (9, 32, 64 channels: EINVAL; a format-only
    conversion of a 9-channel frame crashed the process) and its matrices for 6-16 channels gave peaks of 1.0-2.2
    from a 0.3 tone. An average of the channels stays in [-1, 1] and needs no matrix; mono frames pass as they are.
    """
    import av

    channels = len(frame.layout.channels)
    if channels == 1:
        return frame
    samples = frame.to_ndarray()  # planar: (channels, n); packed: (1, n * channels), interleaved
    samples = samples if frame.format.is_planar else samples.reshape(-1, channels).T
    kind = frame.format.name.rstrip("p")
    mono = samples.astype(np.float64).mean(axis=0)
    if kind == "u8":
        mono -= 128.0
    if kind in _FULL_SCALE:
        mono /= _FULL_SCALE[kind]
    out = av.AudioFrame.from_ndarray(mono.astype(np.float32)[None, :], format="flt", layout="mono")
    out.sample_rate = frame.sample_rate
    out.pts, out.time_base = frame.pts, frame.time_base
    return out


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
    with open(path, "wb") as handle, wave.open(handle, "wb") as out:
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
