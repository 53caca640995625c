"""Translation quality and speed of installed MT packs on the UDHR parallel corpus.

chrF (sacrebleu) per direction on short UDHR articles, translated one at a time
(batch 1, greedy: what the device does), with decode tokens/s. Used to choose
the default translation pack and by `tolk bench`.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

from tolk.models.build import quality, udhr
from tolk.models.store import InstalledPack
from tolk.models.translate import load_translator

log = logging.getLogger(__name__)


def streamed_translation(translator, text: str, src: str, tgt: str) -> str:
    """What the device produces: sentence by sentence, each streamed token by token (static prompt cached),
    cut into clauses and joined as the model wrote them."""
    from tolk.models import languages
    from tolk.models.clauses import ClauseCutter, join_clauses
    from tolk.models.sentences import split_sentences

    sep = " " if languages.get(tgt).spaced else ""
    out = []
    for sentence in split_sentences(text):
        cutter = ClauseCutter()
        clauses = [c for piece in translator.stream(sentence, src, tgt) for c in cutter.feed(piece)]
        out.append(join_clauses(clauses + cutter.flush()))
    return sep.join(out)


def evaluate_pack(pack: InstalledPack, udhr_dir: Path, directions: Sequence[tuple[str, str]],
                  articles: int, max_chars: int, progress=print, streamed: bool = False) -> list[quality.DirectionScore]:
    started = time.perf_counter()
    translator = load_translator(pack.path, pack.manifest)
    progress(f"{pack.id}: loaded in {time.perf_counter() - started:.1f} s")

    def translate(texts: list[str], src: str, tgt: str) -> tuple[list[str], int]:
        outputs, tokens = [], 0
        for text in texts:  # batch 1, as on the device
            if streamed:
                outputs.append(streamed_translation(translator, text, src, tgt))
                tokens += len(translator.tokenizer.tokens(outputs[-1]))
                continue
            (result,) = translator.translate([text], src, tgt)
            outputs.append(result.text)
            tokens += result.tokens_out
        return outputs, tokens

    scores = []
    for src, tgt in directions:
        pairs = udhr.parallel_for(udhr_dir, src, tgt, max_chars=max_chars)[:articles]
        if not pairs:
            progress(f"{pack.id}: no UDHR text for {src}-{tgt}, skipped")
            continue
        score = quality.evaluate_direction(translate, pairs, src, tgt)
        progress(f"{pack.id}: {src}-{tgt} chrF {score.chrf:.1f}, {score.tokens_per_second:.1f} tok/s")
        scores.append(score)
    return scores


def write_report(results: dict[str, list[quality.DirectionScore]], out_dir: Path, meta: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "mt-eval.json").write_text(json.dumps(
        {"meta": meta, "packs": {k: [asdict(s) for s in v] for k, v in results.items()}}, indent=2))
    lines = [f"# Translation candidates on UDHR ({meta['articles']} articles ≤ {meta['max_chars']} chars per direction)", ""]
    for pack_id, scores in results.items():
        mean = sum(s.chrf for s in scores) / max(len(scores), 1)
        lines += [f"## {pack_id} — mean chrF {mean:.1f}", "", quality.markdown_table(scores), ""]
    path = out_dir / "mt-eval.md"
    path.write_text("\n".join(lines))
    return path
