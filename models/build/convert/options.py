"""Checking the converter's inputs before any heavy work: quantization, output folder, languages, source."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

from tolk.models.errors import ConversionError, UnknownLanguageError

log = logging.getLogger(__name__)

# CTranslate2 weight types a pack may be built with. int8 is the default: smallest, fast on ARM and x86 CPUs.
QUANTIZATIONS = ("int8", "int8_float32", "int16", "float16", "bfloat16", "float32")


def check_quantization(quantization: str) -> str:
    if quantization not in QUANTIZATIONS:
        raise ConversionError(f"quantization '{quantization}' is not supported; "
                              f"choose one of {', '.join(QUANTIZATIONS)}")
    return quantization


def check_out_dir(out_dir: Path) -> None:
    """The output folder must not exist, or be an empty folder (a pack is never written over anything)."""
    if out_dir.is_symlink():
        raise ConversionError(f"{out_dir}: output folder is a symlink; give a real folder")
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConversionError(f"{out_dir}: output path exists and is not a folder")
        if any(out_dir.iterdir()):
            raise ConversionError(f"{out_dir}: output folder is not empty; give a new or empty folder")


def check_source(source: Path) -> str:
    """Return ``"gguf"`` or ``"hf"`` for a usable source path; raise ConversionError otherwise."""
    if not source.exists():
        raise ConversionError(f"{source}: no such file or folder")
    if source.is_file():
        if source.suffix.lower() != ".gguf":
            raise ConversionError(f"{source}: expected a Hugging Face model folder or a .gguf file")
        return "gguf"
    if not (source / "config.json").is_file():
        raise ConversionError(f"{source}: not a Hugging Face model folder (no config.json)")
    return "hf"


def check_languages(languages: Sequence[str] | None) -> list[str]:
    """Tolk language codes to offer; every code must be in the registry. None means all of them."""
    from tolk.models import languages as registry

    if languages is None:
        return [lang.code for lang in registry.LANGUAGES]
    if isinstance(languages, str):
        raise ConversionError("languages must be a list of codes, not one string")
    codes: list[str] = []
    for code in languages:
        try:
            codes.append(registry.get(code).code)  # "pt-BR" -> "pt"
        except UnknownLanguageError as err:
            raise ConversionError(err.args[0]) from err
    if not codes:
        raise ConversionError("the list of languages is empty")
    return list(dict.fromkeys(codes))
