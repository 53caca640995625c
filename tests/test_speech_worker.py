"""The speech worker process and its supervisor, on a tiny Kokoro-format pack (real ONNX session, real libespeak-ng
phonemes, real child process): what it speaks, and what a kill, an abort, a hang or a cancelled clause cost.

Every test closes the worker it starts; the fixture checks that no worker process or start thread is left."""
import json
import logging
import os
import signal
import threading

import numpy as np
import pytest

from tests.conftest import need_espeak, need_module
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.espeak_text import safe_text
from tolk.models.speech_client import SpeechWorker, WorkerVoice, exit_reason
from tolk.models.speech_worker import UNSAFE_TEXT_ENV, EngineSpec
from tolk.models.tts import EspeakTts, SpeechRouter

SYMBOLS = "abcdefghijklmnopqrstuvwxyzˈˌ ,.?!ɛðβɾθɣʎɲ"
ABORT_TEXT = "La clave es " + "x." * 120  # 120 dotted letters: libespeak-ng 1.51 aborts from 85
# Each sentence after the first is ~270 phonemes: ~260 kB of the tiny voice's audio (240 samples a phoneme), more
# than the pipe (64 kB) and the client's read-ahead (64 kB) hold, so the worker is still writing the second chunk
# when the first is read: a kill then lands mid-clause.
LONG = "Esta es una frase bastante larga que sigue y sigue sin parar nunca hasta el final del dia " * 3 + "y ya."
MULTI = f"Hola amigo. {LONG} {LONG}"


@pytest.fixture(scope="module")
def tiny_kokoro(tmp_path_factory):
    need_module("onnx", "the tiny Kokoro-format pack is written with onnx (pip install -e .[convert])")
    need_espeak()
    from tolk.models.build.tiny import build_kokoro_pack

    folder = tmp_path_factory.mktemp("tiny-kokoro")
    vocab = folder.parent / "vocab-src.json"
    vocab.write_text(json.dumps({"vocab": {s: i for i, s in enumerate(SYMBOLS, 1)}}))
    build_kokoro_pack(folder, vocab, ["es"])
    return folder


@pytest.fixture()
def workers():
    """Start workers with ``workers(specs, **options)``; all are closed after the test, and none may be left."""
    started: list[SpeechWorker] = []

    def start(specs, **options) -> SpeechWorker:
        worker = SpeechWorker(specs, **options).start()
        started.append(worker)
        assert worker.wait_ready(120), "the speech worker did not start"
        return worker

    yield start
    pids = set()
    for worker in started:
        pids.add(worker.pid)
        worker.close()
        assert worker.pid is None
    for pid in pids - {None}:
        with pytest.raises(ProcessLookupError):  # ended and reaped: no orphan, no zombie
            os.kill(pid, 0)
    assert not [t for t in threading.enumerate() if t.name == "speech-worker-start" and t.is_alive()]


def kokoro_spec(folder) -> EngineSpec:
    return EngineSpec("kokoro", "kokoro", str(folder))


def test_the_worker_speaks_what_the_engine_speaks_in_process(tiny_kokoro, workers):
    from tolk.models.manifest import PackManifest
    from tolk.models.tts_kokoro import KokoroTts

    worker = workers([kokoro_spec(tiny_kokoro)])
    remote = list(worker.speak("kokoro", "Hola amigo. ¿Qué tal?", "es"))
    local = list(KokoroTts(tiny_kokoro, PackManifest.load(tiny_kokoro)).speak("Hola amigo. ¿Qué tal?", "es"))
    assert [(s.text, s.sample_rate, s.voice, s.fallback) for s in remote] == \
        [(s.text, s.sample_rate, s.voice, s.fallback) for s in local] == \
        [("Hola amigo.", 24000, "kokoro:tiny_voice", False), ("¿Qué tal?", 24000, "kokoro:tiny_voice", False)]
    for r, l in zip(remote, local):  # the same samples, bit for bit, and writable like the engine's own
        assert r.audio.dtype == np.float32 and np.array_equal(r.audio, l.audio) and r.audio.flags.writeable


def test_a_worker_killed_mid_clause_costs_that_clause_and_restarts(tiny_kokoro, workers, caplog):
    worker = workers([kokoro_spec(tiny_kokoro)])
    first_pid = worker.pid
    chunks = worker.speak("kokoro", MULTI, "es")
    assert next(chunks).text == "Hola amigo."
    os.kill(first_pid, signal.SIGKILL)
    with pytest.raises(TolkError) as crashed:
        list(chunks)
    assert crashed.value.code is ErrorCode.TTS_CRASHED and "SIGKILL" in crashed.value.message
    assert f"speech worker {first_pid} killed by SIGKILL" in caplog.text
    assert worker.wait_ready(120) and worker.pid != first_pid and (worker.starts, worker.crashes) == (2, 1)
    assert [s.text for s in worker.speak("kokoro", "Adiós.", "es")] == ["Adiós."]


def test_the_abort_input_given_unchanged_ends_only_the_worker(tiny_kokoro, workers, caplog):
    """The text that makes libespeak-ng abort, with the cut switched off in the worker: SIGABRT ends the worker,
    the request fails with TTS-CRASHED, and the restarted worker speaks the next clause."""
    worker = workers([kokoro_spec(tiny_kokoro)], env={**os.environ, UNSAFE_TEXT_ENV: "1"})
    first_pid = worker.pid
    with pytest.raises(TolkError) as crashed:
        list(worker.speak("kokoro", ABORT_TEXT, "es"))
    assert crashed.value.code is ErrorCode.TTS_CRASHED and "SIGABRT" in crashed.value.message
    assert f"speech worker {first_pid} killed by SIGABRT" in caplog.text
    assert worker.wait_ready(120) and worker.pid != first_pid
    assert [s.text for s in worker.speak("kokoro", "Hola.", "es")] == ["Hola."]


def test_the_abort_input_is_spoken_with_the_cut(tiny_kokoro, workers, caplog):
    caplog.set_level(logging.INFO)
    worker = workers([kokoro_spec(tiny_kokoro)])
    speech = list(worker.speak("kokoro", ABORT_TEXT, "es"))
    assert speech and sum(s.audio.size for s in speech) > 0 and (worker.starts, worker.crashes) == (1, 0)
    assert "[speech worker] a run of dotted letters was spaced out" in caplog.text  # relayed from the worker's log


def test_a_hung_worker_is_killed_after_the_chunk_timeout(tiny_kokoro, workers, caplog):
    worker = workers([kokoro_spec(tiny_kokoro)], chunk_timeout=1.0)
    hung = worker.pid
    os.kill(hung, signal.SIGSTOP)  # alive but silent, as a worker stuck in native code
    with pytest.raises(TolkError) as err:
        list(worker.speak("kokoro", "Hola.", "es"))
    assert err.value.code is ErrorCode.TTS_CRASHED and "no answer in 1 s" in err.value.message
    assert f"speech worker {hung} killed by SIGKILL" in caplog.text
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)  # killed and reaped
    assert worker.wait_ready(120) and worker.pid != hung


def test_a_clause_left_early_does_not_reach_the_next_request(tiny_kokoro, workers):
    worker = workers([kokoro_spec(tiny_kokoro)])
    chunks = worker.speak("kokoro", "Uno. Dos. Tres. Cuatro. Cinco.", "es")
    assert next(chunks).text == "Uno."
    chunks.close()  # a cancelled turn: the worker is told to stop, its remaining frames are skipped
    assert [s.text for s in worker.speak("kokoro", "Seis.", "es")] == ["Seis."]
    assert worker.crashes == 0


def test_engine_errors_keep_their_code_and_an_engine_that_does_not_load_is_named(tiny_kokoro, tmp_path, workers):
    worker = workers([kokoro_spec(tiny_kokoro), EngineSpec("piper:gone", "piper", str(tmp_path / "nothing"))])
    assert list(worker.failed) == ["piper:gone"] and worker.ready
    with pytest.raises(TolkError) as no_voice:
        list(worker.speak("kokoro", "hola", "es", voice="em_nobody"))
    assert no_voice.value.code is ErrorCode.TTS_MISSING
    with pytest.raises(TolkError) as not_loaded:
        list(worker.speak("piper:gone", "hello", "en"))
    assert not_loaded.value.code is ErrorCode.TTS_FAILED and "piper:gone" in not_loaded.value.message
    assert worker.crashes == 0 and [s.text for s in worker.speak("kokoro", "Hola.", "es")] == ["Hola."]


def test_the_router_speaks_with_espeak_while_the_worker_restarts(tiny_kokoro, workers, caplog):
    worker = workers([kokoro_spec(tiny_kokoro)])
    router = SpeechRouter({}, EspeakTts(), WorkerVoice(worker, "kokoro", {"es": ["tiny_voice"]}), worker=worker)
    assert [s.voice for s in router.speak("Hola.", "es")] == ["kokoro:tiny_voice"]
    os.kill(worker.pid, signal.SIGKILL)
    spoken = list(router.speak("Hola.", "es"))  # the dead worker is found: espeak-ng speaks the clause
    assert [(s.voice, s.fallback) for s in spoken] == [("espeak-ng", True)] and spoken[0].audio.size > 0
    assert "espeak-ng speaks the clause" in caplog.text
    spoken = list(router.speak("Adiós.", "es"))  # still starting (espeak-ng) or started (Kokoro): spoken either way
    assert spoken and spoken[0].voice in ("espeak-ng", "kokoro:tiny_voice")
    router.close()
    assert worker.pid is None


def test_a_crash_after_the_first_sentence_leaves_the_rest_to_espeak(tiny_kokoro, workers, caplog):
    worker = workers([kokoro_spec(tiny_kokoro)])
    router = SpeechRouter({}, EspeakTts(), WorkerVoice(worker, "kokoro", {"es": ["tiny_voice"]}), worker=worker)
    chunks = router.speak(MULTI, "es")
    first = next(chunks)
    os.kill(worker.pid, signal.SIGKILL)
    rest = list(chunks)
    assert (first.text, first.voice) == ("Hola amigo.", "kokoro:tiny_voice")
    assert [(s.text, s.voice) for s in rest] == [(f"{LONG} {LONG}", "espeak-ng")]  # the sentences not yet said


def test_exit_reasons_name_the_signal():
    assert exit_reason(-6) == "killed by SIGABRT" and exit_reason(-9) == "killed by SIGKILL"
    assert exit_reason(1) == "exited with status 1" and exit_reason(None) == "still running"


@pytest.mark.parametrize("text, expected", [
    ("U.S.A. e.g. i.e. a.m.", "U.S.A. e.g. i.e. a.m."),  # real abbreviations stay
    ("a.b.c.d.e.f.g.h.", "a.b.c.d.e.f.g.h."),  # 8 letters: kept
    ("a.b.c.d.e.f.g.h.i.", "a b c d e f g h i. "),
    ("The password is " + "x." * 3 + "y", "The password is x.x.x.y"),
    ("v 1.2.3.4.5.6.7.8.9.10", "v 1.2.3.4.5.6.7.8.9.10"),  # digits never start a run
    ("x . " * 10 + "fin", "x x x x x x x x x x. fin"),  # spaces around the dot do not break a run
])
def test_safe_text_spells_long_dotted_runs(text, expected):
    assert safe_text(text) == expected


@pytest.mark.parametrize("unit, voice", [("x.", "es"), ("ж.", "es"), ("अ.", "hi"), ("𝐀.", "en"), ("x .,", "en"),
                                         ("ा.", "hi")])
def test_the_espeak_command_survives_every_measured_abort_shape_after_the_cut(unit, voice):
    """The shapes measured to abort espeak-ng 1.51 (85 one-byte ... 34 four-byte letters; spaces or commas around
    the dot), at 150 letters: after safe_text the command ends normally."""
    import subprocess

    need_espeak()
    proc = subprocess.run(["espeak-ng", "-q", "-v", voice, "--ipa", "--stdin"],
                          input=safe_text(unit * 150).encode(), capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip()
