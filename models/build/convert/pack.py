"""Turning a converted CTranslate2 folder into a verified pack: files moved in, manifest written, checked."""
from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import Any, Sequence

from tolk.models.errors import ConversionError
from tolk.models.integrity import check_pack, file_entries
from tolk.models.manifest import MANIFEST_NAME, Engine, Kind, PackManifest, PromptSpec

log = logging.getLogger(__name__)

RAM_FACTOR = 1.15
RAM_OVERHEAD_MB = 64


def estimate_ram_mb(model_bin: Path) -> int:
    """Approximate resident memory while translating, in MB.

    CTranslate2 holds ``model.bin``'s weights in memory once (at the size they are
    stored, so the estimate follows the quantization); 15 % on top covers
    activations and the KV cache of short utterances, and 64 MB the runtime itself
    (CTranslate2, tokenizer, Python objects): ``size(model.bin) MB x 1.15 + 64``.
    """
    return math.ceil(Path(model_bin).stat().st_size / 2**20 * RAM_FACTOR) + RAM_OVERHEAD_MB


def move_files(src_dir: Path, out_dir: Path) -> list[str]:
    """Move every file of ``src_dir`` into ``out_dir`` (same relative paths); return those paths."""
    moved = []
    for path in sorted(p for p in Path(src_dir).rglob("*") if p.is_file()):
        rel = path.relative_to(src_dir)
        if rel.as_posix() == MANIFEST_NAME:
            raise ConversionError(f"{src_dir}: the converted model contains a file named {MANIFEST_NAME}")
        target = Path(out_dir) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        moved.append(rel.as_posix())
    return moved


def write_pack(ct2_dir: Path, out_dir: Path, *, pack_id: str, engine: Engine, version: str, description: str,
               languages: Sequence[str], license: str, source: str, settings: dict[str, Any],
               prompt: PromptSpec | None) -> PackManifest:
    """Move the converted files into ``out_dir``, write ``manifest.json`` and verify the pack."""
    if not (Path(ct2_dir) / "model.bin").is_file():
        raise ConversionError(f"{ct2_dir}: the conversion wrote no model.bin")
    ram_mb = estimate_ram_mb(Path(ct2_dir) / "model.bin")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = move_files(ct2_dir, out_dir)
    data = {
        "id": pack_id, "kind": Kind.MT.value, "engine": engine.value, "version": version,
        "description": description, "languages": list(languages), "license": license, "source": source,
        "ram_mb": ram_mb, "settings": settings, "prompt": prompt.to_dict() if prompt else None,
        "files": file_entries(out_dir, files),
    }
    try:
        manifest = PackManifest.from_dict(data)
    except ValueError as err:  # ManifestError: e.g. a bad pack id or an empty licence
        raise ConversionError(f"cannot write a valid manifest: {err}") from err
    manifest.dump(out_dir)
    problems = check_pack(out_dir)
    if problems:
        raise ConversionError(f"{out_dir}: the new pack fails verification: " + "; ".join(map(str, problems)))
    return manifest
