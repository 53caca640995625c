"""Optional packs fail alone, and a version in use outlives installs: the tiny packs (real formats, real engines) in a
store under tmp_path, loaded by the real loader, CLI and appliance start-up.

Each case asserts the code and that nothing was lost: translation still runs, the damaged pack is left as it was."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import need_espeak, need_module

need_module("transformers", "tiny packs are generated with the 'convert' extra")
need_module("onnx", "the tiny Piper voice is exported with the 'convert' extra")

from tolk.device import events as ev  # noqa: E402
from tolk.device.interpreter import InterpreterConfig  # noqa: E402
from tolk.device.loader import load_interpreter  # noqa: E402
from tolk.models.build.tiny import make_tiny_packs  # noqa: E402
from tolk.models.errors import PackIntegrityError  # noqa: E402
from tolk.models.integrity import check_pack, file_entries  # noqa: E402
from tolk.models.manifest import PackManifest  # noqa: E402
from tolk.models.store import PackStore  # noqa: E402


@pytest.fixture(scope="module")
def tiny_sources(real_store, tmp_path_factory):
    need_espeak()
    return {p.name: p for p in make_tiny_packs(tmp_path_factory.mktemp("tiny-src"), real_store.root)}


@pytest.fixture
def store(tiny_sources, tmp_path, monkeypatch):
    """The four tiny packs installed in $TOLK_DATA_DIR/packs under tmp_path (the CLI and `build` read it there)."""
    monkeypatch.setenv("TOLK_DATA_DIR", str(tmp_path / "data"))
    packs = PackStore(tmp_path / "data" / "packs")
    for folder in tiny_sources.values():
        packs.install_dir(folder)
    return packs


def flip_byte(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return bytes(data)


def translate(interpreter, text="Hello", source="en", target="de"):
    events = interpreter.translate_text(text, source, target).collect(timeout=120)
    assert not [e for e in events if isinstance(e, ev.TurnError)], events
    translation = " ".join(ev.translated_sentences(events))
    audio = [e for e in events if isinstance(e, ev.AudioOut)]
    assert translation.strip() and audio and sum(a.samples.size for a in audio) > 0
    return translation, audio


def test_a_damaged_voice_pack_with_no_kept_version_leaves_only_that_voice_out(store):
    """Repro: a damaged optional voice pack with no kept version made every translation fail (PACK-INTEGRITY for
    `translate Hello --to de`)."""
    kokoro = store.get("tiny-kokoro")
    damaged = flip_byte(kokoro.path / "tiny_voice.f32")
    interpreter = load_interpreter(store, InterpreterConfig(back_translation=False))
    try:
        (notice,) = interpreter.notices
        assert "tiny-kokoro" in notice and "[PACK-INTEGRITY]" in notice and "espeak-ng" in notice
        translate(interpreter)  # the repro: en -> de
        _, audio = translate(interpreter, target="es")  # Spanish, which the Kokoro pack spoke: now espeak-ng
        assert all(a.fallback_voice for a in audio)
        assert interpreter.voices.option("en") == "piper"  # the intact voice pack still speaks
    finally:
        interpreter.close()
    assert (kokoro.path / "tiny_voice.f32").read_bytes() == damaged  # left as it was, for inspection
    assert [p.path for p in store.verify("tiny-kokoro")] == ["tiny_voice.f32"]
    assert all(store.verify(i) == [] for i in ("tiny-whisper", "tiny-llm", "tiny-piper"))


def test_a_voice_pack_missing_a_file_or_not_opening_is_left_out(store, tiny_sources, tmp_path):
    (store.get("tiny-piper").path / "manifest.json").unlink()  # unreadable: not even listed as installed
    broken = tmp_path / "kokoro-broken"
    shutil.copytree(tiny_sources["tiny-kokoro"], broken)
    (broken / "tiny-kokoro.onnx").write_bytes(b"\x08\x07not an onnx graph")  # right hashes, not a model
    data = PackManifest.load(broken).to_dict()
    data["files"] = file_entries(broken, [f["path"] for f in data["files"]])
    PackManifest.from_dict(data).dump(broken)
    PackStore(store.root).install_dir(broken)  # no load test: as `models install --no-load-test` would
    interpreter = load_interpreter(store, InterpreterConfig(back_translation=False))
    try:
        (notice,) = interpreter.notices
        assert "tiny-kokoro" in notice and "[PACK-BROKEN]" in notice
        _, audio = translate(interpreter, target="es")
        assert all(a.fallback_voice for a in audio)
    finally:
        interpreter.close()


def test_the_required_packs_still_fail_with_their_code(store):
    flip_byte(next(store.get("tiny-llm").path.glob("model.bin")))
    with pytest.raises(PackIntegrityError) as caught:  # no kept version: the translation pack is needed
        load_interpreter(store, InterpreterConfig(back_translation=False))
    assert caught.value.code == "PACK-INTEGRITY" and "model.bin" in str(caught.value)
    assert store.verify("tiny-whisper") == []


def test_translate_on_the_command_line_goes_on_and_says_why_once(store):
    """The repro as a user runs it: `tolk translate Hello --from en --to de` with the voice pack damaged."""
    flip_byte(store.get("tiny-kokoro").path / "tiny_voice.f32")
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", "translate", "Hello", "--from", "en", "--to",
                           "de"], capture_output=True, text=True, timeout=300, cwd=os.getcwd(), env=os.environ)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()  # the translation
    assert proc.stderr.count("notice: Voice tiny-kokoro off") == 1 and "[PACK-INTEGRITY]" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_appliance_starts_and_shows_the_notice_on_its_screen(store, tmp_path):
    """Repro: with the damaged voice pack the simulator did not start."""
    from tolk.audio.devices import FileMicrophone, RecordingSpeaker
    from tolk.device.cli_appliance import build
    from tolk.device.state import State
    from tolk.ui.outputs import MemoryDisplay

    flip_byte(store.get("tiny-kokoro").path / "tiny_voice.f32")
    display = MemoryDisplay()
    appliance = build(FileMicrophone(speed=20.0), RecordingSpeaker(), display, (240, 240), tmp_path / "sim",
                      on_state=None)
    controller = appliance.controller
    try:
        controller.start()
        for _ in range(100):
            if controller.state is State.READY:
                break
            controller.step(0.01)
        assert controller.state is State.READY and appliance.refresh() and display.frames
        assert "tiny-kokoro" in controller.notice and "[PACK-INTEGRITY]" in controller.notice
        assert controller.screen().notice == controller.notice  # drawn on the frame, as SETTINGS-BAD is
        translate(controller.interpreter, target="es")
    finally:
        controller.close()
        controller.interpreter.close()


def test_the_voice_version_the_appliance_uses_survives_rollback_and_install(store, tiny_sources, tmp_path):
    """Repro: `models rollback X` then `models install` of another X while the appliance runs deleted the version
    it used. The appliance here loads v2; other processes roll back to v1 and install v3."""
    def variant(name, description):
        folder = tmp_path / name
        shutil.copytree(tiny_sources["tiny-kokoro"], folder)
        data = PackManifest.load(folder).to_dict()
        PackManifest.from_dict({**data, "description": description}).dump(folder)
        return folder

    v1 = store.get("tiny-kokoro").path
    v2 = store.install_dir(variant("v2", "second")).path
    interpreter = load_interpreter(store, InterpreterConfig(back_translation=False))
    cli = [sys.executable, "-m", "tolk.device.cli", "models"]
    try:
        for args in (["rollback", "tiny-kokoro"], ["install", str(variant("v3", "third")), "--no-load-test"]):
            proc = subprocess.run(cli + args, capture_output=True, text=True, timeout=120, cwd=os.getcwd(),
                                  env=os.environ)
            assert proc.returncode == 0, proc.stderr
        assert store.get("tiny-kokoro").path not in (v1, v2) and store.verify("tiny-kokoro") == []
        assert v2.is_dir() and check_pack(v2) == []  # in use: intact
        _, audio = translate(interpreter, target="es")
        assert not any(a.fallback_voice for a in audio)  # still the Kokoro voice, from the version it loaded
    finally:
        interpreter.close()
    store.clean_stale_staging()  # the next start: v2 is no longer in use, no link names it
    assert not v2.exists() and v1.is_dir()  # v1 is the kept version now
    assert np.fromfile(store.get("tiny-kokoro").path / "tiny_voice.f32", dtype=np.float32).size == 510 * 256


def test_a_nan_voice_table_installed_before_the_check_is_refused_at_load(store, caplog):
    """A store filled by an older Tolk can hold a NaN-filled voice table with matching hashes (it spoke 41 s of
    silence): the loader refuses it with PACK-BROKEN naming the file, and espeak-ng speaks."""
    kokoro = store.get("tiny-kokoro")
    np.full(510 * 256, np.nan, dtype=np.float32).tofile(kokoro.path / "tiny_voice.f32")
    data = kokoro.manifest.to_dict()
    data["files"] = file_entries(kokoro.path, [f["path"] for f in data["files"]])
    PackManifest.from_dict(data).dump(kokoro.path)  # as an install without the value check left it
    assert store.verify("tiny-kokoro") == []
    interpreter = load_interpreter(store, InterpreterConfig(back_translation=False))
    try:
        (notice,) = interpreter.notices
        assert "tiny-kokoro" in notice and "[PACK-BROKEN]" in notice
        assert "tiny_voice.f32: holds 130,560 NaN or infinite values" in caplog.text  # the log names the file
        _, audio = translate(interpreter, target="es")
        assert all(a.fallback_voice for a in audio)
        assert max(float(np.abs(a.samples).max()) for a in audio) > 0.01  # heard, not silence
    finally:
        interpreter.close()
