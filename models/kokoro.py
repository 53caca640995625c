"""Kokoro-82M on onnxruntime: phoneme tokens, a voice's style row and a speed in; 24 kHz mono audio out.

The engine core only (issue 16, step 1 of docs/dev/kokoro-plan.md): the pack kind, grapheme-to-phoneme per
language and the voice choice come next. The model's inputs are ``tokens`` (int64 [1, n], the phoneme ids with a
0 at each end), ``style`` (float32 [1, 256]: the voice file's row for the number of phonemes) and ``speed``
(float32 [1]); its output is the audio.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from tolk.models.errors import ErrorCode, TolkError

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MAX_PHONEMES = 510  # a voice file holds one style row per phoneme count up to this


class KokoroModel:
    def __init__(self, model_path: Path, vocab: dict[str, int], threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.vocab = dict(vocab)

    def tokens(self, phonemes: str) -> list[int]:
        """Phoneme ids; symbols outside the vocabulary are dropped (and logged once per call)."""
        ids = [self.vocab[symbol] for symbol in phonemes if symbol in self.vocab]
        dropped = sorted({symbol for symbol in phonemes if symbol not in self.vocab})
        if dropped:
            log.info("phonemes outside Kokoro's vocabulary dropped: %s", "".join(dropped))
        return ids

    def synthesise(self, phonemes: str, voice: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Audio (float32, ``SAMPLE_RATE``) for ``phonemes`` in ``voice`` (a [510, 1, 256] or [510, 256] array)."""
        ids = self.tokens(phonemes)
        if not ids:
            raise TolkError("nothing to say: no phoneme Kokoro knows", code=ErrorCode.TEXT_EMPTY)
        if len(ids) > MAX_PHONEMES - 2:
            raise TolkError(f"{len(ids)} phonemes is over Kokoro's {MAX_PHONEMES - 2} for one clause",
                            code=ErrorCode.TEXT_TOO_LONG)
        style = np.asarray(voice, dtype=np.float32).reshape(-1, 256)[len(ids)].reshape(1, 256)
        (audio,) = self.session.run(None, {"tokens": np.array([[0, *ids, 0]], dtype=np.int64), "style": style,
                                           "speed": np.array([speed], dtype=np.float32)})
        return np.asarray(audio, dtype=np.float32).reshape(-1)
