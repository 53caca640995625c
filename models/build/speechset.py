"""A real human-speech dev set: the Asterisk core sound prompts from Debian bookworm (never committed).

``apt-get download`` fetches the six ``asterisk-core-sounds-{en,es,fr}[-g722]`` packages (version
1.6.1-1) into the download cache, each .deb is checked against the sha256 pinned below, and
``dpkg-deb -x`` unpacks them. The ``-g722`` packages hold the recordings (16 kHz G.722, one file per
prompt under ``usr/share/asterisk/sounds/<voice>/``), the plain ones the transcripts
(``usr/share/doc/asterisk-core-sounds-<l>/core-sounds-<l>.txt.gz``, one ``prompt/id: text`` line per
prompt). The same prompt id in several languages is a parallel pair: real speech in, a reference
translation out.

Voices: Allison Smith (en_US, es_MX) and June Wallack (fr_CA), professional IVR recordings — real
voices, but read studio prompts, cleaner than a traveller at a station. Licence: CC-BY-SA-3.0
(Debian ``copyright`` file of the packages); the clips are used for measurement here and never
redistributed.
"""
from __future__ import annotations

import gzip
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from tolk.models.errors import FetchError
from tolk.models.integrity import sha256_file

log = logging.getLogger(__name__)

VERSION = "1.6.1-1"  # Debian bookworm
LICENCE = "CC-BY-SA-3.0 (Asterisk core sounds: Allison Smith, June Wallack; Digium, Inc.)"
LANGUAGES = ("en", "es", "fr")
RATE = 16000
# sha256 of each .deb as fetched from deb.debian.org bookworm/main on 2026-11-25
PACKAGES: dict[str, str] = {
    "asterisk-core-sounds-en-g722": "38c5261820b406dcb0ecb37675720da2b0864850690690352ca52707eb623806",
    "asterisk-core-sounds-es-g722": "e4e3b4281057d3b81b779298fd6be705f57411513955c518eed1bcaabbd615b8",
    "asterisk-core-sounds-fr-g722": "7add61d5e42279ecff1bbdf842a5a946ac3644fac9a0fe44384731aa7270c8e0",
    "asterisk-core-sounds-en": "973e797d28e37fa6ca3c0a9d6fa717e77cf1268ae916bf09fd3503113cdffa50",
    "asterisk-core-sounds-es": "9afdab7f559f036649fb406e625899306ca1004df8ebe39c30bfbd5912d66f74",
    "asterisk-core-sounds-fr": "04c82c78c570c43a7136cbc5e2488d0c470b775468dff9fbce4a131b18cf1056",
}
SOUNDS = Path("usr/share/asterisk/sounds")
SKIP_PREFIXES = ("silence/",)
Runner = Callable[..., subprocess.CompletedProcess]


@dataclass(frozen=True)
class Clip:
    id: str  # prompt id, e.g. "vm-intro" or "dictate/paused"
    language: str
    transcript: str
    path: Path  # the .g722 file
    voice: str  # e.g. "en_US_f_Allison"

    def audio(self) -> np.ndarray:
        return decode_g722(self.path)


# ---- transcripts ------------------------------------------------------------------------------------
def clean_text(text: str) -> str:
    """The spoken words of a transcript: [sound notes] and (stage directions) removed, spaces collapsed."""
    text = re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_transcripts(text: str) -> dict[str, str]:
    """``prompt/id: text`` lines -> {id: spoken text}; comments, blank texts, sound effects and silence/* skipped."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(";") or ":" not in line:
            continue
        prompt, _, spoken = line.partition(":")
        prompt, spoken = prompt.strip(), clean_text(spoken)
        if not prompt or " " in prompt or prompt.startswith(SKIP_PREFIXES) or not re.search(r"\w", spoken):
            continue
        out.setdefault(prompt, spoken)
    return out


def transcript_file(root: Path, language: str) -> Path:
    return Path(root) / f"usr/share/doc/asterisk-core-sounds-{language}/core-sounds-{language}.txt.gz"


def voice_dir(root: Path, language: str) -> Path:
    """The recordings folder of ``language`` (``<lang>_<REGION>_<sex>_<Name>``)."""
    folders = sorted(p for p in (Path(root) / SOUNDS).glob(f"{language}_*") if p.is_dir())
    if not folders:
        raise FetchError(f"no {language} recordings under {Path(root) / SOUNDS}")
    return folders[0]


# ---- fetching ---------------------------------------------------------------------------------------
def deb_name(package: str) -> str:
    return f"{package}_{VERSION}_all.deb"


def download(debs: Path, run: Runner = subprocess.run) -> list[Path]:
    """The six .debs in ``debs``, fetched with ``apt-get download`` when missing, each sha256-checked."""
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in PACKAGES if not (debs / deb_name(p)).exists()]
    if missing:
        if shutil.which("apt-get") is None:
            raise FetchError("apt-get is needed once to fetch the speech dev set (a Debian/Ubuntu host)")
        result = run(["apt-get", "download", *(f"{p}={VERSION}" for p in missing)], cwd=debs,
                     capture_output=True, text=True)
        if result.returncode != 0:
            raise FetchError(f"apt-get download failed: {result.stderr.strip()[-300:]} "
                             "(bookworm sources in apt? apt-get update)")
    paths = []
    for package, pinned in PACKAGES.items():
        path = debs / deb_name(package)
        if not path.exists():
            raise FetchError(f"apt-get download did not leave {path.name} in {debs}")
        digest = sha256_file(path)
        if digest != pinned:
            path.unlink()
            raise FetchError(f"{path.name}: sha256 {digest} does not match the pinned {pinned} (file removed)")
        paths.append(path)
    return paths


def extract(debs: Iterable[Path], root: Path, run: Runner = subprocess.run) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        result = run(["dpkg-deb", "-x", str(deb), str(root)], capture_output=True, text=True)
        if result.returncode != 0:
            raise FetchError(f"dpkg-deb -x {deb.name} failed: {result.stderr.strip()[-300:]}")
    (root / ".complete").write_text(VERSION + "\n")
    return root


def ensure_speechset(cache_dir: Path | None = None) -> Path:
    """The unpacked dev set in ``<cache>/speechset/root``; downloaded and unpacked on first use."""
    if cache_dir is None:
        from tolk.models import paths

        cache_dir = paths.cache_dir()
    base = Path(cache_dir) / "speechset"
    root = base / "root"
    marker = root / ".complete"
    if marker.exists() and marker.read_text().strip() == VERSION:
        return root
    log.info("fetching the speech dev set (asterisk-core-sounds %s, ~35 MB) into %s", VERSION, base)
    return extract(download(base / "debs"), root)


# ---- clips ------------------------------------------------------------------------------------------
def load_clips(root: Path, languages: Sequence[str] = LANGUAGES) -> list[Clip]:
    """Every prompt with both a transcript and a recording, per language."""
    clips = []
    for language in languages:
        with gzip.open(transcript_file(root, language), "rt", encoding="utf-8") as handle:
            transcripts = parse_transcripts(handle.read())
        folder = voice_dir(root, language)
        for prompt, text in transcripts.items():
            path = folder / f"{prompt}.g722"
            if path.exists():
                clips.append(Clip(prompt, language, text, path, folder.name))
    return clips


def pairs(clips: Iterable[Clip]) -> dict[str, dict[str, Clip]]:
    """Prompt id -> {language: clip}, only ids recorded in two languages or more."""
    by_id: dict[str, dict[str, Clip]] = {}
    for clip in clips:
        by_id.setdefault(clip.id, {})[clip.language] = clip
    return {k: v for k, v in by_id.items() if len(v) > 1}


def find(clips: Iterable[Clip], prompt: str, language: str) -> Clip:
    for clip in clips:
        if clip.id == prompt and clip.language == language:
            return clip
    raise FetchError(f"no {language} clip '{prompt}' in the speech dev set")


def decode_g722(path: Path) -> np.ndarray:
    """A .g722 file -> mono float32 at 16 kHz (PyAV's G.722 decoder)."""
    import av

    with av.open(str(path), format="g722") as container:
        frames = [frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    if rate != RATE:
        raise FetchError(f"{path.name}: {rate} Hz, expected {RATE}")
    audio = np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)
    return (audio.astype(np.float32) / 32768.0) if audio.dtype == np.int16 else audio.astype(np.float32)


def seconds(clip: Clip) -> float:
    return clip.audio().size / RATE
