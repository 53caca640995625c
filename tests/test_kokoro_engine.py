"""The Kokoro engine core on a tiny generated model with Kokoro's inputs and output (no real weights)."""
import numpy as np
import pytest

from tests.conftest import need_module
from tolk.models.errors import ErrorCode, TolkError


def tiny_kokoro(path):
    """audio = float(tokens) * style[0, 0] * speed: one sample per token, so every input is visible in it."""
    need_module("onnx", "the tiny Kokoro-shaped model is written with onnx (pip install -e .[convert])")
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Cast", ["tokens"], ["t"], to=TensorProto.FLOAT),
         helper.make_node("Reshape", ["t", "flat"], ["t1"]),
         helper.make_node("Slice", ["style", "zero", "one", "one"], ["s0"]),  # style[:, 0:1]
         helper.make_node("Reshape", ["s0", "flat"], ["s1"]),
         helper.make_node("Mul", ["t1", "s1"], ["ts"]),
         helper.make_node("Mul", ["ts", "speed"], ["audio"])],
        "tiny_kokoro",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, [1, None]),
         helper.make_tensor_value_info("style", TensorProto.FLOAT, [1, 256]),
         helper.make_tensor_value_info("speed", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [None])],
        [helper.make_tensor("flat", TensorProto.INT64, [1], [-1]),
         helper.make_tensor("zero", TensorProto.INT64, [1], [0]),
         helper.make_tensor("one", TensorProto.INT64, [1], [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


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
