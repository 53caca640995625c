"""Manifest details of an encoder-decoder translator pack: language tokens and how they are used.

Three conventions are known:

========  ===================  ===========================  ====================
style     token for Spanish    source side                  target prefix
========  ===================  ===========================  ====================
nllb      ``spa_Latn``         source-language token first  target-language token
m2m100    ``__es__``           source-language token first  target-language token
madlad    ``<2es>``            target-language token first  none
========  ===================  ===========================  ====================

Only languages whose token is in the converted model's vocabulary are offered.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from tolk.models.build.convert.architectures import ModelInfo
from tolk.models.build.convert.tokenizer_choice import choose_tokenizer
from tolk.models.build.convert.tokens import TokenInfo, read_token_info
from tolk.models.errors import ConversionError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrefixStyle:
    name: str
    candidates: Callable[[object], tuple[str, ...]]  # Language -> possible token spellings, best first
    source_prefix: str  # whose token starts the source: "source" or "target" language
    target_prefix: bool  # whether decoding starts from the target-language token


STYLES = {
    "nllb": PrefixStyle("nllb", lambda lang: (lang.flores,), "source", True),
    "m2m100": PrefixStyle("m2m100", lambda lang: (f"__{lang.code}__", f"__{lang.whisper}__"), "source", True),
    "madlad": PrefixStyle("madlad", lambda lang: (f"<2{lang.code}>", f"<2{lang.whisper}>"), "target", False),
}


def language_tokens(style: PrefixStyle, codes: Sequence[str], tokens: TokenInfo) -> dict[str, str]:
    """Tolk code -> language token, for the ``codes`` whose token is in the vocabulary."""
    from tolk.models import languages as registry

    found = {}
    for code in codes:
        token = next((t for t in style.candidates(registry.get(code)) if t in tokens), None)
        if token is not None:
            found[code] = token
    return found


def detect_style(info: ModelInfo, tokens: TokenInfo) -> PrefixStyle:
    """MADLAD-400 for T5 models; NLLB or M2M100 for ``m2m_100`` models, by which tokens the vocabulary has."""
    from tolk.models import languages as registry

    if info.model_type in ("t5", "mt5"):
        return STYLES["madlad"]
    every = [lang.code for lang in registry.LANGUAGES]
    counts = {name: len(language_tokens(STYLES[name], every, tokens)) for name in ("nllb", "m2m100")}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise ConversionError(f"found no language tokens (eng_Latn or __en__ style) in this {info.model_type} "
                              "model's vocabulary; is it an NLLB or M2M100 translator?")
    return STYLES[best]


def seq2seq_details(hf_dir: Path, pack_dir: Path, info: ModelInfo, codes: Sequence[str]) -> dict:
    """``settings`` for a converted encoder-decoder translator in ``pack_dir``."""
    tokens = read_token_info(hf_dir, pack_dir)
    style = detect_style(info, tokens)
    found = language_tokens(style, codes, tokens)
    skipped = [c for c in codes if c not in found]
    if skipped:
        log.info("no %s language token for: %s (left out of the pack)", style.name, ", ".join(skipped))
    if len(found) < 2:
        raise ConversionError(f"the model has {style.name}-style language tokens for {len(found)} of the "
                              f"requested languages ({', '.join(codes)}); a translator needs at least two")
    return {
        "tokenizer": choose_tokenizer(pack_dir, "Where is the train station?", tokens),
        "language_tokens": found,
        "prefix_style": style.name,
        "source_prefix": style.source_prefix,
        "target_prefix": style.target_prefix,
        "architecture": info.model_type,
    }
