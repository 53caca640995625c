"""A Raspberry Pi 5 projection of first-audio latency, computed on paper from this run's measurements.

Nothing runs on a Pi here. Each measured stage is rescaled by what bounds it:

* translation decoding is memory-bound: every token reads the whole MT pack (``model.bin``), so
  seconds/token = bytes / bandwidth and MT time scales by ``BW_here / BW_pi`` (the measured
  bandwidth here, ``memory.read_bandwidth_gbs``, against a usable Pi 5 figure);
* the Whisper encoder is compute-bound: its multiply-accumulates (MACs) for the clip's frames over
  the Pi 5's int8 rate, in place of the encoder time measured here. The Pi's nominal rate is
  derated by the efficiency the encoder reaches here (measured rate ÷ this host's nominal rate),
  so both machines are assumed equally (in)efficient. The rest of ASR (decoder, features) scales
  like MT (memory-bound);
* TTS (Piper, ONNX Runtime float32) scales by the nominal compute ratio, and what is left of first
  audio (queueing, playback write) is kept as measured.

The assumptions (``PiAssumptions``) and the formulas go into the report with the numbers.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

# (d_model, encoder layers, mel bins) of the Whisper sizes
WHISPER_DIMS = {"tiny": (384, 4, 80), "base": (512, 6, 80), "small": (768, 12, 80), "medium": (1024, 24, 80),
                "large-v3": (1280, 32, 128), "large": (1280, 32, 80)}
WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames


@dataclass(frozen=True)
class PiAssumptions:
    bandwidth_gbs: float = 10.0  # usable LPDDR4X-4267 read bandwidth (32-bit bus: 17 GB/s peak)
    cores: int = 4  # Cortex-A76
    ghz: float = 2.4
    int8_macs_per_cycle: int = 16  # one 128-bit SDOT (16 int8 MACs) per cycle per core sustained (2 pipes: 32 peak)
    source: str = ("Raspberry Pi 5: 4× Cortex-A76 at 2.4 GHz, LPDDR4X-4267 (raspberrypi.com product brief); "
                   "A76 NEON: 2×128-bit pipes with SDOT (Arm Cortex-A76 software optimisation guide)")

    @property
    def int8_gmacs(self) -> float:
        return self.cores * self.ghz * self.int8_macs_per_cycle


@dataclass(frozen=True)
class MachineFacts:
    bandwidth_gbs: float  # measured here
    mt_bytes: int  # the MT pack's model.bin
    whisper: str  # size name, e.g. "base"
    encoder_gmacs: float | None  # measured effective int8 rate of the Whisper encoder here
    peak_gmacs: float | None  # this machine's nominal int8 rate (cores × clock × MAC/cycle), see host_peak
    peak_note: str = ""
    min_encoder_frames: int = WINDOW_FRAMES

    @property
    def efficiency(self) -> float | None:
        """Share of the nominal int8 rate the encoder reaches here; assumed the same on the Pi."""
        if not self.encoder_gmacs or not self.peak_gmacs:
            return None
        return self.encoder_gmacs / self.peak_gmacs


def host_peak(cpuinfo: str, cores: int) -> tuple[float | None, str]:
    """Nominal int8 GMAC/s of this x86 host from /proc/cpuinfo: AVX-512 VNNI 64, AVX2 32 MAC/cycle/core
    (one vpdpbusd / vpmaddubsw per cycle), times the reported clock."""
    mhz = re.search(r"cpu MHz\s*:\s*([0-9.]+)", cpuinfo)
    flags = re.search(r"flags\s*:(.*)", cpuinfo)
    if not mhz or not flags:
        return None, "clock or flags unknown"
    names = set(flags.group(1).split())
    per_cycle = 64 if "avx512_vnni" in names else 32 if "avx2" in names else 16
    ghz = float(mhz.group(1)) / 1000
    return cores * ghz * per_cycle, f"{cores} cores × {ghz:.2f} GHz × {per_cycle} int8 MAC/cycle"


def whisper_size(pack_id: str) -> str:
    for name in sorted(WHISPER_DIMS, key=len, reverse=True):
        if name in pack_id:
            return name
    return "base"


def encoder_macs(size: str, frames: int) -> float:
    """MACs of one Whisper encoder pass over ``frames`` mel frames (10 ms each; the conv stride halves them).

    conv1 (k=3): 3·mels·d·F; conv2 (k=3, stride 2): 3·d²·T; per layer, with T = F/2:
    Q, K, V, O projections 4·d²·T, attention scores and mix 2·T²·d, MLP (4d) 8·d²·T.
    """
    d, layers, mels = WHISPER_DIMS[size]
    t = frames / 2
    return 3 * mels * d * frames + 3 * d * d * t + layers * (12 * d * d * t + 2 * t * t * d)


def clip_frames(speech_s: float, floor: int) -> int:
    """Frames the encoder sees for a clip: its length in 10 ms frames, padded to the floor, at most 30 s."""
    return int(min(max(speech_s * 100, floor), WINDOW_FRAMES))


def measure_encoder_gmacs(pack_dir, size: str, frames: int = WINDOW_FRAMES, repeats: int = 3) -> float:
    """Effective int8 GMAC/s of the Whisper encoder here: best of ``repeats`` encodes of ``frames`` frames."""
    import ctranslate2
    import numpy as np

    model = ctranslate2.models.Whisper(str(pack_dir), device="cpu", compute_type="int8")
    mels = WHISPER_DIMS[size][2]
    features = ctranslate2.StorageView.from_array(np.zeros((1, mels, frames), dtype=np.float32))
    model.encode(features)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        model.encode(features)
        best = min(best, time.perf_counter() - started)
    return encoder_macs(size, frames) / best / 1e9


def project(row: dict, facts: MachineFacts, pi: PiAssumptions = PiAssumptions()) -> dict | None:
    """Pi 5 first audio for one latency row (medians), with its parts; None if a part was not measured."""
    first = row["first_audio"]["median"]
    asr = row.get("stages", {}).get("asr", {}).get("median")
    mt1 = row.get("clause1", {}).get("mt1", {}).get("median")
    tts1 = row.get("clause1", {}).get("tts1", {}).get("median")
    if None in (asr, mt1, tts1) or not facts.efficiency or not row["first_audio"]["n"]:
        return None
    k_mem = facts.bandwidth_gbs / pi.bandwidth_gbs
    k_compute = facts.peak_gmacs / pi.int8_gmacs  # same efficiency on both: time ratio = peak ratio
    macs = encoder_macs(facts.whisper, clip_frames(row["speech_s"], facts.min_encoder_frames))
    encoder_here = macs / (facts.encoder_gmacs * 1e9)
    encoder_pi = macs / (pi.int8_gmacs * facts.efficiency * 1e9)
    asr_pi = encoder_pi + max(asr - encoder_here, 0.0) * k_mem
    mt_pi, tts_pi = mt1 * k_mem, tts1 * k_compute
    rest = max(first - asr - mt1 - tts1, 0.0)
    return {"first_audio": round(asr_pi + mt_pi + tts_pi + rest, 2), "asr": round(asr_pi, 2),
            "encoder": round(encoder_pi, 3), "mt1": round(mt_pi, 2), "tts1": round(tts_pi, 2),
            "rest": round(rest, 2), "encoder_gmac": round(macs / 1e9, 1)}


def section(rows: list[dict], facts: MachineFacts, pi: PiAssumptions = PiAssumptions()) -> dict:
    """The projection for every row, with the inputs the report prints next to the formulas."""
    return {"assumptions": asdict(pi) | {"int8_gmacs": pi.int8_gmacs},
            "facts": asdict(facts) | {"efficiency": facts.efficiency},
            "mt_s_per_token_here": facts.mt_bytes / (facts.bandwidth_gbs * 1e9),
            "mt_s_per_token_pi": facts.mt_bytes / (pi.bandwidth_gbs * 1e9),
            "rows": {r["clip"]: project(r, facts, pi) for r in rows}}


def formula_md(proj: dict) -> str:
    """The formulas with this run's numbers, for the report."""
    a, f = proj["assumptions"], proj["facts"]
    enc = f"{f['encoder_gmacs']:.1f}" if f.get("encoder_gmacs") else "not measured"
    peak = f"{f['peak_gmacs']:.1f} GMAC/s ({f['peak_note']})" if f.get("peak_gmacs") else f"unknown ({f['peak_note']})"
    eff = f"{f['efficiency'] * 100:.0f} %" if f.get("efficiency") else "unknown"
    return "\n".join([
        "**Raspberry Pi 5 projection** (on paper, from this run's measurements; not measured on a Pi):",
        "",
        f"- Pi 5 figures: usable memory bandwidth BW_pi = {a['bandwidth_gbs']:.1f} GB/s; int8 compute "
        f"P_pi = {a['cores']} cores × {a['ghz']} GHz × {a['int8_macs_per_cycle']} MAC/cycle = "
        f"{a['int8_gmacs']:.1f} GMAC/s. Sources: {a['source']}.",
        f"- Here: BW_here = {f['bandwidth_gbs']:.1f} GB/s (measured), Whisper {f['whisper']} encoder at "
        f"R_here = {enc} GMAC/s (measured, int8, 30 s window) of a nominal P_here = {peak}: efficiency "
        f"η = R_here / P_here = {eff}, assumed the same on the Pi (R_pi = P_pi × η). MT pack model.bin "
        f"B = {f['mt_bytes'] / 1e9:.2f} GB.",
        f"- MT decode is memory-bound: s/token = B / BW → {proj['mt_s_per_token_here'] * 1e3:.0f} ms here "
        f"(bound), {proj['mt_s_per_token_pi'] * 1e3:.0f} ms on a Pi 5; MT1_pi = MT1_here × BW_here / BW_pi.",
        "- Whisper encoder is compute-bound: MACs(F) = 3·mels·d·F + 3·d²·F/2 + L·(12·d²·F/2 + 2·(F/2)²·d) "
        "for F mel frames (the clip's length, padded to the encoder floor); "
        "ASR_pi = MACs/(P_pi·η) + (ASR_here − MACs/R_here) × BW_here / BW_pi (the decoder is memory-bound).",
        "- TTS1_pi = TTS1_here × P_here / P_pi (compute-bound, same efficiency); the rest (queueing, playback "
        "write) is kept as measured.",
        "- first audio_pi = ASR_pi + MT1_pi + TTS1_pi + rest, where MT1 and TTS1 are clause 1's translation and "
        "synthesis times from the turn's events.",
    ])
