"""Installed model packs: listing, verifying and atomic installation.

Layout under the packs folder (on the device's data partition)::

    packs/
      whisper-base -> .versions/whisper-base-1a2b3c4d5e6f   (symlink: the active pack)
      .versions/whisper-base-1a2b3c4d5e6f/                   (pack folder: files + manifest.json)
      .previous-whisper-base -> .versions/whisper-base-…     (symlink: the version `rollback` returns to)
      .staging/tmpXXXX/                                      (in-progress installs)
      .retired/                                              (versions being deleted)
      .install.lock                                          (one install at a time)

An install copies the pack into a staging folder on the same filesystem, checks
every file, renames it under ``.versions`` and then swaps the ``<id>`` symlink
with one ``rename()``: a power cut at any point leaves either the old pack or the
new one active, never a mix. Leftover staging folders are removed on the next install.

A version in use is never deleted. A process that loads a version holds a ``Lease``: a shared ``flock`` on the
version folder itself, for as long as it uses it. Deleting a version (an install or rollback retiring the one kept
before, ``remove``, the sweep) first takes an exclusive non-blocking ``flock`` on the folder; when that fails some
process still uses it, and the folder stays until the first install or start after that process lets go. A kernel
lock rather than a reference count in a file: it works across processes (the appliance, a separate
``tolk models install``, the console), needs no file of its own, and is dropped by the kernel when the holder
exits or crashes, so no count is ever left behind by a killed process.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from tolk.models.errors import (ErrorCode, ManifestError, PackIntegrityError, PackNotFoundError, TolkError,
                                UnsafePackError)
from tolk.models.integrity import (ProgressFn, Problem, check_pack, content_problem, raise_for_problems, scan_tree,
                                   value_problems)
from tolk.models.manifest import MANIFEST_NAME, Kind, PackManifest

log = logging.getLogger(__name__)

VERSIONS = ".versions"
STAGING = ".staging"
LOCK_NAME = ".install.lock"
HASH_CACHE = ".verified.json"  # path -> [inode, mtime_ns, size, sha256] of files that hashed right
MAX_CACHE_BYTES = 4_000_000  # ~200 bytes an entry: 20,000 pack files; the default packs have 30
PREVIOUS_PREFIX = ".previous-"  # .previous-<id> -> the version `rollback` returns to
RETIRED = ".retired"  # a version being deleted is renamed here first: no reader finds it half-deleted
ASIDE = ".aside-"  # a state path that was not what the store makes (a folder for the lock, a link) is moved to this
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


class Lease:
    """A shared ``flock`` on one version folder: while any process holds one, nothing deletes that folder.

    Released by ``close()`` or when the holder exits (the kernel drops it; a crash leaves nothing behind)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)  # a delete holds LOCK_EX only while it renames the folder away
            if not os.path.samestat(os.fstat(fd), os.stat(self.path)):
                raise FileNotFoundError(f"{self.path} was replaced")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _target(link: Path) -> Path | None:
    """Where a link in the packs folder leads (None for a link loop)."""
    try:
        return link.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python 3.11)
        return None


def _remove_entry(path: Path) -> None:
    """Delete a leftover: a real folder with its contents, anything else (a link too) by its own name only."""
    if _is_real_dir(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with suppress(OSError):
            path.unlink()


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

    def _move_aside(self, path: Path, why: str) -> None:
        """Rename a state path that is not what the store makes (a folder or a link where a file belongs, a file
        where a folder belongs) out of the way, so the store can make it again: kept for inspection, logged.
        FILE-ERROR when even that fails."""
        aside = path.with_name(f"{ASIDE}{path.name.lstrip('.')}-{time.time_ns()}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return  # another process moved it first
        except OSError as err:
            raise TolkError(f"{path} {why} and cannot be moved aside: {err.strerror}",
                            code=ErrorCode.FILE_ERROR) from err
        log.warning("%s %s: moved aside to %s", path, why, aside.name)

    def _state_dir(self, name: str) -> Path:
        """The store's own folder ``name`` (staging, retired), made when missing; anything else there (a file, a
        symlink to elsewhere) is moved aside first, never followed."""
        path = self.root / name
        if os.path.lexists(path) and not _is_real_dir(path):
            self._move_aside(path, "is not a folder")
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _open_lock(self) -> int:
        """The install lock's file, opened without following a link. A folder, a link or a fifo at that path is
        moved aside and the lock made again (logged); an unreadable lock file is FILE-ERROR (moving it aside
        could let two installs run at once)."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK_NAME
        flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # flock needs no write
        for attempt in range(3):
            try:
                fd = os.open(path, flags, 0o644)
            except OSError as err:  # EISDIR: a folder; ELOOP: a symlink (O_NOFOLLOW); EACCES: not readable
                if err.errno not in (errno.EISDIR, errno.ELOOP) or attempt == 2:
                    raise TolkError(f"cannot open the install lock {path}: {err.strerror}",
                                    code=ErrorCode.FILE_ERROR) from err
                self._move_aside(path, "is a folder, not the lock file" if err.errno == errno.EISDIR
                                 else "is a symlink, not the lock file")
                continue
            if stat.S_ISREG(os.fstat(fd).st_mode):
                return fd
            os.close(fd)
            if attempt < 2:
                self._move_aside(path, "is not a regular file")
        raise TolkError(f"the install lock {path} is not a regular file and cannot be replaced",
                        code=ErrorCode.FILE_ERROR)

    @contextmanager
    def _install_lock(self) -> Iterator[None]:
        """One install at a time (another waits): a second install must not clean the first one's staging."""
        fd = self._open_lock()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

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
        return self._checked(self.get(pack_id))

    def use(self, pack_id: str) -> tuple[InstalledPack, Lease]:
        """The active version of ``pack_id``, leased (its folder stays until the lease is closed) and then verified
        as ``checked`` does. The caller closes the lease when it no longer uses the pack."""
        for _ in range(3):
            pack = self.get(pack_id)
            try:
                lease = Lease(pack.path)
                break
            except FileNotFoundError:  # replaced and deleted between reading the link and leasing: read it again
                continue
        else:
            raise PackNotFoundError(f"pack {pack_id} kept changing while it was being loaded")
        try:
            good = self._checked(pack)
            if good.path != pack.path:  # went back to the kept version, which is active now
                lease.close()
                lease = Lease(good.path)
        except BaseException:
            lease.close()
            raise
        return good, lease

    def _checked(self, pack: InstalledPack) -> InstalledPack:
        pack_id = pack.id
        cache_file = self.root / HASH_CACHE
        try:  # only a regular file of sane size, never through a link (a folder there is replaced on write)
            st = os.lstat(cache_file)
            readable = stat.S_ISREG(st.st_mode) and st.st_size <= MAX_CACHE_BYTES
            cache = json.loads(cache_file.read_text()) if readable else {}
            cache = cache if isinstance(cache, dict) else {}
        except (OSError, ValueError, RecursionError):
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
            if _is_real_dir(path):  # os.replace cannot put a file over a folder
                self._move_aside(path, "is a folder, not the hash cache")
            tmp.write_text(json.dumps(live))
            os.replace(tmp, path)
        except (OSError, TolkError) as err:  # a read-only store still loads; it just hashes again next time
            log.warning("cannot save the hash cache %s: %s", path, err)
            tmp.unlink(missing_ok=True)

    def verify(self, pack_id: str, *, hashes: bool = True, progress: ProgressFn | None = None) -> list[Problem]:
        pack = self.get(pack_id)
        return check_pack(pack.path, pack.manifest, hashes=hashes, progress=progress)

    # ---- installing ----------------------------------------------------
    def new_staging_dir(self) -> Path:
        """An empty folder on the packs filesystem, for a builder to fill and then ``adopt``."""
        return Path(tempfile.mkdtemp(prefix="pack-", dir=self._state_dir(STAGING)))

    def clean_stale_staging(self) -> None:
        """At start: remove what a killed install left in staging and every version that no link names and no
        process uses, unless an install is running right now. Never stops a start: a problem is logged."""
        if not self.root.is_dir():
            return
        try:
            fd = self._open_lock()
        except TolkError as err:
            log.warning("packs folder not tidied: %s", err)
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # an install holds the lock: its staging is alive
            self.clean_staging()
            self._sweep()
        except (OSError, TolkError) as err:
            log.warning("packs folder not tidied: %s", err)
        finally:
            os.close(fd)

    def clean_staging(self) -> None:
        """Remove folders left by interrupted installs (never following a link out of the packs folder)."""
        staging_root = self.root / STAGING
        if _is_real_dir(staging_root):
            for leftover in staging_root.iterdir():
                log.info("removing leftover staging folder %s", leftover)
                _remove_entry(leftover)

    def _sweep(self) -> None:
        """Delete each version no link names (neither active nor kept for rollback) unless a process still
        holds a lease on it, and finish deletes a power cut interrupted. Called with the install lock held."""
        versions = self.root / VERSIONS
        for stale in self.root.glob(".link-*"):  # a temporary link a killed switch left: no switch runs now
            if stale.is_symlink():
                with suppress(OSError):
                    stale.unlink()
        if _is_real_dir(versions):
            named = {_target(entry) for entry in self.root.iterdir() if entry.is_symlink()}
            for version in sorted(versions.iterdir()):
                if _is_real_dir(version) and version.resolve() not in named:
                    self._delete_version(version)
        retired = self.root / RETIRED
        if _is_real_dir(retired):
            for leftover in retired.iterdir():
                _remove_entry(leftover)

    def _delete_version(self, version: Path) -> bool:
        """Delete a version folder unless a process holds a lease on it (then it stays, for the next sweep).
        The folder is renamed away under an exclusive lock, so a reader never finds it half deleted."""
        try:
            fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return True
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("keeping %s: a running process uses it (deleted once it lets go)", version.name)
                return False
            gone = self._state_dir(RETIRED) / f"{version.name}-{os.getpid()}-{time.monotonic_ns()}"
            os.rename(version, gone)
        except (OSError, TolkError) as err:  # tidying never fails the install or start that asked for it
            log.warning("cannot delete version %s now: %s", version.name, err)
            return False
        finally:
            os.close(fd)
        log.info("deleted version %s", version.name)
        shutil.rmtree(gone, ignore_errors=True)
        return True

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
            unusable = value_problems(staging, manifest)
            if unusable:  # the right bytes (hashes match) of numbers no engine can use: the one in use stays
                raise TolkError(f"pack {manifest.id} does not load: " + "; ".join(map(str, unusable)),
                                code=ErrorCode.PACK_BROKEN)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        digest = hashlib.sha256((staging / MANIFEST_NAME).read_bytes()).hexdigest()[:12]
        versions = self.root / VERSIONS
        if os.path.lexists(versions) and not versions.is_dir():  # a file or a dangling link: holds no version
            self._move_aside(versions, "is not a folder")
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
                    self._delete_version(final)  # never the version in use
                raise
        self._point(manifest.id, final)
        log.info("installed pack %s (%s)", manifest.id, final.name)
        self._sweep()
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
        """The version just replaced stays for `rollback`; the one kept before it goes at the next sweep (or
        later, while a process still uses it)."""
        keep = self.root / f"{PREVIOUS_PREFIX}{pack_id}"
        tmp_link = self.root / f".link-prev-{pack_id}-{os.getpid()}"
        if tmp_link.is_symlink():
            tmp_link.unlink()
        os.symlink(os.path.relpath(previous, self.root), tmp_link)
        os.replace(tmp_link, keep)
        _fsync_dir(self.root)

    def rollback(self, pack_id: str) -> InstalledPack:
        """Make the previously active version of ``pack_id`` active again (after verifying it)."""
        with self._install_lock():
            keep = self.root / f"{PREVIOUS_PREFIX}{pack_id}"
            if not keep.is_symlink() or not keep.exists():
                raise PackNotFoundError(f"no earlier version of '{pack_id}' is kept")
            previous = keep.resolve()
            if previous.parent != (self.root / VERSIONS).resolve():
                raise UnsafePackError(f"the kept version of {pack_id} points outside {self.root / VERSIONS}")
            manifest = PackManifest.load(previous)
            if manifest.id != pack_id:
                raise ManifestError(f"the kept version of {pack_id} holds a manifest for '{manifest.id}'")
            raise_for_problems(manifest.id, check_pack(previous, manifest))
            self._point(pack_id, previous)
            self._sweep()
            return InstalledPack(manifest, previous)

    def remove(self, pack_id: str) -> None:
        """Remove the pack and the earlier version kept for rollback (a version a process still uses stays on
        disk, unnamed, until it lets go)."""
        with self._install_lock():
            self.get(pack_id)
            keep = self.root / f"{PREVIOUS_PREFIX}{pack_id}"
            (self.root / pack_id).unlink()
            if keep.is_symlink():
                keep.unlink()
            _fsync_dir(self.root)
            self._sweep()
