"""GGUF file -> Hugging Face folder (float32 safetensors + tokenizer), with transformers."""
from __future__ import annotations

import gc
import logging
from pathlib import Path

from models.errors import ConversionError

log = logging.getLogger(__name__)


def gguf_to_hf(gguf: Path, out_dir: Path) -> Path:
    """Dequantise ``gguf`` into a transformers model folder at ``out_dir``.

    The model is rebuilt from its config so the GGUF quantisation settings do not
    follow it into the folder (CTranslate2 quantises again, to int8).
    """
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as err:
        raise ConversionError("converting GGUF needs the 'convert' extra: pip install 'tolk[convert]'") from err
    gguf = Path(gguf)
    try:
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        state = loaded.state_dict()
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(state, strict=False)
        del loaded, state
        gc.collect()
        model.save_pretrained(out_dir)
        del model
        gc.collect()
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(out_dir)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ConversionError(f"{gguf.name}: transformers could not read this GGUF file: {err}") from err
    return Path(out_dir)
