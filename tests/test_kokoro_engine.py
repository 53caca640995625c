"""The Kokoro engine core on a tiny generated model with Kokoro's inputs and output (no real weights)."""
import numpy as np
import pytest

from tests.conftest import need_module
from tolk.models.errors import ErrorCode, TolkError


def tiny_kokoro(path):
    """audio = float(tokens) * style[0, 0] * speed: one sample per token, so every input is visible in it."""
    need_module("onnx", "the tiny Kokoro-shaped model is written with onnx (pip install -e .[convert])")
    from tolk.models.build.tiny import build_kokoro_model

    return build_kokoro_model(path)


def test_tokens_style_row_and_speed_reach_the_model(tmp_path):
    from tolk.models.kokoro import KokoroModel

    model = KokoroModel(tiny_kokoro(tmp_path / "tiny.onnx"), {"h": 5, "ə": 7, "l": 9, " ": 16})
    voice = np.zeros((510, 1, 256), dtype=np.float32)
    voice[:, 0, 0] = np.arange(510) / 10  # row n (n phonemes) scales by n / 10
    audio = model.synthesise("həl#l", voice, speed=2.0)  # "#" is not in the vocabulary: dropped
    assert audio.dtype == np.float32
    np.testing.assert_allclose(audio, np.array([0, 5, 7, 9, 9, 0]) * 0.4 * 2.0, rtol=1e-6)  # 4 phonemes: row 4


def test_nothing_known_or_too_many_phonemes_is_a_coded_error(tmp_path):
    from tolk.models.kokoro import KokoroModel

    model = KokoroModel(tiny_kokoro(tmp_path / "tiny.onnx"), {"a": 1})
    voice = np.ones((510, 256), dtype=np.float32)
    with pytest.raises(TolkError) as empty:
        model.synthesise("###", voice)
    with pytest.raises(TolkError) as long:
        model.synthesise("a" * 509, voice)
    assert empty.value.code is ErrorCode.TEXT_EMPTY and long.value.code is ErrorCode.TEXT_TOO_LONG
