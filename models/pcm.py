"""Sample formats the engines share with the audio layer: Whisper's input rate and 16-bit PCM conversions.

Lives in the model layer (the bottom), so engines need nothing from ``tolk.audio``; ``tolk.audio.clip`` re-exports
these names for capture and playback.
"""
from __future__ import annotations

import numpy as np

ASR_RATE = 16000  # Whisper's input: mono float32 at 16 kHz


def to_int16(audio: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] to little-endian 16-bit PCM (clipped)."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")


def to_float32(pcm16: bytes | np.ndarray) -> np.ndarray:
    """Little-endian 16-bit PCM (bytes or int16 array) to float32 in [-1, 1)."""
    samples = np.frombuffer(pcm16, dtype="<i2") if isinstance(pcm16, (bytes, bytearray)) else pcm16
    return samples.astype(np.float32) / 32768.0
