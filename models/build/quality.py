"""Translation quality metrics: chrF (sacrebleu) per direction, with speed."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

# At least 10 directions with a spread of scripts, including non-English <-> non-English pairs.
DEFAULT_DIRECTIONS: tuple[tuple[str, str], ...] = (
    ("en", "es"), ("es", "en"), ("en", "de"), ("de", "en"), ("en", "zh"), ("zh", "en"),
    ("en", "ar"), ("ar", "en"), ("fr", "de"), ("de", "fr"), ("es", "it"), ("ru", "uk"),
    ("en", "hi"), ("ja", "en"),
)

TranslateFn = Callable[[list[str], str, str], tuple[list[str], int]]


@dataclass(frozen=True)
class DirectionScore:
    src: str
    tgt: str
    chrf: float
    n_segments: int
    tokens_generated: int
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_generated / self.seconds if self.seconds > 0 else 0.0


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Corpus-level chrF (character n-gram F-score, 0-100)."""
    from sacrebleu.metrics import CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    return CHRF().corpus_score(list(hypotheses), [list(references)]).score


def sentence_chrf(hypothesis: str, reference: str) -> float:
    """chrF of one sentence against its reference (0-100): worst examples, per-phrase checks."""
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(hypothesis, [reference]).score


def evaluate_direction(translate: TranslateFn, pairs: Sequence[tuple[str, str]], src: str, tgt: str) -> DirectionScore:
    sources = [s for s, _ in pairs]
    references = [r for _, r in pairs]
    started = time.perf_counter()
    hypotheses, tokens = translate(sources, src, tgt)
    seconds = time.perf_counter() - started
    return DirectionScore(src, tgt, chrf(hypotheses, references), len(pairs), tokens, seconds)


def markdown_table(scores: Sequence[DirectionScore]) -> str:
    rows = ["| direction | chrF | segments | tokens | tok/s |", "|---|---:|---:|---:|---:|"]
    rows += [f"| {s.src}→{s.tgt} | {s.chrf:.1f} | {s.n_segments} | {s.tokens_generated} | {s.tokens_per_second:.1f} |"
             for s in scores]
    if scores:
        mean = sum(s.chrf for s in scores) / len(scores)
        tps = sum(s.tokens_generated for s in scores) / max(sum(s.seconds for s in scores), 1e-9)
        rows.append(f"| **mean** | **{mean:.1f}** | {sum(s.n_segments for s in scores)} | "
                    f"{sum(s.tokens_generated for s in scores)} | {tps:.1f} |")
    return "\n".join(rows)
