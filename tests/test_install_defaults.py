"""install-defaults: builds packs from cached wheels, is idempotent and resumes after an interruption."""
import hashlib
import json

import pytest

from tolk.models.build import defaults
from tolk.models.build.fetch import SourceFile, WheelMember
from tolk.models.manifest import Engine, Kind
from tolk.models.progress import QuietProgress
from tolk.models.store import PackStore
from tests.test_fetch import _wheel

VOICE = b"\x08\x01onnx-bytes" * 100
VOICE_JSON = json.dumps({"audio": {"sample_rate": 22050}}).encode()


def _catalog_pack():
    def src(name, data, member):
        return SourceFile(name, (WheelMember("voice-pkg", "1.0", member),), hashlib.sha256(data).hexdigest(), len(data))

    return defaults.CatalogPack(
        id="test-voice", kind=Kind.TTS, engine=Engine.PIPER,
        sources=(src("v.onnx", VOICE, "voice_pkg/data/v.onnx"), src("v.onnx.json", VOICE_JSON, "voice_pkg/data/v.json")),
        license="CC0-1.0", source="test wheel", description="a test voice", ram_mb=10, languages=("en",),
        settings={"model": "v.onnx"})


@pytest.fixture
def cache(tmp_path):
    _wheel(tmp_path / "cache" / "wheels", "voice-pkg", "1.0",
           {"voice_pkg/data/v.onnx": VOICE, "voice_pkg/data/v.json": VOICE_JSON})
    return tmp_path / "cache"


def test_builds_then_is_idempotent(tmp_path, cache):
    store = PackStore(tmp_path / "packs")
    pack = _catalog_pack()
    built = defaults.install_defaults(store, cache, QuietProgress(), [pack])
    assert built == ["test-voice", "espeak-ng"]
    installed = store.get("test-voice")
    assert installed.manifest.license == "CC0-1.0" and installed.manifest.settings["recipe"] == pack.recipe_key
    assert (installed.path / "v.onnx").read_bytes() == VOICE and store.verify("test-voice") == []
    espeak = store.get("espeak-ng").manifest
    assert espeak.settings["quality"] == "fallback" and len(espeak.languages) >= 40
    assert defaults.install_defaults(store, cache, QuietProgress(), [pack]) == []


def test_damaged_pack_is_rebuilt(tmp_path, cache):
    store = PackStore(tmp_path / "packs")
    defaults.install_defaults(store, cache, QuietProgress(), [_catalog_pack()])
    (store.get("test-voice").path / "v.onnx.json").write_bytes(b"{}")  # wrong size
    assert defaults.install_defaults(store, cache, QuietProgress(), [_catalog_pack()]) == ["test-voice"]
    assert store.verify("test-voice") == []


def test_interrupted_run_resumes(tmp_path, cache):
    store = PackStore(tmp_path / "packs")
    pack = _catalog_pack()

    class CutAfterFirstFile(QuietProgress):
        started = 0

        def start(self, label, total):
            CutAfterFirstFile.started += 1
            if CutAfterFirstFile.started == 2:
                raise KeyboardInterrupt  # Ctrl-C / power cut while joining the second file

    with pytest.raises(KeyboardInterrupt):
        defaults.install_defaults(store, cache, CutAfterFirstFile(), [pack])
    assert store.installed() == []
    assert defaults.install_defaults(store, cache, QuietProgress(), [pack]) == ["test-voice", "espeak-ng"]
    assert store.verify("test-voice") == [] and not any((store.root / ".staging").iterdir())


def test_catalogue_pins_everything():
    for pack in defaults.CATALOG:
        assert pack.license and pack.source
        for source in pack.sources:
            assert len(source.sha256) == 64 and source.size > 0
            assert all(part.version for part in source.parts)
    assert {p.kind for p in defaults.default_packs()} == {Kind.ASR, Kind.MT, Kind.TTS}


def test_runtime_prefers_exactly_the_catalogue_defaults():
    """The device chooses packs without the build catalogue; its preferred ids must be the catalogue's defaults."""
    from tolk.models.selection import PREFERRED_IDS

    assert PREFERRED_IDS == {p.id for p in defaults.default_packs()} | {defaults.espeak_manifest().id}
