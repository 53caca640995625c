"""The real default packs, installed by `tolk models install-defaults` (setup.sh / CI).

Skipped when they are not installed, unless TOLK_REQUIRE_REAL_MODELS=1 (set by CI), where
a missing pack is a failure.
"""
import os
import subprocess
import sys

import pytest

from tolk.models import paths
from tolk.models.build import defaults
from tolk.models.build.phrases import missing_words
from tolk.models.errors import TolkError
from tolk.models.manifest import Engine, Kind
from tolk.models.store import PackStore

pytestmark = pytest.mark.real_models
STORE = PackStore(paths.packs_dir())


def _pack(pack_id):
    try:
        return STORE.get(pack_id)
    except TolkError as err:
        if os.environ.get("TOLK_REQUIRE_REAL_MODELS") == "1":
            pytest.fail(f"default pack missing: {err}")
        pytest.skip(f"default pack not installed ({err}); run: tolk models install-defaults")


@pytest.fixture(scope="module")
def mt_pack():
    (default_mt,) = [p for p in defaults.default_packs() if p.kind is Kind.MT]
    return _pack(default_mt.id)


def test_list_shows_defaults_and_verify_passes():
    ids = [p.id for p in defaults.default_packs()] + ["espeak-ng"]
    for pack_id in ids:
        _pack(pack_id)
    listing = subprocess.run([sys.executable, "-m", "tolk.device.cli", "models", "list"], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    for pack_id in ids:
        assert pack_id in listing.stdout
    assert "espeak-ng (robotic) for" in listing.stdout and "fits a 4 GB board" in listing.stdout
    assert any(line.split()[:2] == ["es", "kokoro:ef_dora"] for line in listing.stdout.splitlines())
    verify = subprocess.run([sys.executable, "-m", "tolk.device.cli", "models", "verify"], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr


def test_licences_recorded():
    for pack in defaults.default_packs():
        manifest = _pack(pack.id).manifest
        assert manifest.license and manifest.license != "unknown" and manifest.source


def test_whisper_pack_loads_in_faster_whisper():
    from faster_whisper import WhisperModel

    pack = _pack("whisper-base")
    model = WhisperModel(str(pack.path), device="cpu", compute_type=pack.manifest.settings["compute_type"])
    assert model.model.is_multilingual


def test_piper_pack_speaks():
    from piper import PiperVoice

    pack = _pack("piper-en-us-joe-medium")
    voice = PiperVoice.load(str(pack.path / pack.manifest.settings["model"]))
    chunks = list(voice.synthesize("Good morning."))
    assert voice.config.sample_rate == pack.manifest.settings["sample_rate"]
    assert sum(len(c.audio_int16_bytes) for c in chunks) > 0.3 * 2 * voice.config.sample_rate


def test_default_translation_pack_translates(mt_pack):
    from tolk.models.translate import load_translator

    assert mt_pack.manifest.engine is Engine.CT2_GENERATOR
    translator = load_translator(mt_pack.path, mt_pack.manifest)
    es, de = translator.translate(["Good morning, where is the train station?"], "en", "es")[0], \
        translator.translate(["Thank you very much."], "en", "de")[0]
    # any correct answer: "Muchas gracias"/"Vielen Dank"/"Danke schön" differ with the CPU's int8 kernels
    assert not missing_words(es.text, "es", ["estacion"]) and not missing_words(de.text, "de", ["dank"]), (es, de)
