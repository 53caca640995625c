"""Small metrics for the bench: word error rate, summary statistics, peak memory."""
from __future__ import annotations

import re
import resource
import statistics
import unicodedata
from dataclasses import dataclass
from typing import Sequence


def normalise(text: str) -> str:
    """Lower case, punctuation removed, spaces collapsed (for WER on transcripts)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(c if not unicodedata.category(c).startswith("P") else " " for c in text)
    return re.sub(r"\s+", " ", text).strip()


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    import jiwer

    refs = [normalise(r) for r in references]
    hyps = [normalise(h) for h in hypotheses]
    return float(jiwer.wer(refs, hyps))


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}–{self.high:.2f})" if self.n > 1 else f"{self.median:.2f}"


def summarise(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0.0, 0.0, 0.0, 0)
    return Summary(statistics.median(values), min(values), max(values), len(values))


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
