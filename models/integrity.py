"""Checking a pack folder against its manifest, and refusing anything unsafe to load.

Only safe formats may be in a pack: CTranslate2 ``model.bin``, ONNX, JSON,
sentencepiece ``.model``, ``tokenizer.json``, plain text, Jinja templates and raw
float32 arrays (``.f32``, Kokoro's voices: only ever read as numbers).
Pickle-based files (``.pt``, ``.pth``, ``.ckpt``, ``.pkl``, a PyTorch ``.bin``)
are rejected by name and by content, as are symlinks, hard links and any file
the manifest does not list.
"""
from __future__ import annotations

import hashlib
import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tolk.models.errors import ManifestError, PackIntegrityError, UnsafePackError
from tolk.models.manifest import MANIFEST_NAME, PackManifest, check_relative_path

log = logging.getLogger(__name__)

SAFE_SUFFIXES = frozenset({".bin", ".json", ".onnx", ".model", ".txt", ".jinja", ".md", ".vocab", ".tsv", ".f32"})
PICKLE_SUFFIXES = frozenset({".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".h5"})
_CHUNK = 1 << 20
# Raw float32 tables (Kokoro's voices) are numbers a model multiplies in: NaN or inf there gives silence or noise
# (a NaN-filled voice spoke 41 s of silence). The 13 Kokoro v1.0 voices hold |values| up to 2.22 (ff_siwis;
# std 0.14-0.21), the tiny test voice up to 0.05: anything beyond 100 (45x the largest seen) is not a voice.
MAX_F32_MAGNITUDE = 100.0
ProgressFn = Callable[[int], None]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file of a pack."""

    path: str
    message: str
    unsafe: bool = False  # True: must never be loaded (link, pickle, path escape, unlisted file)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def sha256_file(path: Path, progress: ProgressFn | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if progress:
                progress(len(chunk))
    return digest.hexdigest()


def is_ctranslate2_bin(path: Path) -> bool:
    """True if ``path`` starts like a CTranslate2 ``model.bin`` (binary version, then a spec name)."""
    with open(path, "rb") as handle:
        head = handle.read(128)
    if len(head) < 8:
        return False
    (version,) = struct.unpack_from("<I", head, 0)
    (name_len,) = struct.unpack_from("<H", head, 4)
    if not 1 <= version <= 64 or not 2 <= name_len <= 120 or 6 + name_len > len(head):
        return False
    name = head[6 : 6 + name_len]
    return name.endswith(b"\x00") and name[:-1].isascii() and name[:-1].decode("ascii").isidentifier()


def _looks_like_pickle_or_torch_zip(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(4)
    # Pickle protocol 2-5 starts with PROTO (0x80) + version; torch.save writes a zip archive.
    return (len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5) or head.startswith(b"PK\x03\x04")


def content_problem(rel: str, path: Path) -> str | None:
    """Why the file at ``path`` must not be in a pack, or None if its type is acceptable."""
    suffix = Path(rel).suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        return f"pickle-based format '{suffix}' is never loaded (it can run code); convert it to CTranslate2 or ONNX"
    if suffix not in SAFE_SUFFIXES:
        return f"file type '{suffix or '(none)'}' is not an allowed pack format"
    if suffix == ".bin" and not is_ctranslate2_bin(path):
        return "'.bin' file is not a CTranslate2 model (a PyTorch/pickle .bin is never loaded)"
    if suffix == ".f32":  # read with numpy.fromfile only: any bytes are numbers, none can run
        return None if path.stat().st_size % 4 == 0 else "'.f32' file is not a whole number of float32 values"
    if suffix != ".bin" and suffix != ".onnx" and _looks_like_pickle_or_torch_zip(path):
        return "file content is a pickle or zip archive, not the format its name claims"
    return None


def float_table_problem(chunks: Iterable) -> str | None:
    """Why a float32 table (numpy arrays, read in pieces) cannot be used, or None: NaN, inf or absurd values."""
    import numpy as np

    size = bad = 0
    largest = 0.0
    for values in chunks:
        finite = np.isfinite(values)
        size, bad = size + values.size, bad + int(values.size - np.count_nonzero(finite))
        if values.size:
            largest = max(largest, float(np.abs(values[finite]).max(initial=0.0)))
    if bad:
        return f"holds {bad:,} NaN or infinite values of {size:,}"
    if largest > MAX_F32_MAGNITUDE:
        return f"holds a value of magnitude {largest:.3g} (over {MAX_F32_MAGNITUDE:g}: not a voice table)"
    return None


def _f32_chunks(path: Path) -> Iterator:
    import numpy as np

    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):  # 1 MiB, a whole number of float32 values: bounded memory
            yield np.frombuffer(chunk, dtype=np.float32)


def value_problems(pack_dir: Path, manifest: PackManifest) -> list[Problem]:
    """Every raw float32 file (``.f32``) of the pack whose numbers no engine can use (``float_table_problem``).
    Checked once, at install: the hashes then keep the values as they were."""
    problems = []
    for entry in manifest.files:
        if Path(entry.path).suffix.lower() == ".f32":
            reason = float_table_problem(_f32_chunks(Path(pack_dir) / entry.path))
            if reason:
                problems.append(Problem(entry.path, reason))
    return problems


def scan_tree(pack_dir: Path) -> tuple[dict[str, os.stat_result], list[Problem]]:
    """Walk ``pack_dir`` without following links; return regular files found and structural problems."""
    found: dict[str, os.stat_result] = {}
    problems: list[Problem] = []
    root = Path(pack_dir)
    root_st = os.lstat(root)
    if stat.S_ISLNK(root_st.st_mode):
        return found, [Problem(".", "the pack folder itself is a symlink", unsafe=True)]
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                problems.append(Problem(rel, f"is a symlink (to {os.readlink(full)!r}); packs may not contain links", True))
            elif stat.S_ISDIR(st.st_mode):
                continue
            elif not stat.S_ISREG(st.st_mode):
                problems.append(Problem(rel, "is not a regular file (device, fifo or socket)", True))
            elif st.st_nlink > 1:
                problems.append(Problem(rel, f"is a hard link ({st.st_nlink} names); packs may not contain links", True))
            else:
                found[rel] = st
        # never descend into symlinked directories (os.walk lists them in dirnames)
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink()]
    return found, problems


def check_pack(
    pack_dir: Path,
    manifest: PackManifest | None = None,
    *,
    hashes: bool = True,
    progress: ProgressFn | None = None,
    hash_cache: dict[str, list] | None = None,
) -> list[Problem]:
    """Every problem with the pack at ``pack_dir``: safety first, then sizes, then sha256.

    ``hash_cache`` (path -> [inode, mtime_ns, size, sha256]) skips hashing a file whose inode, mtime and size
    are those of its last good check; it is updated with every file that hashes right."""
    pack_dir = Path(pack_dir)
    if manifest is None:
        try:
            manifest = PackManifest.load(pack_dir)
        except ManifestError as err:
            return [Problem(MANIFEST_NAME, str(err), isinstance(err, UnsafePackError))]
    found, problems = scan_tree(pack_dir)
    listed = {f.path for f in manifest.files}
    for rel in sorted(found):
        if rel != MANIFEST_NAME and rel not in listed:
            problems.append(Problem(rel, "is not listed in the manifest", True))
    for entry in manifest.files:
        try:
            check_relative_path(entry.path)
        except ManifestError as err:
            problems.append(Problem(entry.path, str(err), True))
            continue
        st = found.get(entry.path)
        if st is None:
            if not any(p.path == entry.path for p in problems):
                problems.append(Problem(entry.path, "is missing"))
            continue
        reason = content_problem(entry.path, pack_dir / entry.path)
        if reason:
            problems.append(Problem(entry.path, reason, True))
            continue
        if st.st_size != entry.size:
            problems.append(Problem(entry.path, f"size {st.st_size} bytes, manifest says {entry.size}"))
            continue
        if hashes:
            key, stamp = str(pack_dir / entry.path), [st.st_ino, st.st_mtime_ns, st.st_size]
            cached = hash_cache.get(key) if hash_cache is not None else None
            if cached is not None and cached[:3] == stamp and cached[3] == entry.sha256:
                continue
            actual = sha256_file(pack_dir / entry.path, progress)
            if actual == entry.sha256 and hash_cache is not None:
                hash_cache[key] = stamp + [actual]
            if actual != entry.sha256:
                problems.append(Problem(entry.path, f"sha256 {actual[:16]}… does not match manifest {entry.sha256[:16]}…"))
    return problems


def raise_for_problems(pack_id: str, problems: Iterable[Problem]) -> None:
    """Raise the most serious error for ``problems`` (unsafe before integrity), naming every file."""
    problems = list(problems)
    if not problems:
        return
    text = "; ".join(str(p) for p in problems)
    if any(p.unsafe for p in problems):
        raise UnsafePackError(f"pack {pack_id} rejected: {text}")
    raise PackIntegrityError(f"pack {pack_id} failed verification: {text}")


def file_entries(pack_dir: Path, paths: Iterable[str], progress: ProgressFn | None = None) -> list[dict]:
    """Size and sha256 of each path (relative to ``pack_dir``), as manifest ``files`` entries."""
    out = []
    for rel in sorted(paths):
        full = Path(pack_dir) / rel
        out.append({"path": rel, "size": full.stat().st_size, "sha256": sha256_file(full, progress)})
    return out
