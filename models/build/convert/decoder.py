"""Manifest details of a decoder-LLM pack: the prompt template, stop tokens and tokenizer settings."""
from __future__ import annotations

import logging
from pathlib import Path

from tolk.models.build.convert import prompts
from tolk.models.build.convert.architectures import ModelInfo
from tolk.models.build.convert.tokenizer_choice import choose_tokenizer, sentencepiece_file
from tolk.models.build.convert.tokens import TokenInfo, read_token_info
from tolk.models.manifest import PromptSpec

log = logging.getLogger(__name__)

SAMPLE = {"source": "English", "target": "Spanish", "text": "Where is the train station?", "context": []}


def _special_tokens(tokens: TokenInfo) -> dict[str, str]:
    return {"bos_token": tokens.bos, "eos_token": tokens.eos, "unk_token": tokens.unk}


def _eos_tokens(tokens: TokenInfo) -> list[str]:
    return [t for t in dict.fromkeys([tokens.eos, *tokens.eos_extra]) if t and t in tokens]


def build_prompt(tokens: TokenInfo) -> tuple[PromptSpec, bool, str]:
    """The prompt, whether the runtime must put BOS first, and the prompt style ("chat" or "few-shot")."""
    if tokens.chat_template:
        special = _special_tokens(tokens)
        stop = prompts.end_of_turn_tokens(tokens.chat_template, special, tokens) + _eos_tokens(tokens)
        spec, leading_bos = prompts.from_chat_template(tokens.chat_template, special, stop)
        return spec, leading_bos, "chat"
    log.info("no chat template: using a few-shot completion prompt")
    return prompts.few_shot(_eos_tokens(tokens)), tokens.adds_bos, "few-shot"


def decoder_details(hf_dir: Path, pack_dir: Path, info: ModelInfo) -> tuple[PromptSpec, dict]:
    """Prompt and ``settings`` for a converted decoder LLM in ``pack_dir`` (made from ``hf_dir``)."""
    tokens = read_token_info(hf_dir, pack_dir)
    spec, add_bos, style = build_prompt(tokens)
    sample = prompts.runtime_environment().from_string(spec.template).render(**SAMPLE)
    tokenizer = choose_tokenizer(pack_dir, sample, tokens)
    settings = {
        "tokenizer": tokenizer,
        "bos_token": tokens.bos,
        "add_bos": bool(add_bos and tokens.bos),
        "eos_token": tokens.eos,
        "architecture": info.model_type,
        "prompt_style": style,
    }
    spm = sentencepiece_file(pack_dir)
    if spm:
        settings["sentencepiece"] = spm
    return spec, settings
