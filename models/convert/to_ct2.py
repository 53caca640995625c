"""Hugging Face folder -> CTranslate2 model files, plus the tokenizer files a pack needs."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from models.errors import ConversionError

log = logging.getLogger(__name__)

QUANTIZATIONS = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32")
SENTENCEPIECE_FILES = ("tokenizer.model", "sentencepiece.bpe.model", "spiece.model")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json",
                   "generation_config.json", *SENTENCEPIECE_FILES)
DECODER_TYPES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "gemma3_text"})
SEQ2SEQ_TYPES = frozenset({"m2m_100", "nllb", "t5", "mt5"})


def model_type(hf_dir: Path) -> str:
    try:
        config = json.loads((Path(hf_dir) / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConversionError(f"{hf_dir}: not a Hugging Face model folder (config.json: {err})") from err
    kind = config.get("model_type", "")
    if kind not in DECODER_TYPES | SEQ2SEQ_TYPES:
        raise ConversionError(
            f"{hf_dir}: architecture '{kind or 'unknown'}' is not supported; decoder LLMs: "
            f"{', '.join(sorted(DECODER_TYPES))}; encoder-decoder: {', '.join(sorted(SEQ2SEQ_TYPES))}")
    return kind


def hf_to_ct2(hf_dir: Path, out_dir: Path, quantization: str) -> list[str]:
    """Convert; returns the tokenizer files copied next to the model."""
    if quantization not in QUANTIZATIONS:
        raise ConversionError(f"quantization '{quantization}' is not one of {', '.join(QUANTIZATIONS)}")
    try:
        import ctranslate2.converters
    except ImportError as err:
        raise ConversionError("ctranslate2 is not installed") from err
    copied = [name for name in TOKENIZER_FILES if (Path(hf_dir) / name).is_file()]
    converter = ctranslate2.converters.TransformersConverter(str(hf_dir), copy_files=copied, low_cpu_mem_usage=True)
    try:
        converter.convert(str(out_dir), quantization=quantization, force=True)
    except (ValueError, KeyError, NotImplementedError, RuntimeError, OSError) as err:
        raise ConversionError(f"{hf_dir}: CTranslate2 conversion failed: {err}") from err
    return copied
