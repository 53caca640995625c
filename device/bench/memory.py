"""The machine's memory read bandwidth, and how close translation decoding comes to it.

Decoding one token of a decoder LLM reads (about) every weight once, so
tokens/s × weight bytes is bounded by the read bandwidth; the fraction shows how
much headroom a faster kernel could still find.
"""
from __future__ import annotations

import time

import numpy as np


def read_bandwidth_gbs(megabytes: int = 512, repeats: int = 5) -> float:
    """Best of ``repeats`` full reads of a buffer much larger than the caches (GB/s)."""
    data = np.ones(megabytes * (1 << 20) // 8, dtype=np.float64)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        data.sum()  # streams every byte once
        best = min(best, time.perf_counter() - started)
    return data.nbytes / best / 1e9


def decode_fraction(weight_bytes: int, tokens_per_second: float, bandwidth_gbs: float) -> float:
    """Share of the bandwidth bound reached: bytes read per second while decoding ÷ bandwidth."""
    if bandwidth_gbs <= 0:
        return 0.0
    return weight_bytes * tokens_per_second / (bandwidth_gbs * 1e9)


def bound_tokens_per_second(weight_bytes: int, bandwidth_gbs: float) -> float:
    return bandwidth_gbs * 1e9 / weight_bytes if weight_bytes else 0.0
