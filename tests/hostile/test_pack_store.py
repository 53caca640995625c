"""Packs: verified before use, and a bad install changes nothing (real files on a real filesystem).

Each hostile case asserts its code and that the active pack is still active and verified."""
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest

from tolk.models.errors import ManifestError, PackIntegrityError, PackNotFoundError, UnsafePackError
from tolk.models.integrity import check_pack, file_entries, is_ctranslate2_bin
from tolk.models.manifest import PackManifest
from tolk.models.store import STAGING, PackStore
from tests.packfixtures import make_pack, rewrite_manifest


@pytest.fixture
def store(tmp_path):
    return PackStore(tmp_path / "packs")


@pytest.fixture
def installed(store, tmp_path):
    """A store with pack 'tiny-mt' version 1 installed."""
    make_pack(tmp_path / "v1", payload=b"\x01" * 64)
    store.install_dir(tmp_path / "v1")
    return store


def snapshot(root):
    """Every path under root (links not followed) with its size, excluding the empty staging folder."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, root)] = os.lstat(full).st_size if not os.path.isdir(full) else "dir"
    return out


def test_install_and_load(installed):
    pack = installed.get("tiny-mt")
    assert pack.manifest.languages == ("en", "es")
    assert (pack.path / "model.bin").is_file()
    assert installed.verify("tiny-mt") == []
    assert [p.id for p in installed.installed()] == ["tiny-mt"]


def test_flipped_byte_is_found_and_named(installed):
    pack = installed.get("tiny-mt")
    target = pack.path / "config.json"
    data = bytearray(target.read_bytes())
    data[3] ^= 0x01
    target.write_bytes(bytes(data))
    problems = installed.verify("tiny-mt")
    assert [p.path for p in problems] == ["config.json"]
    assert "sha256" in problems[0].message
    with pytest.raises(PackIntegrityError) as caught:  # no earlier version to fall back to: a clear error
        installed.checked("tiny-mt")
    assert caught.value.code == "PACK-INTEGRITY" and "config.json" in str(caught.value)
    assert (pack.path / "config.json").read_bytes() == bytes(data)  # the damaged file is left for inspection


def test_unknown_pack_lists_installed(installed):
    with pytest.raises(PackNotFoundError, match="installed: tiny-mt") as caught:
        installed.get("nope")
    assert caught.value.code == "PACK-MISSING" and installed.verify("tiny-mt") == []


def test_reinstalling_same_pack_is_idempotent(installed, tmp_path):
    before = snapshot(installed.root)
    installed.install_dir(tmp_path / "v1")
    assert snapshot(installed.root) == before


def test_new_version_replaces_old_atomically(installed, tmp_path):
    old_path = installed.get("tiny-mt").path
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    installed.install_dir(tmp_path / "v2")
    new = installed.get("tiny-mt")
    assert new.path != old_path and old_path.exists()  # the old version is kept for rollback
    assert check_pack(new.path) == []
    assert [p.id for p in installed.installed()] == ["tiny-mt"]  # and is not an installed pack
    make_pack(tmp_path / "v3", payload=b"\x03" * 64)
    installed.install_dir(tmp_path / "v3")
    assert not old_path.exists() and new.path.exists()  # only one earlier version is kept
    assert installed.rollback("tiny-mt").path == new.path == installed.get("tiny-mt").path


def test_rollback_without_an_earlier_version_says_so(installed):
    from tolk.models.errors import PackNotFoundError

    active = installed.get("tiny-mt").path
    with pytest.raises(PackNotFoundError) as caught:
        installed.rollback("tiny-mt")
    assert caught.value.code == "PACK-MISSING"
    assert installed.get("tiny-mt").path == active and installed.verify("tiny-mt") == []


def test_a_stray_file_or_link_in_the_store_is_skipped(installed, tmp_path):
    (installed.root / "notes.txt").write_text("x")
    (installed.root / "stray").symlink_to(tmp_path)
    (installed.root / "dangling").symlink_to(tmp_path / "gone")
    (installed.root / "loop").symlink_to(installed.root / "loop")
    (installed.root / "Bad Name").mkdir()
    assert [p.id for p in installed.installed()] == ["tiny-mt"]
    assert installed.checked("tiny-mt").path == installed.get("tiny-mt").path and installed.verify("tiny-mt") == []
    assert (tmp_path / "v1" / "model.bin").exists()  # nothing followed the links


def test_concurrent_installs_both_land(installed, tmp_path):
    """A second install waits for the first instead of deleting its staging folder."""
    import threading

    make_pack(tmp_path / "a", pack_id="pack-a", payload=b"\x0a" * 4096)
    make_pack(tmp_path / "b", pack_id="pack-b", payload=b"\x0b" * 4096)
    errors = []

    def install(folder):
        try:
            installed.install_dir(folder)
        except Exception as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=install, args=(tmp_path / n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and {p.id for p in installed.installed()} == {"tiny-mt", "pack-a", "pack-b"}


def _unsafe_variants(tmp_path):
    """(name, folder) of packs that must be rejected."""
    cases = {}

    bad = tmp_path / "dotdot"
    make_pack(bad, payload=b"\x03" * 64)
    (tmp_path / "outside.json").write_text("{}")
    rewrite_manifest(bad, files=[*PackManifest.load(bad).to_dict()["files"],
                                 {"path": "../outside.json", "size": 2, "sha256": "0" * 64}])
    cases["../outside.json"] = bad

    absolute = tmp_path / "absolute"
    make_pack(absolute, payload=b"\x04" * 64)
    rewrite_manifest(absolute, files=[{"path": "/etc/hostname", "size": 1, "sha256": "0" * 64}])
    cases["/etc/hostname"] = absolute

    link = tmp_path / "symlink"
    make_pack(link, payload=b"\x05" * 64)
    os.remove(link / "config.json")
    os.symlink("/etc/hostname", link / "config.json")
    cases["config.json"] = link

    hard = tmp_path / "hardlink"
    make_pack(hard, payload=b"\x06" * 64)
    os.link(hard / "config.json", tmp_path / "hard-twin.json")
    cases["config.json "] = hard

    torch_file = tmp_path / "torchfile"
    make_pack(torch_file, payload=b"\x07" * 64,
              extra_files={"weights.pt": pickle.dumps({"w": [1, 2]}, protocol=4)})
    cases["weights.pt"] = torch_file

    pickle_bin = tmp_path / "picklebin"
    make_pack(pickle_bin, payload=b"\x08" * 64)
    (pickle_bin / "model.bin").write_bytes(pickle.dumps({"w": 1}, protocol=2))
    rewrite_manifest(pickle_bin, files=file_entries(pickle_bin, ["model.bin", "config.json", "tokenizer.json"]))
    cases["model.bin"] = pickle_bin

    unlisted = tmp_path / "unlisted"
    make_pack(unlisted, payload=b"\x09" * 64)
    (unlisted / "extra.json").write_text("{}")
    cases["extra.json"] = unlisted
    return cases


def test_unsafe_packs_are_rejected_and_nothing_changes(installed, tmp_path):
    for name, folder in _unsafe_variants(tmp_path).items():
        before = snapshot(installed.root)
        with pytest.raises((UnsafePackError, ManifestError)) as err:
            installed.install_dir(folder)
        assert name.strip() in str(err.value), (name, str(err.value))
        assert err.value.code == "PACK-UNSAFE"
        after = snapshot(installed.root)
        assert {k: v for k, v in after.items() if not k.startswith(STAGING)} == \
            {k: v for k, v in before.items() if not k.startswith(STAGING)}, name
        assert not ((installed.root / STAGING).exists() and any((installed.root / STAGING).iterdir()))
        assert installed.get("tiny-mt").manifest.languages == ("en", "es")
        assert installed.verify("tiny-mt") == []
    assert (tmp_path / "outside.json").read_text() == "{}"


def test_missing_and_mismatched_files_are_rejected(installed, tmp_path):
    missing = tmp_path / "missing"
    make_pack(missing, payload=b"\x0a" * 64)
    os.remove(missing / "tokenizer.json")
    active = installed.get("tiny-mt").path
    with pytest.raises(PackIntegrityError, match="tokenizer.json: is missing") as caught:
        installed.install_dir(missing)
    assert caught.value.code == "PACK-INTEGRITY" and installed.get("tiny-mt").path == active

    mismatch = tmp_path / "mismatch"
    make_pack(mismatch, payload=b"\x0b" * 64)
    (mismatch / "config.json").write_bytes(b'{"layers": 3}')
    with pytest.raises(PackIntegrityError, match="config.json: sha256") as caught:
        installed.install_dir(mismatch)
    assert caught.value.code == "PACK-INTEGRITY" and installed.get("tiny-mt").path == active
    assert installed.verify("tiny-mt") == []


def test_interrupted_install_keeps_old_pack(installed, tmp_path):
    make_pack(tmp_path / "v2", payload=b"\x0c" * 64)
    old = installed.get("tiny-mt").path

    def power_cut(path):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        installed.install_dir(tmp_path / "v2", on_file_copied=power_cut)
    assert installed.get("tiny-mt").path == old
    assert installed.verify("tiny-mt") == []
    assert not any((installed.root / STAGING).iterdir())


def test_killed_install_keeps_old_pack_and_next_install_cleans_up(installed, tmp_path):
    """SIGKILL the installing process after its first file: no cleanup code runs at all."""
    make_pack(tmp_path / "v2", payload=b"\x0d" * 64)
    old = installed.get("tiny-mt").path
    script = textwrap.dedent(f"""
        import os, signal
        from tolk.models.store import PackStore
        store = PackStore({str(installed.root)!r})
        store.install_dir({str(tmp_path / 'v2')!r}, on_file_copied=lambda p: os.kill(os.getpid(), signal.SIGKILL))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd())
    assert proc.returncode == -signal.SIGKILL
    assert any((installed.root / STAGING).iterdir()), "the killed install left its staging folder"
    assert installed.get("tiny-mt").path == old and installed.verify("tiny-mt") == []

    installed.install_dir(tmp_path / "v2")  # the next install cleans up and succeeds
    assert not any((installed.root / STAGING).iterdir())
    assert installed.get("tiny-mt").path != old and installed.verify("tiny-mt") == []


def test_ctranslate2_bin_detection(tmp_path):
    from tests.packfixtures import ct2_bin_bytes

    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_bytes(ct2_bin_bytes("WhisperSpec"))
    bad.write_bytes(pickle.dumps([1, 2, 3]))
    assert is_ctranslate2_bin(good) and not is_ctranslate2_bin(bad)
    zipped = tmp_path / "torch.bin"
    zipped.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    assert not is_ctranslate2_bin(zipped)


def test_remove(installed):
    path = installed.get("tiny-mt").path
    installed.remove("tiny-mt")
    assert not path.exists() and installed.installed() == []


def test_a_pack_is_checked_before_loading_with_cached_hashes(installed, monkeypatch):
    from tolk.models import integrity

    hashed = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path, progress=None: hashed.append(path) or real(path))
    installed.checked("tiny-mt")
    first = len(hashed)
    assert first > 0
    installed.checked("tiny-mt")
    assert len(hashed) == first  # unchanged files are not hashed again


def test_a_byte_appended_after_install_is_caught_before_loading(installed):
    from tolk.models.errors import PackIntegrityError

    pack = installed.get("tiny-mt")
    with open(pack.path / "model.bin", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(PackIntegrityError) as caught:
        installed.checked("tiny-mt")
    assert "model.bin" in str(caught.value) and caught.value.code == "PACK-INTEGRITY"


def test_a_damaged_pack_falls_back_to_the_kept_version(installed, tmp_path):
    old = installed.get("tiny-mt").path
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    new = installed.install_dir(tmp_path / "v2").path
    (new / "config.json").write_bytes(b'{"layers": 3}')  # same size, other bytes
    assert installed.checked("tiny-mt").path == old == installed.get("tiny-mt").path
    assert installed.verify("tiny-mt") == []  # the version now active is intact


def test_a_killed_installs_staging_is_removed_at_start(installed):
    leftover = installed.new_staging_dir()
    (leftover / "model.bin").write_bytes(b"\0" * 1000)
    active = installed.get("tiny-mt").path
    installed.clean_stale_staging()
    assert not leftover.exists()
    assert installed.get("tiny-mt").path == active and installed.verify("tiny-mt") == []


def test_the_loader_removes_a_killed_installs_staging_before_anything_loads(installed):
    from tolk.device.loader import load_interpreter
    from tolk.models.errors import PackNotFoundError

    leftover = installed.new_staging_dir()
    (leftover / "model.bin").write_bytes(b"\0" * 1000)
    with pytest.raises(PackNotFoundError) as caught:  # this store has no ASR pack: the load stops there
        load_interpreter(installed)
    assert caught.value.code == "PACK-MISSING" and not leftover.exists()
    assert installed.verify("tiny-mt") == []
