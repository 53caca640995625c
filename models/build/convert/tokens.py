"""What a converted model says about its tokens: vocabulary, BOS/EOS, chat template.

Read from plain files only (CTranslate2's ``config.json`` and vocabulary, the
Hugging Face ``tokenizer_config.json``, ``tokenizer.json``,
``generation_config.json`` and ``chat_template.jinja``), so it needs neither
transformers nor torch.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tolk.models.errors import ConversionError

log = logging.getLogger(__name__)

VOCABULARY_FILES = ("vocabulary.json", "shared_vocabulary.json", "target_vocabulary.json")


@dataclass(frozen=True)
class TokenInfo:
    vocabulary: tuple[str, ...]  # the CTranslate2 vocabulary, index = token id
    bos: str
    eos: str
    unk: str
    eos_extra: tuple[str, ...]  # further end-of-sequence tokens from generation_config.json
    chat_template: str | None
    adds_bos: bool  # the tokenizer puts BOS in front of plain text by default
    _known: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_known", frozenset(self.vocabulary))

    def __contains__(self, token: str) -> bool:
        """True if ``token`` is one entry of the vocabulary."""
        return token in self._known


def _json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConversionError(f"{path}: cannot read: {err}") from err


def _token_text(value: Any) -> str:
    """A special token as tokenizer_config.json spells it: a string or ``{"content": ...}``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def read_vocabulary(ct2_dir: Path) -> tuple[str, ...]:
    for name in VOCABULARY_FILES:
        data = _json(Path(ct2_dir) / name)
        if isinstance(data, list):
            return tuple(str(t) for t in data)
    text_vocab = Path(ct2_dir) / "vocabulary.txt"
    if text_vocab.is_file():
        return tuple(text_vocab.read_text(encoding="utf-8").splitlines())
    raise ConversionError(f"{ct2_dir}: the converted model has no vocabulary file")


def read_chat_template(hf_dir: Path, tokenizer_config: dict) -> str | None:
    """The model's chat template: ``chat_template.jinja`` (transformers 5) or tokenizer_config.json."""
    path = Path(hf_dir) / "chat_template.jinja"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        return text if text.strip() else None
    template = tokenizer_config.get("chat_template")
    if isinstance(template, list):  # named templates: [{"name": "default", "template": ...}, ...]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) and template.strip() else None


def _post_processor_adds(processor: Any, token: str) -> bool:
    """True if a tokenizer.json post-processor inserts ``token`` around single sequences."""
    if not isinstance(processor, dict) or not token:
        return False
    if processor.get("type") == "Sequence":
        return any(_post_processor_adds(p, token) for p in processor.get("processors") or ())
    if processor.get("type") == "TemplateProcessing":
        return any(isinstance(piece, dict) and piece.get("SpecialToken", {}).get("id") == token
                   for piece in processor.get("single") or ())
    return False


def _adds_bos(hf_dir: Path, tokenizer_config: dict, bos: str) -> bool:
    flag = tokenizer_config.get("add_bos_token")
    if isinstance(flag, bool):
        return flag and bool(bos)
    tokenizer_json = _json(Path(hf_dir) / "tokenizer.json") or {}
    return _post_processor_adds(tokenizer_json.get("post_processor"), bos)


def _eos_extra(hf_dir: Path, vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    ids = (_json(Path(hf_dir) / "generation_config.json") or {}).get("eos_token_id")
    ids = ids if isinstance(ids, list) else [ids]
    return tuple(vocabulary[i] for i in ids if isinstance(i, int) and 0 <= i < len(vocabulary))


def read_token_info(hf_dir: Path, ct2_dir: Path) -> TokenInfo:
    """Collect token facts from the Hugging Face folder and the converted CTranslate2 folder."""
    vocabulary = read_vocabulary(ct2_dir)
    ct2_config = _json(Path(ct2_dir) / "config.json") or {}
    tok_config = _json(Path(hf_dir) / "tokenizer_config.json") or {}
    if not isinstance(tok_config, dict):
        tok_config = {}

    def special(name: str) -> str:
        return _token_text(ct2_config.get(name)) or _token_text(tok_config.get(name))

    bos, eos, unk = special("bos_token"), special("eos_token"), special("unk_token")
    return TokenInfo(vocabulary=vocabulary, bos=bos, eos=eos, unk=unk,
                     eos_extra=_eos_extra(hf_dir, vocabulary),
                     chat_template=read_chat_template(hf_dir, tok_config),
                     adds_bos=_adds_bos(hf_dir, tok_config, bos))
