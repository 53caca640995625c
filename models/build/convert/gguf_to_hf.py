"""GGUF file -> Hugging Face folder (float32 safetensors + tokenizer files), with transformers.

transformers dequantises every GGUF tensor to float32 while loading. The loaded
model still carries the GGUF ``quantization_config``, which would follow it into
``config.json`` and confuse the next step, so the model is rebuilt from a clean
config (on the meta device: no second copy of the weights, no random init) and
the dequantised tensors are assigned to it before ``save_pretrained``. The
tokenizer transformers derives from the GGUF metadata is saved beside it
(transformers 5 writes the chat template to ``chat_template.jinja``).
"""
from __future__ import annotations

import gc
import logging
from pathlib import Path

from tolk.models.errors import ConversionError

log = logging.getLogger(__name__)


def _imports():
    try:
        import torch
        import transformers
    except ImportError as err:
        raise ConversionError("converting GGUF files needs the 'convert' extra: pip install 'tolk[convert]' "
                              f"({err})") from err
    return torch, transformers


def _load_dequantised(gguf_file: Path):
    """The GGUF model in float32. transformers fills weights missing from the file with random values,
    so a truncated or foreign file is refused here instead of becoming a pack that talks nonsense."""
    torch, transformers = _imports()
    try:
        model, info = transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf_file.parent), gguf_file=gguf_file.name, dtype=torch.float32, output_loading_info=True)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, NotImplementedError) as err:
        raise ConversionError(f"{gguf_file.name}: transformers could not load this GGUF file: {err}") from err
    missing = sorted(info.get("missing_keys") or ())
    mismatched = [str(m) for m in info.get("mismatched_keys") or ()]
    if missing or mismatched:
        del model
        gc.collect()
        problems = ([f"{len(missing)} missing, e.g. {', '.join(missing[:3])}"] if missing else []) + (
            [f"{len(mismatched)} of the wrong shape, e.g. {mismatched[0]}"] if mismatched else [])
        raise ConversionError(f"{gguf_file.name}: the GGUF file lacks weights the model needs "
                              f"({'; '.join(problems)}); is the file complete?")
    return model


def _rebuild_without_quantization(loaded):
    """A fresh model of the same class, config without ``quantization_config``, owning ``loaded``'s tensors."""
    torch, transformers = _imports()
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    state = loaded.state_dict()
    with torch.device("meta"):
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    try:
        missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    except RuntimeError as err:
        raise ConversionError(f"the dequantised weights do not fit a fresh {type(model).__name__}: {err}") from err
    tied = set(getattr(model, "_tied_weights_keys", None) or ())
    still_missing = [k for k in missing if k not in tied and not k.endswith("lm_head.weight")]
    if still_missing or unexpected:
        raise ConversionError(f"the dequantised weights do not fit a fresh {type(model).__name__}: "
                              f"missing {still_missing[:5]}, unexpected {list(unexpected)[:5]}")
    model.tie_weights()
    meta = [name for name, p in model.named_parameters() if p.is_meta]
    if meta:
        raise ConversionError(f"GGUF -> Hugging Face: no weights for {meta[:5]}")
    return model


def gguf_to_hf(gguf_file: Path, hf_dir: Path) -> Path:
    """Dequantise ``gguf_file`` into a Hugging Face model folder at ``hf_dir`` and return it.

    Peak memory is about the float32 model once (4 bytes per parameter) plus the
    memory-mapped GGUF: ~7 GB for a 1.5B model.
    """
    _, transformers = _imports()
    gguf_file, hf_dir = Path(gguf_file), Path(hf_dir)
    hf_dir.mkdir(parents=True, exist_ok=True)
    loaded = _load_dequantised(gguf_file)
    try:
        model = _rebuild_without_quantization(loaded)
    finally:
        del loaded
        gc.collect()
    try:
        model.save_pretrained(str(hf_dir))  # safetensors; never a pickle
    except (OSError, ValueError, RuntimeError) as err:
        raise ConversionError(f"{hf_dir}: could not save the dequantised model: {err}") from err
    finally:
        del model
        gc.collect()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
        tokenizer.save_pretrained(str(hf_dir))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, NotImplementedError) as err:
        raise ConversionError(f"{gguf_file.name}: transformers could not read the tokenizer in this GGUF file: "
                              f"{err}") from err
    log.info("%s: dequantised to %s", gguf_file.name, hf_dir)
    return hf_dir
