"""The `tolk` command misused: a folder for an output file, a bad --script (missing, a folder, bad quote, not
UTF-8, a wait of 'nan'), deep or broken JSON in a pack, an unsafe pack. Each ends with exit 2 and one coded
line, no traceback, before any model loads; files and installed packs are left as they were."""
import subprocess
import sys

import numpy as np
import pytest

from tolk.audio.clip import write_wav
from tolk.device.cli import main
from tolk.models.store import PackStore
from tests.packfixtures import make_pack, rewrite_manifest


def tolk(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def clip(tmp_path):
    return write_wav(tmp_path / "in.wav", np.full(16000, 0.2, dtype=np.float32), 16000)


@pytest.mark.parametrize("where", ["folder", "missing-parent"])
def test_interpret_output_that_is_not_a_file_path(capsys, tmp_path, clip, where):
    out = tmp_path / "out" if where == "folder" else tmp_path / "nowhere" / "out.wav"
    if where == "folder":
        out.mkdir()
    code, _, err = tolk(capsys, "interpret", clip, "--to", "es", "-o", out)
    assert code == 2 and err.startswith("error: [FILE-ERROR]") and "Traceback" not in err
    assert (out.is_dir() and not any(out.iterdir())) if where == "folder" else not out.parent.exists()


SCRIPTS = {
    "missing": (None, "FILE-ERROR"),
    "folder": ("<dir>", "FILE-ERROR"),
    "bad-quote": (b'hold talk_a\nwait "unclosed\n', "SCRIPT-BAD"),
    "not-utf8": (b"hold \xff\xfe talk_a\n", "SCRIPT-BAD"),
    "wait-nan": (b"wait nan\n", "SCRIPT-BAD"),
    "wait-inf": (b"wait-mic inf\n", "SCRIPT-BAD"),
    "wait-negative": (b"wait -1\n", "SCRIPT-BAD"),
    "unknown-action": (b"rm -rf /\n", "SCRIPT-BAD"),
    "unknown-button": (b"press self_destruct\n", "SCRIPT-BAD"),
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_bad_script_is_refused_before_the_appliance_starts(capsys, tmp_path, monkeypatch, name):
    from tolk.device import cli_appliance

    content, code = SCRIPTS[name]
    script = tmp_path / "s.script"
    if content == "<dir>":
        script.mkdir()
    elif content is not None:
        script.write_bytes(content)
    built = []
    monkeypatch.setattr(cli_appliance, "build", lambda *a, **k: built.append(a) or pytest.fail("built"))
    exit_code, _, err = tolk(capsys, "simulate", "--headless", "--script", script, "--mic-file", tmp_path / "x.wav",
                             "--data-dir", tmp_path / "data")
    assert exit_code == 2 and err.startswith(f"error: [{code}]") and "Traceback" not in err, err
    assert built == [] and not (tmp_path / "data").exists()  # nothing opened, nothing written
    if content not in (None, "<dir>"):
        assert script.read_bytes() == content


@pytest.mark.parametrize("how, code", [("deep", "PACK-MANIFEST"), ("not-json", "PACK-MANIFEST"),
                                       ("escape", "PACK-UNSAFE"), ("huge", "PACK-MANIFEST")])
def test_installing_a_bad_pack_changes_nothing(capsys, tmp_path, how, code):
    packs = tmp_path / "packs"
    make_pack(tmp_path / "good")
    assert tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / "good", "--no-load-test")[0] == 0
    active = PackStore(packs).get("tiny-mt").path
    bad = tmp_path / "bad"
    make_pack(bad, payload=b"\x07" * 64)
    if how == "deep":
        (bad / "manifest.json").write_text('{"a":' * 200000 + "1" + "}" * 200000)
    elif how == "not-json":
        (bad / "manifest.json").write_text('{"id": "tiny-mt", ')
    elif how == "huge":
        (bad / "manifest.json").write_text(" " * 5_000_000 + "{}")
    else:
        rewrite_manifest(bad, files=[{"path": "../../etc/passwd", "size": 1, "sha256": "0" * 64}])
    exit_code, _, err = tolk(capsys, "models", "--packs-dir", packs, "install", bad, "--no-load-test")
    assert exit_code == 2 and err.startswith(f"error: [{code}]") and "Traceback" not in err
    assert PackStore(packs).get("tiny-mt").path == active
    assert tolk(capsys, "models", "--packs-dir", packs, "verify", "tiny-mt")[0] == 0  # still loads and verifies


def test_a_damaged_installed_manifest_does_not_break_listing_the_others(capsys, tmp_path):
    packs = tmp_path / "packs"
    for pack_id in ("pack-a", "pack-b"):
        make_pack(tmp_path / pack_id, pack_id=pack_id)
        assert tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / pack_id, "--no-load-test")[0] == 0
    (PackStore(packs).get("pack-b").path / "manifest.json").write_text("[" * 100000 + "]" * 100000)
    code, out, err = tolk(capsys, "models", "--packs-dir", packs, "list")
    assert "Traceback" not in err and "pack-a" in out
    code, out, err = tolk(capsys, "models", "--packs-dir", packs, "verify", "pack-b")
    assert code == 2 and err.startswith("error: [PACK-MANIFEST]") and "Traceback" not in err


def test_as_a_process_no_traceback_reaches_the_terminal(tmp_path):
    cases = [(["simulate", "--headless", "--script", str(tmp_path / "missing.script")], "FILE-ERROR"),
             (["translate", "", "--from", "en", "--to", "es"], "TEXT-EMPTY"),
             (["interpret", str(tmp_path), "--to", "es"], "AUDIO-MISSING")]
    for args, code in cases:
        proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", *args], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith(f"error: [{code}]")


def test_a_new_version_that_does_not_load_is_never_switched_to(capsys, tmp_path):
    """Right files (sizes and hashes match its manifest) but a model the engine cannot open: the install
    load-tests it, refuses it with PACK-BROKEN and removes it; the version in use stays active and verified."""
    packs = tmp_path / "packs"
    make_pack(tmp_path / "good")
    assert tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / "good", "--no-load-test")[0] == 0
    active = PackStore(packs).get("tiny-mt").path
    make_pack(tmp_path / "new", payload=b"not a CTranslate2 model" * 10)
    exit_code, _, err = tolk(capsys, "models", "--packs-dir", packs, "install", tmp_path / "new")
    assert exit_code == 2 and err.startswith("error: [PACK-BROKEN] tiny-mt does not load") and "Traceback" not in err
    assert PackStore(packs).get("tiny-mt").path == active
    assert sorted(p.name for p in (packs / ".versions").iterdir()) == [active.name]  # the broken one is gone
    assert tolk(capsys, "models", "--packs-dir", packs, "verify", "tiny-mt")[0] == 0


def test_a_real_pack_passes_its_load_test_at_install(capsys, tmp_path, real_store):
    """The real Piper voice opens and speaks 'Hello.' before the switch."""
    import shutil

    voice = next(p for p in real_store.installed() if p.manifest.engine.value == "piper")
    shutil.copytree(voice.path, tmp_path / "voice")
    code, out, err = tolk(capsys, "models", "--packs-dir", tmp_path / "packs", "install", tmp_path / "voice")
    assert code == 0 and f"installed {voice.id}" in out, err
