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


# ---- a version in use is never deleted (leases across processes) -----------------------------------------------
HOLDER = """
import sys
from tolk.models.store import PackStore
pack, lease = PackStore(sys.argv[1]).use(sys.argv[2])
print(pack.path, flush=True)
sys.stdin.read()  # holds the lease until the test closes stdin, as a running appliance holds its packs
"""


@pytest.fixture
def holder():
    """Start a separate process that loads (leases) the active version of a pack; yields (start, stop)."""
    procs = []

    def start(store, pack_id):
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(store.root), pack_id], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
        procs.append(proc)
        from pathlib import Path

        return Path(proc.stdout.readline().strip())

    def stop():
        for proc in procs:
            proc.stdin.close()
            proc.wait(30)

    yield start, stop
    stop()


def test_rollback_then_install_keeps_the_version_a_running_appliance_uses(installed, tmp_path, holder, capsys):
    """Repro: `models rollback X` then `models install` of another X while the appliance runs deleted the version
    it was using. Now it stays, intact, until the appliance lets go; the next install or start then deletes it."""
    from tolk.device.cli import main

    start, stop = holder
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    make_pack(tmp_path / "v3", payload=b"\x03" * 64)
    v1 = installed.get("tiny-mt").path
    v2 = installed.install_dir(tmp_path / "v2").path
    in_use = start(installed, "tiny-mt")  # the appliance (another process) loads v2
    assert in_use == v2
    packs = ["models", "--packs-dir", str(installed.root)]
    assert main([*packs, "rollback", "tiny-mt"]) == 0 and installed.get("tiny-mt").path == v1
    assert main([*packs, "install", str(tmp_path / "v3"), "--no-load-test"]) == 0
    v3 = installed.get("tiny-mt").path
    assert v3 not in (v1, v2) and installed.verify("tiny-mt") == []
    assert v2.is_dir() and check_pack(v2) == []  # the version in use: still there, every file intact
    assert installed.rollback("tiny-mt").path == v1  # and what rollback keeps is unchanged: v1
    main([*packs, "remove", "tiny-mt"])  # even removing the pack leaves the folder in use
    assert v2.is_dir() and check_pack(v2) == [] and not v1.exists() and not v3.exists()
    capsys.readouterr()

    stop()  # the appliance lets go: the next start (or install) deletes what no link names
    installed.clean_stale_staging()
    assert not v2.exists() and list((installed.root / ".versions").iterdir()) == []


def test_an_install_in_another_process_keeps_the_version_this_process_uses(installed, tmp_path):
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    make_pack(tmp_path / "v3", payload=b"\x03" * 64)
    pack, lease = installed.use("tiny-mt")  # this process uses v1
    try:
        for folder in ("v2", "v3"):  # v1 becomes the kept version, then no version at all
            proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "models", "--packs-dir",
                                   str(installed.root), "install", str(tmp_path / folder), "--no-load-test"],
                                  capture_output=True, text=True, cwd=os.getcwd())
            assert proc.returncode == 0, proc.stderr
        assert pack.path.is_dir() and check_pack(pack.path) == []
        assert installed.get("tiny-mt").path != pack.path and installed.verify("tiny-mt") == []
    finally:
        lease.close()
    installed.clean_stale_staging()
    assert not pack.path.exists()


def test_a_lease_on_a_version_deleted_meanwhile_is_refused_and_the_link_read_again(installed, tmp_path):
    from tolk.models.store import Lease

    gone = installed.get("tiny-mt").path
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    make_pack(tmp_path / "v3", payload=b"\x03" * 64)
    installed.install_dir(tmp_path / "v2")
    installed.install_dir(tmp_path / "v3")  # v1 is no longer named: deleted
    with pytest.raises(FileNotFoundError):
        Lease(gone)
    pack, lease = installed.use("tiny-mt")
    with lease:
        assert pack.path == installed.get("tiny-mt").path and installed.verify("tiny-mt") == []


# ---- lock and state paths that are not what the store makes -------------------------------------------------------
def test_install_lock_as_a_folder_is_moved_aside_and_nothing_stops(installed, tmp_path, capsys):
    """Repro: `.install.lock` as a folder stopped every install and the appliance's start."""
    from tolk.device.cli import main

    lock = installed.root / ".install.lock"
    lock.unlink()
    lock.mkdir()
    (lock / "note.txt").write_text("someone's file")
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    installed.new_staging_dir()  # a killed install's leftover: the start must still tidy it
    installed.clean_stale_staging()  # what the loader does first at start
    assert not any((installed.root / STAGING).iterdir())
    assert main(["models", "--packs-dir", str(installed.root), "install", str(tmp_path / "v2"),
                 "--no-load-test"]) == 0
    assert "installed tiny-mt" in capsys.readouterr().out
    assert lock.is_file() and not lock.is_symlink()
    (aside,) = installed.root.glob(".aside-install.lock-*")
    assert (aside / "note.txt").read_text() == "someone's file"  # kept for inspection, not deleted
    assert installed.verify("tiny-mt") == []


def test_install_lock_as_a_symlink_or_fifo_is_never_followed(installed, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    lock = installed.root / ".install.lock"
    for kind in ("symlink", "dangling", "fifo"):
        lock.unlink()
        if kind == "symlink":
            lock.symlink_to(outside)
        elif kind == "dangling":
            lock.symlink_to(tmp_path / "nowhere" / "lock")
        else:
            os.mkfifo(lock)
        make_pack(tmp_path / kind, payload=kind.encode() * 16)
        installed.install_dir(tmp_path / kind)  # would block forever on a fifo opened for reading
        assert lock.is_file() and not lock.is_symlink(), kind
        assert installed.verify("tiny-mt") == []
    assert outside.read_text() == "keep me" and not (tmp_path / "nowhere").exists()
    assert len(list(installed.root.glob(".aside-install.lock-*"))) == 3


def test_an_unopenable_lock_is_a_coded_error_and_the_start_goes_on(installed, tmp_path, monkeypatch, caplog):
    """A lock that cannot be opened (no permission; moving it aside could let two installs run at once): FILE-ERROR
    for an install, a logged warning at start. Root ignores file modes, so the refusal comes from the kernel call."""
    import errno

    from tolk.models import store as store_module
    from tolk.models.errors import TolkError

    real_open = os.open

    def refusing_open(path, flags, *args):
        if str(path).endswith(".install.lock"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(store_module.os, "open", refusing_open)
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    with pytest.raises(TolkError) as caught:
        installed.install_dir(tmp_path / "v2")
    assert caught.value.code == "FILE-ERROR" and ".install.lock" in str(caught.value)
    installed.clean_stale_staging()  # the start logs it and goes on
    assert "packs folder not tidied" in caplog.text
    monkeypatch.undo()
    assert installed.verify("tiny-mt") == [] and (installed.root / ".install.lock").is_file()


def test_staging_as_a_link_to_elsewhere_is_never_emptied(installed, tmp_path):
    elsewhere = tmp_path / "home"
    (elsewhere / "docs").mkdir(parents=True)
    (elsewhere / "docs" / "letter.txt").write_text("dear")
    staging = installed.root / STAGING
    staging.rmdir()
    staging.symlink_to(elsewhere)
    installed.clean_stale_staging()
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    installed.install_dir(tmp_path / "v2")  # the link is moved aside, a real staging folder made
    assert (elsewhere / "docs" / "letter.txt").read_text() == "dear"
    assert _real_dir(staging) and installed.verify("tiny-mt") == []


def _real_dir(path):
    import stat as stat_

    return stat_.S_ISDIR(os.lstat(path).st_mode)


def test_a_kept_version_link_pointing_outside_the_store_is_refused(installed, tmp_path):
    make_pack(tmp_path / "evil", payload=b"\x0e" * 64)
    active = installed.get("tiny-mt").path
    (installed.root / ".previous-tiny-mt").symlink_to(tmp_path / "evil")
    with pytest.raises(UnsafePackError) as caught:
        installed.rollback("tiny-mt")
    assert caught.value.code == "PACK-UNSAFE" and installed.get("tiny-mt").path == active
    assert installed.verify("tiny-mt") == [] and (tmp_path / "evil" / "model.bin").exists()


# ---- voice tables of numbers no engine can use ---------------------------------------------------------------------
def _voice_tables():
    import numpy as np

    good = np.random.default_rng(3).normal(0, 0.2, 510 * 256)
    nan, inf, huge = np.full_like(good, np.nan), good.copy(), good.copy()
    inf[1000] = np.inf
    huge[7] = 1e30
    return good, {"NaN-filled": nan, "one inf": inf, "1e30": huge}


def test_nan_or_inf_voice_tables_are_refused_at_install(tmp_path, capsys):
    """Repro: a NaN-filled Kokoro voice file installed and spoke 41 s of silence. The second voice too (the load
    test only ever speaks a language's first), and with --no-load-test."""
    from tests.packfixtures import make_voice_pack
    from tolk.device.cli import main
    from tolk.models.errors import TolkError

    good, bad_tables = _voice_tables()
    store = PackStore(tmp_path / "packs")
    make_voice_pack(tmp_path / "good", good)
    active = store.install_dir(tmp_path / "good").path
    for name, table in bad_tables.items():
        for first, second in ((table, None), (good, table)):
            folder = tmp_path / f"{name}-{second is None}"
            make_voice_pack(folder, first, extra_voice=second)
            before = snapshot(store.root)
            with pytest.raises(TolkError) as caught:
                store.install_dir(folder)
            bad_file = "first.f32" if second is None else "second.f32"
            assert caught.value.code == "PACK-BROKEN" and bad_file in str(caught.value), (name, str(caught.value))
            assert snapshot(store.root) == before, name  # nothing changed, staging left empty
            assert store.get("tiny-voice").path == active and store.verify("tiny-voice") == []
            code = main(["models", "--packs-dir", str(store.root), "install", str(folder), "--no-load-test"])
            err = capsys.readouterr().err
            assert code == 2 and "[PACK-BROKEN]" in err and bad_file in err and "Traceback" not in err
    assert store.get("tiny-voice").path == active and store.verify("tiny-voice") == []


def test_stray_links_and_loops_do_not_stop_an_install_or_the_sweep(installed, tmp_path):
    (installed.root / "loop").symlink_to(installed.root / "loop")
    (installed.root / ".previous-loop").symlink_to(installed.root / ".previous-loop")
    make_pack(tmp_path / "v2", payload=b"\x02" * 64)
    old = installed.get("tiny-mt").path
    installed.install_dir(tmp_path / "v2")
    installed.clean_stale_staging()
    assert old.is_dir() and installed.verify("tiny-mt") == [] and installed.rollback("tiny-mt").path == old


def test_hash_cache_as_a_folder_or_a_link_is_never_followed(installed, tmp_path, monkeypatch):
    from tolk.models import integrity

    cache = installed.root / ".verified.json"
    outside = tmp_path / "outside.json"
    outside.write_text("[1, 2]")
    for kind in ("folder", "link"):
        if cache.exists() or cache.is_symlink():
            cache.unlink()
        cache.mkdir() if kind == "folder" else cache.symlink_to(outside)
        assert installed.checked("tiny-mt").path == installed.get("tiny-mt").path  # loads, hashing again
        assert cache.is_file() and not cache.is_symlink(), kind  # a real cache written in its place
    assert outside.read_text() == "[1, 2]" and len(list(installed.root.glob(".aside-verified.json-*"))) == 1
    hashed = []
    real = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path, progress=None: hashed.append(path) or real(path))
    installed.checked("tiny-mt")
    assert hashed == []  # the rewritten cache serves again
