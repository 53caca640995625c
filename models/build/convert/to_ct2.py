"""Hugging Face folder -> CTranslate2 model files, plus the tokenizer files a pack needs.

Only safe formats leave this step: CTranslate2's ``model.bin`` and vocabulary
JSON, and the tokenizer files below (JSON, Jinja, sentencepiece ``.model``).
Pickle files in the source folder are never copied.
"""
from __future__ import annotations

import logging
from pathlib import Path

from tolk.models.errors import ConversionError

log = logging.getLogger(__name__)

SENTENCEPIECE_FILES = ("tokenizer.model", "sentencepiece.bpe.model", "spiece.model")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json",
                   "generation_config.json", *SENTENCEPIECE_FILES)
# What a finished pack may hold (models.integrity accepts these; a CTranslate2 .bin is checked by content).
PACK_SUFFIXES = frozenset({".bin", ".json", ".model", ".txt", ".jinja"})


def tokenizer_files(hf_dir: Path) -> list[str]:
    """The tokenizer files present in ``hf_dir`` that go into the pack."""
    return [name for name in TOKENIZER_FILES if (Path(hf_dir) / name).is_file()]


def hf_to_ct2(hf_dir: Path, out_dir: Path, quantization: str) -> list[str]:
    """Convert the model in ``hf_dir`` into ``out_dir``; return the tokenizer files copied with it.

    CTranslate2 deletes and recreates ``out_dir``: pass a scratch folder, not the pack folder.
    """
    try:
        import ctranslate2.converters
    except ImportError as err:
        raise ConversionError(f"ctranslate2 is not installed ({err})") from err
    copied = tokenizer_files(hf_dir)
    log.info("converting %s to CTranslate2 %s, copying %s", hf_dir, quantization, ", ".join(copied) or "nothing")
    converter = ctranslate2.converters.TransformersConverter(str(hf_dir), copy_files=copied)
    try:
        converter.convert(str(out_dir), quantization=quantization, force=True)
    except ImportError as err:
        raise ConversionError(f"converting needs the 'convert' extra (torch, transformers): {err}") from err
    except (ValueError, KeyError, TypeError, AttributeError, NotImplementedError, RuntimeError, OSError) as err:
        raise ConversionError(f"{hf_dir}: CTranslate2 conversion failed: {err}") from err
    unsafe = sorted(p.name for p in Path(out_dir).rglob("*") if p.is_file() and p.suffix not in PACK_SUFFIXES)
    if unsafe:
        raise ConversionError(f"{out_dir}: conversion produced files a pack may not hold: {', '.join(unsafe)}")
    return copied
