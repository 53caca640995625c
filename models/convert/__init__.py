"""Converters for build hosts: Hugging Face folders and GGUF files -> CTranslate2 packs.

Needs the optional ``convert`` extra (torch, transformers, gguf); the device
runtime never imports this package.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from models.convert import prompts
from models.convert.to_ct2 import DECODER_TYPES, SENTENCEPIECE_FILES, hf_to_ct2, model_type
from models.errors import ConversionError
from models.integrity import check_pack, file_entries, raise_for_problems
from models.manifest import MANIFEST_NAME, Engine, Kind, PackManifest

log = logging.getLogger(__name__)
BOS_MODEL_TYPES = frozenset({"llama", "mistral", "gemma", "gemma2", "gemma3", "gemma3_text"})
END_OF_TURN = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|end|>")


def estimate_ram_mb(model_bin: Path) -> int:
    """Weights are mapped once; add 15 % for activations / KV cache and 64 MB for runtime overhead."""
    return int(model_bin.stat().st_size / 1e6 * 1.15) + 64


def _vocabulary(out_dir: Path) -> set[str]:
    for name in ("vocabulary.json", "shared_vocabulary.json", "target_vocabulary.json"):
        path = out_dir / name
        if path.is_file():
            return set(json.loads(path.read_text(encoding="utf-8")))
    return set()


def _tokenizer_config(hf_dir: Path) -> dict:
    path = hf_dir / "tokenizer_config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _token(value) -> str:
    return value.get("content", "") if isinstance(value, dict) else (value or "")


def _decoder_details(hf_dir: Path, out_dir: Path, kind: str) -> tuple[prompts.PromptSpec, dict]:
    tok_cfg = _tokenizer_config(hf_dir)
    vocab = _vocabulary(out_dir)
    bos, eos = _token(tok_cfg.get("bos_token")), _token(tok_cfg.get("eos_token"))
    chat_file = hf_dir / "chat_template.jinja"
    chat_template = chat_file.read_text(encoding="utf-8") if chat_file.is_file() else tok_cfg.get("chat_template")
    stop = [t for t in END_OF_TURN if t in vocab] + ([eos] if eos else [])
    if chat_template:
        spec = prompts.from_chat_template(chat_template, stop, bos_token=bos, eos_token=eos)
        add_bos = False  # the chat template writes its own BOS when the model needs one
    else:
        spec = prompts.completion([eos] if eos else [])
        add_bos = kind in BOS_MODEL_TYPES and bool(bos)
    tokenizer = "tokenizer.json" if (out_dir / "tokenizer.json").is_file() else next(
        (n for n in SENTENCEPIECE_FILES if (out_dir / n).is_file()), None)
    if tokenizer is None:
        raise ConversionError(f"{hf_dir}: no tokenizer.json or sentencepiece model to ship with the pack")
    return spec, {"tokenizer": tokenizer, "bos_token": bos, "add_bos": add_bos, "architecture": kind,
                  "chat_template": bool(chat_template)}


def _seq2seq_details(hf_dir: Path, out_dir: Path, kind: str, languages: Sequence[str]) -> dict:
    from models import languages as registry

    vocab = _vocabulary(out_dir)
    spm = next((n for n in SENTENCEPIECE_FILES if (out_dir / n).is_file()), None)
    if spm is None:
        raise ConversionError(f"{hf_dir}: an encoder-decoder pack needs its sentencepiece model")
    styles = {
        "nllb": lambda lang: lang.flores,
        "m2m100": lambda lang: f"__{lang.code}__",
        "madlad": lambda lang: f"<2{lang.code}>",
    }
    if kind in ("t5", "mt5"):
        style = "madlad"
    else:
        style = "nllb" if "eng_Latn" in vocab else "m2m100"
    token_of = styles[style]
    tokens = {code: token_of(registry.get(code)) for code in languages if token_of(registry.get(code)) in vocab}
    if len(tokens) < 2:
        raise ConversionError(f"{hf_dir}: found language tokens for {len(tokens)} of the requested languages "
                              f"({style} style); a translator needs at least two")
    return {"tokenizer": spm, "prefix_style": style, "language_tokens": tokens, "architecture": kind}


def convert_model(source: Path, out_dir: Path, *, pack_id: str, quantization: str = "int8",
                  languages: Sequence[str] | None = None, license: str = "unknown", source_desc: str = "",
                  version: str = "1", description: str = "", work_dir: Path | None = None,
                  log_progress: Callable[[str], None] | None = None) -> PackManifest:
    """Convert a Hugging Face folder or a ``.gguf`` file into a verified pack folder at ``out_dir``."""
    from models import languages as registry

    say = log_progress or log.info
    source, out_dir = Path(source), Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise ConversionError(f"{out_dir}: output folder is not empty")
    langs = list(languages) if languages else list(registry.codes())
    for code in langs:
        registry.get(code)
    if not source.exists():
        raise ConversionError(f"{source}: no such file or folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = None
    try:
        if source.is_file():
            if source.suffix != ".gguf":
                raise ConversionError(f"{source}: expected a Hugging Face folder or a .gguf file")
            from models.convert.gguf_to_hf import gguf_to_hf

            base = Path(work_dir) if work_dir else out_dir.parent
            base.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix="gguf-hf-", dir=base))
            say(f"  dequantising {source.name} (GGUF -> float32 Hugging Face folder)")
            hf_dir = gguf_to_hf(source, scratch)
        else:
            hf_dir = source
        kind = model_type(hf_dir)
        say(f"  converting {kind} model to CTranslate2 {quantization}")
        hf_to_ct2(hf_dir, out_dir, quantization)
        if kind in DECODER_TYPES:
            engine = Engine.CT2_GENERATOR
            prompt, settings = _decoder_details(hf_dir, out_dir, kind)
        else:
            engine, prompt = Engine.CT2_TRANSLATOR, None
            settings = _seq2seq_details(hf_dir, out_dir, kind, langs)
            langs = list(settings["language_tokens"])
        settings["quantization"] = quantization
        files = [p.relative_to(out_dir).as_posix() for p in sorted(out_dir.rglob("*"))
                 if p.is_file() and p.name != MANIFEST_NAME]
        manifest = PackManifest.from_dict({
            "id": pack_id, "kind": Kind.MT.value, "engine": engine.value, "version": version,
            "description": description or f"{kind} translation model, CTranslate2 {quantization}",
            "languages": langs, "license": license, "source": source_desc or str(source.name),
            "ram_mb": estimate_ram_mb(out_dir / "model.bin"), "settings": settings,
            "prompt": prompt.to_dict() if prompt else None,
            "files": file_entries(out_dir, files),
        })
        manifest.dump(out_dir)
        raise_for_problems(pack_id, check_pack(out_dir, manifest))
        return manifest
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
