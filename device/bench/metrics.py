"""Small metrics for the bench: word and character error rates, summary statistics, peak memory."""
from __future__ import annotations

import re
import resource
import statistics
import unicodedata
from dataclasses import dataclass
from pathlib import Path
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


def normalise_chars(text: str) -> str:
    """Only the characters that were said: NFKC, lower case, punctuation and whitespace removed (for CER; Chinese
    and Japanese have no spaces, so characters, not words, are what compares across every language)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not unicodedata.category(c).startswith("P") and not c.isspace())


def cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Character error rate over all pairs after ``normalise_chars``: edits ÷ reference characters (so a
    character-weighted mean over the sentences). A reference with nothing left scores 0 for an empty
    hypothesis, else 1 per character heard."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references for {len(hypotheses)} hypotheses")
    refs = [normalise_chars(r) for r in references]
    hyps = [normalise_chars(h) for h in hypotheses]
    spoken = [(r, h) for r, h in zip(refs, hyps) if r]
    extra = sum(len(h) for r, h in zip(refs, hyps) if not r)
    total = sum(len(r) for r, _ in spoken)
    if total == 0:
        return float(extra > 0)
    return (sum(_edits(r, h) for r, h in spoken) + extra) / total


def _edits(reference: str, hypothesis: str) -> int:
    """Character edits (substitutions + deletions + insertions) turning ``reference`` into ``hypothesis``."""
    import jiwer

    if not hypothesis:
        return len(reference)
    out = jiwer.process_characters(reference, hypothesis)
    return out.substitutions + out.deletions + out.insertions


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


def status_mb(field: str, status: str | None = None) -> float:
    """``field`` (VmRSS, VmHWM, ...) of /proc/self/status, or of the given text, in MB."""
    text = status if status is not None else Path("/proc/self/status").read_text()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise ValueError(f"no {field} in /proc/self/status")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
