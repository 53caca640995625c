"""The tiny generated packs (models/tiny.py) that the qemu firmware image carries: real formats, real engines."""
from __future__ import annotations

import json

import pytest

from tests.conftest import need_module

need_module("transformers", "tiny packs are generated with the 'convert' extra")
need_module("onnx", "the tiny Piper voice is exported with the 'convert' extra")

from tolk.audio.clip import load_audio  # noqa: E402
from tolk.device import events as ev  # noqa: E402
from tolk.device.interpreter import InterpreterConfig  # noqa: E402
from tolk.device.loader import load_interpreter  # noqa: E402
from tolk.models.integrity import check_pack  # noqa: E402
from tolk.models.manifest import Engine, Kind  # noqa: E402
from tolk.models.store import PackStore  # noqa: E402
from tolk.device.loader import load_voices  # noqa: E402
from tolk.models.build.defaults import KOKORO_82M  # noqa: E402
from tolk.models.build.tiny import TINY_KOKORO_LANGUAGES, TINY_WHISPER_MAX_TOKENS, make_tiny_packs  # noqa: E402
from tolk.models.errors import ConversionError  # noqa: E402


@pytest.fixture(scope="module")
def tiny_store(real_store, tmp_path_factory):
    made = tmp_path_factory.mktemp("tiny")
    folders = make_tiny_packs(made / "src", real_store.root)
    store = PackStore(made / "packs")
    for folder in folders:
        store.install_dir(folder)
    return store


def test_four_packs_every_kind_and_voice_engine_in_the_real_formats(tiny_store):
    packs = {p.id: p for p in tiny_store.installed()}
    assert set(packs) == {"tiny-whisper", "tiny-llm", "tiny-piper", "tiny-kokoro"}
    assert [packs["tiny-whisper"].manifest.engine, packs["tiny-llm"].manifest.engine,
            packs["tiny-piper"].manifest.engine, packs["tiny-kokoro"].manifest.engine] == [
        Engine.FASTER_WHISPER, Engine.CT2_GENERATOR, Engine.PIPER, Engine.KOKORO]
    assert {p.manifest.kind for p in packs.values()} == set(Kind)
    for pack in packs.values():
        check_pack(pack.path, pack.manifest)  # every file's size and sha256
        assert "GPL-3.0" in pack.manifest.license
        assert pack.manifest.size_bytes < 20_000_000
    config = json.loads((packs["tiny-whisper"].path / "config.json").read_text())
    assert len(config["lang_ids"]) == 99  # the real multilingual tokenizer's language tokens
    assert list(packs["tiny-kokoro"].manifest.languages) == TINY_KOKORO_LANGUAGES


def test_tiny_kokoro_reuses_the_real_vocabulary_and_speaks_spanish(real_store, tiny_store):
    """The Kokoro pack's real phoneme vocabulary, and the router: English keeps the tiny Piper voice, Spanish (no
    Piper voice) speaks through the Kokoro engine — the voice the qemu image's boot test hears."""
    kokoro = tiny_store.get("tiny-kokoro")
    real_vocab = real_store.root / KOKORO_82M.id / "vocab.json"
    assert (kokoro.path / "vocab.json").read_bytes() == real_vocab.read_bytes()
    router = load_voices([p for p in tiny_store.installed() if p.manifest.kind is Kind.TTS])
    try:
        assert router.option("en") == "piper" and router.option("es") == "kokoro:tiny_voice"
        speech = list(router.speak("¿Dónde está la estación de tren?", "es"))
    finally:
        router.close()  # the speech worker
    assert speech and not any(s.fallback for s in speech)
    assert {s.sample_rate for s in speech} == {24000} and sum(s.audio.size for s in speech) > 0


def test_missing_kokoro_vocabulary_is_named(real_store, tmp_path):
    partial = tmp_path / "packs"
    partial.mkdir()
    for name in ("whisper-base", "piper-en-us-joe-medium"):
        (partial / name).symlink_to((real_store.root / name).resolve())
    with pytest.raises(ConversionError, match=f"{KOKORO_82M.id}'s vocab.json"):
        make_tiny_packs(tmp_path / "out", partial)


def test_generation_is_reproducible(real_store, tiny_store, tmp_path):
    again = make_tiny_packs(tmp_path / "again", real_store.root)
    first = {p.id: {f.path: f.sha256 for f in p.manifest.files} for p in tiny_store.installed()}
    for folder in again:
        manifest = json.loads((folder / "manifest.json").read_text())
        hashes = {f["path"]: f["sha256"] for f in manifest["files"]}
        assert hashes == first[manifest["id"]]  # same seed, same bytes: the image build is reproducible


def test_whole_chain_runs_on_the_tiny_packs(tiny_store, clips):
    """Speech in, pseudo-words out, spoken by the tiny voice: every engine's real code path on random weights."""
    interpreter = load_interpreter(tiny_store, InterpreterConfig(back_translation=False))
    try:
        events = interpreter.interpret(load_audio(clips["en"]), pair=["es", "en"]).collect(timeout=120)
    finally:
        interpreter.close()
    names = [type(e).__name__ for e in events]
    assert names[0] == "TurnStarted" and names[-1] == "TurnFinished" and "TurnError" not in names
    heard = next(e for e in events if isinstance(e, ev.FinalText))
    assert heard.text and heard.language in ("en", "es")
    assert len(heard.text.split()) <= TINY_WHISPER_MAX_TOKENS  # the pack's decode bound holds
    translation = " ".join(e.text for e in events if isinstance(e, ev.TranslationText))
    assert translation.strip() and translation.isascii()  # pseudo-words, never broken UTF-8
    audio = [e for e in events if isinstance(e, ev.AudioOut)]
    assert audio and sum(a.samples.size for a in audio) > 0
    assert not any(a.fallback_voice for a in audio)  # a tiny neural voice spoke (Piper for en, Kokoro for es)
