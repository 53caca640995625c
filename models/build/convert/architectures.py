"""Which source models the converter accepts, decided from metadata alone (no weights loaded).

A Hugging Face folder is recognised by ``config.json``'s ``model_type``; a GGUF
file by its ``general.architecture`` field. Anything else is refused up front
with a message naming what is supported, before minutes of work are spent.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from tolk.models.errors import ConversionError

log = logging.getLogger(__name__)

# Decoder-only LLMs run by ctranslate2.Generator with a prompt template.
DECODER_TYPES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "gemma3_text"})
# Encoder-decoder translators run by ctranslate2.Translator: NLLB and M2M100 (both "m2m_100"), MADLAD-400 (T5).
SEQ2SEQ_TYPES = frozenset({"m2m_100", "t5", "mt5"})
# GGUF ``general.architecture`` values that transformers can dequantise into one of the decoder types.
GGUF_ARCHITECTURES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3"})


@dataclass(frozen=True)
class ModelInfo:
    """What ``config.json`` says about a Hugging Face model folder."""

    model_type: str
    architectures: tuple[str, ...]
    config: dict

    @property
    def is_decoder(self) -> bool:
        return self.model_type in DECODER_TYPES

    @property
    def is_seq2seq(self) -> bool:
        return self.model_type in SEQ2SEQ_TYPES


def _supported_text() -> str:
    return (f"decoder LLMs ({', '.join(sorted(DECODER_TYPES))}) and encoder-decoder translators "
            f"({', '.join(sorted(SEQ2SEQ_TYPES))})")


def read_hf_info(hf_dir: Path) -> ModelInfo:
    """Read and check ``config.json`` of a Hugging Face folder; raise ConversionError if unsupported."""
    path = Path(hf_dir) / "config.json"
    if not path.is_file():
        raise ConversionError(f"{hf_dir}: not a Hugging Face model folder (no config.json)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConversionError(f"{path}: cannot read the model config: {err}") from err
    if not isinstance(config, dict):
        raise ConversionError(f"{path}: the model config is not a JSON object")
    model_type = str(config.get("model_type") or "")
    if model_type not in DECODER_TYPES | SEQ2SEQ_TYPES:
        raise ConversionError(f"{hf_dir}: architecture '{model_type or 'unknown'}' is not supported; "
                              f"supported are {_supported_text()}")
    architectures = tuple(str(a) for a in config.get("architectures") or ())
    log.debug("%s: model_type %s, architectures %s", hf_dir, model_type, architectures)
    return ModelInfo(model_type, architectures, config)


def check_gguf_architecture(gguf_file: Path) -> str:
    """Return the GGUF file's ``general.architecture`` if supported; raise ConversionError otherwise."""
    try:
        from gguf import GGUFReader
    except ImportError as err:
        raise ConversionError("reading GGUF files needs the 'convert' extra (the 'gguf' package)") from err
    try:
        reader = GGUFReader(str(gguf_file))
        field = reader.get_field("general.architecture")
        architecture = field.contents() if field is not None else ""
    except (OSError, ValueError, KeyError, IndexError) as err:
        raise ConversionError(f"{gguf_file}: not a readable GGUF file: {err}") from err
    finally:
        reader = None  # release the memory map
    if architecture not in GGUF_ARCHITECTURES:
        raise ConversionError(f"{gguf_file.name}: GGUF architecture '{architecture or 'unknown'}' is not supported; "
                              f"supported are {', '.join(sorted(GGUF_ARCHITECTURES))}")
    return architecture
