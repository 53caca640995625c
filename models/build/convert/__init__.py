"""The converter for build hosts: a Hugging Face folder or a GGUF file -> a verified CTranslate2 pack.

Needs the optional ``convert`` extra (torch, transformers, gguf), imported only
inside the functions that use them; the device runtime never imports this package.

Steps (one module each):

1. ``options``: check quantization, output folder, languages and source up front;
   ``architectures``: refuse unsupported models from their metadata alone.
2. ``gguf_to_hf``: a GGUF file is dequantised into a float32 Hugging Face folder
   in a scratch folder (deleted afterwards).
3. ``to_ct2``: CTranslate2's TransformersConverter writes ``model.bin`` and the
   vocabulary, and copies the tokenizer files (never a pickle).
4. ``decoder`` (LLMs: prompt template, stop tokens) or ``seq2seq`` (NLLB /
   M2M100 / MADLAD: language tokens) work out the engine settings.
5. ``pack``: files moved into ``out_dir``, ``manifest.json`` written with every
   file's size and sha256, the pack verified with ``models.integrity.check_pack``.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from tolk.models.build.convert.architectures import check_gguf_architecture, read_hf_info
from tolk.models.build.convert.options import QUANTIZATIONS, check_languages, check_out_dir, check_quantization, check_source
from tolk.models.build.convert.pack import estimate_ram_mb, write_pack
from tolk.models.errors import ConversionError, TolkError
from tolk.models.manifest import Engine, PackManifest

__all__ = ["QUANTIZATIONS", "convert_model", "estimate_ram_mb"]

log = logging.getLogger(__name__)


def _clear(out_dir: Path, created: bool) -> None:
    """Undo a failed conversion: ``out_dir`` was new or empty before, so remove what is in it now."""
    if not out_dir.exists() or out_dir.is_symlink():
        return
    if created:
        shutil.rmtree(out_dir, ignore_errors=True)
        return
    for child in out_dir.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _scratch_dir(out_dir: Path, work_dir: Path | None) -> Path:
    base = Path(work_dir) if work_dir is not None else out_dir.absolute().parent
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tolk-convert-", dir=base))


def convert_model(source: Path, out_dir: Path, *, pack_id: str, quantization: str = "int8",
                  languages: Sequence[str] | None = None, license: str = "unknown", source_desc: str = "",
                  version: str = "1", description: str = "", work_dir: Path | None = None,
                  log_progress: Callable[[str], None] | None = None) -> PackManifest:
    """Convert ``source`` (a Hugging Face model folder or a ``.gguf`` file) into a pack at ``out_dir``.

    ``out_dir`` must not exist or be empty. ``languages`` are Tolk codes (default:
    every language in the registry); an encoder-decoder pack keeps those its
    vocabulary has a token for. ``work_dir`` holds the intermediate float32 model
    of a GGUF conversion (default: a temporary folder next to ``out_dir``); it is
    deleted afterwards. On failure ``out_dir`` is left as it was and
    ConversionError says why. Returns the manifest written to ``out_dir``.
    """
    say = log_progress or (lambda message: log.info("%s", message))
    source, out_dir = Path(source), Path(out_dir)
    check_quantization(quantization)
    check_out_dir(out_dir)
    source_kind = check_source(source)
    codes = check_languages(languages)
    if source_kind == "gguf":
        check_gguf_architecture(source)
    else:
        read_hf_info(source)

    created = not out_dir.exists()
    scratch = _scratch_dir(out_dir, work_dir)
    try:
        hf_dir = source
        if source_kind == "gguf":
            from tolk.models.build.convert.gguf_to_hf import gguf_to_hf

            say(f"dequantising {source.name} into a float32 Hugging Face model (needs ~4 bytes per parameter)")
            hf_dir = gguf_to_hf(source, scratch / "hf")
        info = read_hf_info(hf_dir)
        say(f"converting the {info.model_type} model to CTranslate2 {quantization}")
        from tolk.models.build.convert.to_ct2 import hf_to_ct2

        hf_to_ct2(hf_dir, scratch / "ct2", quantization)
        if info.is_decoder:
            from tolk.models.build.convert.decoder import decoder_details

            engine = Engine.CT2_GENERATOR
            prompt, settings = decoder_details(hf_dir, scratch / "ct2", info)
        else:
            from tolk.models.build.convert.seq2seq import seq2seq_details

            engine, prompt = Engine.CT2_TRANSLATOR, None
            settings = seq2seq_details(hf_dir, scratch / "ct2", info, codes)
            codes = list(settings["language_tokens"])
        settings["quantization"] = quantization
        say(f"writing and verifying pack {pack_id} in {out_dir}")
        manifest = write_pack(
            scratch / "ct2", out_dir, pack_id=pack_id, engine=engine, version=version,
            description=description or f"{info.model_type} translation model, CTranslate2 {quantization}",
            languages=codes, license=license, source=source_desc or source.name, settings=settings, prompt=prompt)
    except TolkError:
        _clear(out_dir, created)
        raise
    except Exception as err:
        _clear(out_dir, created)
        raise ConversionError(f"converting {source.name} failed: {type(err).__name__}: {err}") from err
    except BaseException:
        _clear(out_dir, created)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("pack %s: %d files, %.0f MB, ram_mb %d", manifest.id, len(manifest.files),
             manifest.size_bytes / 1e6, manifest.ram_mb)
    return manifest
