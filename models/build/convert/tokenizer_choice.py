"""Choosing the tokenizer file a pack's runtime uses: a sentencepiece model or ``tokenizer.json``.

A sentencepiece model is preferred when there is one (small, no ``tokenizers``
needed), but only if it splits a real prompt into exactly the tokens
``tokenizer.json`` gives, and every piece is in the CTranslate2 vocabulary;
otherwise ``tokenizer.json`` is used.
"""
from __future__ import annotations

import logging
from pathlib import Path

from tolk.models.build.convert.to_ct2 import SENTENCEPIECE_FILES
from tolk.models.errors import ConversionError

log = logging.getLogger(__name__)


def sentencepiece_file(pack_dir: Path) -> str | None:
    return next((name for name in SENTENCEPIECE_FILES if (Path(pack_dir) / name).is_file()), None)


def _sp_pieces(path: Path, text: str) -> list[str]:
    """Pieces as ids map back to them (an unknown character becomes the unknown piece, as in tokenizer.json)."""
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    return [processor.id_to_piece(i) for i in processor.encode(text)]


def _json_tokens(path: Path, text: str) -> list[str]:
    """Tokens as ids map back to them (the unknown token, not the unknown text, as for sentencepiece)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(path))
    return [tokenizer.id_to_token(i) for i in tokenizer.encode(text, add_special_tokens=False).ids]


def choose_tokenizer(pack_dir: Path, sample: str, vocabulary) -> str:
    """The file name (in ``pack_dir``) the runtime should tokenize with, checked on ``sample``."""
    pack_dir = Path(pack_dir)
    spm = sentencepiece_file(pack_dir)
    has_json = (pack_dir / "tokenizer.json").is_file()
    if spm is None and not has_json:
        raise ConversionError(f"{pack_dir}: the model has neither tokenizer.json nor a sentencepiece model")
    if spm is None:
        return "tokenizer.json"
    try:
        pieces = _sp_pieces(pack_dir / spm, sample)
    except (OSError, RuntimeError) as err:
        if has_json:
            log.warning("%s cannot be loaded (%s); using tokenizer.json", spm, err)
            return "tokenizer.json"
        raise ConversionError(f"{pack_dir / spm}: not a usable sentencepiece model: {err}") from err
    unknown = [p for p in pieces if p not in vocabulary]
    if has_json:
        expected = _json_tokens(pack_dir / "tokenizer.json", sample)
        if pieces != expected:
            log.warning("%s splits the prompt differently from tokenizer.json (%s vs %s); using tokenizer.json",
                        spm, pieces[:12], expected[:12])
            return "tokenizer.json"
        if unknown:
            log.warning("%s gives pieces the model does not know (%s); using tokenizer.json", spm, unknown[:5])
            return "tokenizer.json"
        return spm
    if unknown:
        raise ConversionError(f"{spm}: pieces {unknown[:5]} are not in the model's vocabulary")
    return spm
