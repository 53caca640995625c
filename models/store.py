"""Installed model packs: listing, verifying and atomic installation.

Layout under the packs folder (on the device's data partition)::

    packs/
      whisper-base -> .versions/whisper-base-1a2b3c4d5e6f   (symlink: the active pack)
      .versions/whisper-base-1a2b3c4d5e6f/                   (pack folder: files + manifest.json)
      .staging/tmpXXXX/                                      (in-progress installs)

An install copies the pack into a staging folder on the same filesystem, checks
every file, renames it under ``.versions`` and then swaps the ``<id>`` symlink
with one ``rename()``: a power cut at any point leaves either the old pack or the
new one active, never a mix. Leftover staging folders are removed on the next install.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from tolk.models.errors import ManifestError, PackIntegrityError, PackNotFoundError, UnsafePackError
from tolk.models.integrity import ProgressFn, Problem, check_pack, content_problem, raise_for_problems, scan_tree
from tolk.models.manifest import MANIFEST_NAME, Kind, PackManifest

log = logging.getLogger(__name__)

VERSIONS = ".versions"
STAGING = ".staging"
LOCK_NAME = ".install.lock"
HASH_CACHE = ".verified.json"  # path -> [inode, mtime_ns, size, sha256] of files that hashed right
PREVIOUS_PREFIX = ".previous-"  # .previous-<id> -> the version `rollback` returns to
FileDoneFn = Callable[[str], None]


@dataclass(frozen=True)
class InstalledPack:
    manifest: PackManifest
    path: Path  # the real pack folder (symlink resolved)

    @property
    def id(self) -> str:
        return self.manifest.id


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_regular_file(src: Path, dst: Path) -> None:
    """Copy without following a symlink at ``src`` (O_NOFOLLOW), then fsync."""
    fd = os.open(src, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fin, open(dst, "xb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        fout.flush()
        os.fsync(fout.fileno())


class PackStore:
    """The packs folder. All installs go through ``install_dir`` or ``adopt``."""

    def __init__(self, root: Path, load_test: Callable[[InstalledPack], None] | None = None) -> None:
        self.root = Path(root)
        # run on a new version before the switch (models.loadtest.load_test: open it, one tiny inference);
        # when it raises, the new version is removed and the one in use stays
        self.load_test = load_test

    # ---- reading -------------------------------------------------------
    def _link_names(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for entry in sorted(self.root.iterdir()):
            if not entry.name.startswith(".") and entry.is_symlink():
                yield entry
            elif not entry.name.startswith("."):
                log.warning("ignoring %s in the packs folder: not a pack link", entry.name)

    @contextmanager
    def _install_lock(self) -> Iterator[None]:
        """One install at a time (another waits): a second install must not clean the first one's staging."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_NAME, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def installed(self) -> list[InstalledPack]:
        """Active packs, skipping (and logging) any whose manifest cannot be read."""
        packs = []
        for link in self._link_names():
            try:
                packs.append(self.get(link.name))
            except (ManifestError, PackNotFoundError, UnsafePackError, OSError) as err:
                log.warning("ignoring pack %s: %s", link.name, err)  # a stray link never stops the others
        return packs

    def get(self, pack_id: str) -> InstalledPack:
        link = self.root / pack_id
        if not link.is_symlink() or not link.exists():
            known = ", ".join(p.name for p in self._link_names()) or "none installed"
            raise PackNotFoundError(f"no installed pack '{pack_id}' (installed: {known})")
        real = link.resolve()
        if real.parent != (self.root / VERSIONS).resolve():
            raise UnsafePackError(f"pack link {pack_id} points outside {self.root / VERSIONS}")
        manifest = PackManifest.load(real)
        if manifest.id != pack_id:
            raise ManifestError(f"pack folder {pack_id} holds a manifest for '{manifest.id}'")
        return InstalledPack(manifest, real)

    def by_kind(self, kind: Kind) -> list[InstalledPack]:
        return [p for p in self.installed() if p.manifest.kind is kind]

    def checked(self, pack_id: str) -> InstalledPack:
        """The pack, verified before it is loaded: sizes always, sha256 of each file whose inode, mtime or size
        changed since its last good check (cached in the store). A damaged active version falls back to the
        version kept for rollback when that one is intact; otherwise PACK-INTEGRITY names the files."""
        pack = self.get(pack_id)
        cache_file = self.root / HASH_CACHE
        try:
            cache = json.loads(cache_file.read_text()) if cache_file.is_file() else {}
            cache = cache if isinstance(cache, dict) else {}
        except (OSError, ValueError):
            cache = {}
        before = dict(cache)
        problems = check_pack(pack.path, pack.manifest, hash_cache=cache)
        if cache != before:  # rewrite only when a file was (re)hashed: no write per start on the SD card
            self._write_cache(cache_file, cache)
        if not problems:
            return pack
        log.error("pack %s failed its check before loading: %s", pack_id, "; ".join(map(str, problems)))
        try:
            restored = self.rollback(pack_id)
            log.warning("pack %s: went back to the kept version %s", pack_id, restored.path.name)
            return restored
        except (PackNotFoundError, ManifestError, PackIntegrityError, UnsafePackError):
            raise_for_problems(pack_id, problems)
            raise  # unreachable: problems is not empty

    def _write_cache(self, path: Path, cache: dict) -> None:
        live = {k: v for k, v in cache.items() if Path(k).exists()}
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(live))
            os.replace(tmp, path)
        except OSError as err:  # a read-only store still loads; it just hashes again next time
            log.warning("cannot save the hash cache %s: %s", path, err)
            tmp.unlink(missing_ok=True)

    def verify(self, pack_id: str, *, hashes: bool = True, progress: ProgressFn | None = None) -> list[Problem]:
        pack = self.get(pack_id)
        return check_pack(pack.path, pack.manifest, hashes=hashes, progress=progress)

    # ---- installing ----------------------------------------------------
    def new_staging_dir(self) -> Path:
        """An empty folder on the packs filesystem, for a builder to fill and then ``adopt``."""
        staging_root = self.root / STAGING
        staging_root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="pack-", dir=staging_root))

    def clean_stale_staging(self) -> None:
        """At start: remove what a killed install left in staging, unless an install is running right now."""
        if not (self.root / STAGING).is_dir():
            return
        with open(self.root / LOCK_NAME, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # an install holds the lock: its staging is alive
            try:
                self.clean_staging()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def clean_staging(self) -> None:
        """Remove folders left by interrupted installs."""
        staging_root = self.root / STAGING
        if staging_root.is_dir():
            for leftover in staging_root.iterdir():
                log.info("removing leftover staging folder %s", leftover)
                shutil.rmtree(leftover, ignore_errors=True)

    def install_dir(
        self,
        source: Path,
        *,
        progress: ProgressFn | None = None,
        on_file_copied: FileDoneFn | None = None,
    ) -> InstalledPack:
        """Install the pack folder at ``source``: reject unsafe content before copying a byte."""
        source = Path(source)
        manifest = PackManifest.load(source)  # raises UnsafePathError for '..' / absolute paths
        found, problems = scan_tree(source)
        listed = {f.path for f in manifest.files}
        problems += [Problem(rel, "is not listed in the manifest", True)
                     for rel in sorted(found) if rel != MANIFEST_NAME and rel not in listed]
        for entry in manifest.files:
            if entry.path not in found:
                if not any(p.path == entry.path for p in problems):
                    problems.append(Problem(entry.path, "is missing"))
                continue
            reason = content_problem(entry.path, source / entry.path)
            if reason:
                problems.append(Problem(entry.path, reason, True))
        raise_for_problems(manifest.id, problems)
        with self._install_lock():
            return self._copy_and_adopt(source, manifest, progress, on_file_copied)

    def _copy_and_adopt(self, source: Path, manifest: PackManifest, progress: ProgressFn | None,
                        on_file_copied: FileDoneFn | None) -> InstalledPack:
        self.clean_staging()
        staging = self.new_staging_dir()
        try:
            for entry in manifest.files:
                dst = staging / entry.path
                dst.parent.mkdir(parents=True, exist_ok=True)
                _copy_regular_file(source / entry.path, dst)
                if on_file_copied:
                    on_file_copied(entry.path)
            manifest.dump(staging)
            return self._adopt(staging, progress=progress)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def adopt(self, staging: Path, *, progress: ProgressFn | None = None) -> InstalledPack:
        """Verify a filled staging folder and make it the active pack of its id, atomically."""
        with self._install_lock():
            return self._adopt(staging, progress=progress)

    def _adopt(self, staging: Path, *, progress: ProgressFn | None = None) -> InstalledPack:
        staging = Path(staging)
        if staging.parent.resolve() != (self.root / STAGING).resolve():
            raise ValueError(f"{staging} is not a staging folder of {self.root}")
        try:
            manifest = PackManifest.load(staging)
            raise_for_problems(manifest.id, check_pack(staging, manifest, progress=progress))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        digest = hashlib.sha256((staging / MANIFEST_NAME).read_bytes()).hexdigest()[:12]
        versions = self.root / VERSIONS
        versions.mkdir(parents=True, exist_ok=True)
        final = versions / f"{manifest.id}-{digest}"
        for path in sorted(staging.rglob("*"), reverse=True):
            if path.is_dir():
                _fsync_dir(path)
        _fsync_dir(staging)
        created = False
        if final.exists() and not check_pack(final, manifest):  # identical, intact pack already there
            shutil.rmtree(staging)
        else:
            if final.exists():  # same manifest but damaged files: install beside it, the swap retires it
                final = Path(tempfile.mkdtemp(prefix=f"{final.name}-", dir=versions))
                final.rmdir()
            os.rename(staging, final)
            created = True
        _fsync_dir(versions)
        if self.load_test is not None:
            try:
                self.load_test(InstalledPack(manifest, final))
            except BaseException:
                if created and (self.root / manifest.id).resolve() != final.resolve():
                    shutil.rmtree(final, ignore_errors=True)  # never the version in use
                raise
        self._point(manifest.id, final)
        log.info("installed pack %s (%s)", manifest.id, final.name)
        return InstalledPack(manifest, final)

    def _point(self, pack_id: str, target: Path) -> None:
        link = self.root / pack_id
        previous = link.resolve() if link.is_symlink() else None
        tmp_link = self.root / f".link-{pack_id}-{os.getpid()}"
        if tmp_link.is_symlink():
            tmp_link.unlink()
        os.symlink(os.path.relpath(target, self.root), tmp_link)
        os.replace(tmp_link, link)  # the atomic switch
        _fsync_dir(self.root)
        if previous is not None and previous != target.resolve() and previous.parent == target.parent:
            self._keep_previous(pack_id, previous)

    def _keep_previous(self, pack_id: str, previous: Path) -> None:
        """The version just replaced stays for `rollback`; the one kept before it goes."""
        keep = self.root / f"{PREVIOUS_PREFIX}{pack_id}"
        older = keep.resolve() if keep.is_symlink() else None
        tmp_link = self.root / f".link-prev-{pack_id}-{os.getpid()}"
        if tmp_link.is_symlink():
            tmp_link.unlink()
        os.symlink(os.path.relpath(previous, self.root), tmp_link)
        os.replace(tmp_link, keep)
        _fsync_dir(self.root)
        active = (self.root / pack_id).resolve()
        if older is not None and older not in (previous, active) and older.parent == previous.parent:
            shutil.rmtree(older, ignore_errors=True)

    def rollback(self, pack_id: str) -> InstalledPack:
        """Make the previously active version of ``pack_id`` active again (after verifying it)."""
        with self._install_lock():
            keep = self.root / f"{PREVIOUS_PREFIX}{pack_id}"
            if not keep.is_symlink() or not keep.exists():
                raise PackNotFoundError(f"no earlier version of '{pack_id}' is kept")
            previous = keep.resolve()
            manifest = PackManifest.load(previous)
            raise_for_problems(manifest.id, check_pack(previous, manifest))
            self._point(pack_id, previous)
            return InstalledPack(manifest, previous)

    def remove(self, pack_id: str) -> None:
        """Remove the pack and the earlier version kept for rollback."""
        with self._install_lock():
            pack = self.get(pack_id)
            keep = self.root / f"{PREVIOUS_PREFIX}{pack_id}"
            previous = keep.resolve() if keep.is_symlink() else None
            (self.root / pack_id).unlink()
            if keep.is_symlink():
                keep.unlink()
            _fsync_dir(self.root)
            shutil.rmtree(pack.path, ignore_errors=True)
            if previous is not None and previous.parent == pack.path.parent:
                shutil.rmtree(previous, ignore_errors=True)
