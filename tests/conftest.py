"""Shared fixtures: the real default packs (installed by setup.sh) and speech clips synthesised from them."""
from __future__ import annotations

import os
import shutil

import pytest

from tolk.models import paths
from tolk.models.errors import TolkError
from tolk.models.store import PackStore


def need_real(reason: str):
    if os.environ.get("TOLK_REQUIRE_REAL_MODELS") == "1":
        pytest.fail(f"real default packs required: {reason}")
    pytest.skip(f"real default packs not installed ({reason}); run: tolk models install-defaults")


def need(reason: str):
    """A real dependency (espeak-ng, an FFmpeg codec, the 'convert' extra) is missing: a skip on a developer's
    machine, a failure where TOLK_REQUIRE_REAL_MODELS=1 (CI, setup.sh installs everything)."""
    if os.environ.get("TOLK_REQUIRE_REAL_MODELS") == "1":
        pytest.fail(f"required here (TOLK_REQUIRE_REAL_MODELS=1): {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        need("espeak-ng is not installed (setup.sh installs it)")


def need_module(name: str, reason: str):
    """``pytest.importorskip`` that fails instead where TOLK_REQUIRE_REAL_MODELS=1."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as err:
        need(f"{reason} ({err})")


@pytest.fixture(scope="session")
def real_store() -> PackStore:
    store = PackStore(paths.packs_dir())
    if not store.installed():
        need_real(f"no packs in {store.root}")
    return store


@pytest.fixture(scope="session")
def real_interpreter(real_store):
    from tolk.device.interpreter import InterpreterConfig
    from tolk.device.loader import load_interpreter

    try:
        interpreter = load_interpreter(real_store, InterpreterConfig(back_translation=False))
    except TolkError as err:
        need_real(str(err))
    yield interpreter
    interpreter.close()


@pytest.fixture(scope="session")
def clips(tmp_path_factory, real_store):
    """English speech from the Piper voice, German and Spanish from espeak-ng, silence; as WAV files."""
    import numpy as np

    from tolk.audio.clip import write_wav
    from tolk.models.tts import EspeakTts, PiperTts

    folder = tmp_path_factory.mktemp("clips")
    try:
        piper = real_store.get("piper-en-us-joe-medium")
    except TolkError as err:
        need_real(str(err))
    voice = PiperTts(piper.path, piper.manifest)
    speech = list(voice.speak("Good morning. Where is the train station?", "en"))
    english = np.concatenate([np.zeros(8000, dtype=np.float32)] + [s.audio for s in speech])
    out = {"en": write_wav(folder / "en.wav", english, voice.sample_rate)}
    if shutil.which("espeak-ng"):
        espeak = EspeakTts(words_per_minute=120)
        for code, text in (("de", "Guten Morgen. Wo ist der Bahnhof?"), ("es", "Buenos días. ¿Dónde está la estación?")):
            (speech,) = espeak.speak(text, code)
            out[code] = write_wav(folder / f"{code}.wav", speech.audio, speech.sample_rate)
    out["silence"] = write_wav(folder / "silence.wav", np.zeros(16000 * 2, dtype=np.float32), 16000)
    return out


# The virtual sound card (tests/virtual_audio.py): one PulseAudio daemon for the session, for the tests that ask.
from tests.virtual_audio import pulse_daemon, virtual_audio  # noqa: E402,F401


@pytest.fixture(autouse=True)
def closes_what_it_starts(request):
    """Fail a test that leaves a thread or a child process running (tests/leaks.py). Autouse and function-scoped:
    set up after the wider-scoped fixtures the test needs and before its own function-scoped ones, so it is torn
    down after them, and what a session or module fixture starts belongs to that fixture's scope."""
    from tests import leaks

    before = leaks.snapshot()
    yield
    problems = leaks.run_closers()
    left = leaks.leftovers(before)
    left.end_children()
    problems += left.lines()
    if problems:
        pytest.fail(f"{request.node.nodeid} did not close what it started:\n  " + "\n  ".join(problems),
                    pytrace=False)
