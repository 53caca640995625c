"""The appliance (controller, interpreter, real voices in the real speech worker: Kokoro with its libespeak-ng
phonemes, Piper; espeak-ng here) when the worker is killed mid-clause or aborts on the espeak-ng input: the device
stays ready, the clause is spoken by espeak-ng, the worker restarts and the next turn speaks with Kokoro."""
import os
import signal
import threading
import time

import pytest

from tests.conftest import need_espeak
from tests.test_controller import make_controller, run_until, speech_clip, start_talking  # noqa: F401 (a fixture)
from tolk.device.controller import ButtonEvent, State
from tolk.models.manifest import Kind
from tolk.models.speech_worker import UNSAFE_TEXT_ENV

pytestmark = pytest.mark.real_models


@pytest.fixture
def real_voices(real_store):
    from tolk.device.loader import load_voices

    need_espeak()
    router = load_voices([p for p in real_store.installed() if p.manifest.kind is Kind.TTS])
    if router.worker is None or router.option("es") is None or not router.option("es").startswith("kokoro:"):
        router.close()
        pytest.skip("needs the Kokoro pack installed (tolk models install-defaults)")
    yield router
    router.close()
    assert router.worker.pid is None


def turn(controller, mic, clip, button="talk_a"):
    start_talking(controller, mic, clip, button)
    mic.clip_done.wait(5)
    controller.post(ButtonEvent(button, "release"))
    run_until(controller, lambda: controller.state is State.READY, timeout=300)


def kill_when_speaking(worker, sig=signal.SIGKILL) -> threading.Thread:
    """SIGKILL the worker as soon as a request is in flight (the first clause is being synthesised)."""
    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not worker._lock.locked():
            time.sleep(0.001)
        if worker.pid:
            os.kill(worker.pid, sig)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_killing_the_speech_worker_mid_clause_costs_one_clause(tmp_path, speech_clip, real_voices, caplog):
    controller, mic, speaker, states = make_controller(tmp_path, "Good morning, where is the train station?",
                                                        voices=real_voices)
    controller.start()
    try:
        _kill_mid_clause(controller, mic, speaker, speech_clip, real_voices.worker, caplog)
    finally:
        controller.interpreter.close()  # its thread and the speech worker


def _kill_mid_clause(controller, mic, speaker, speech_clip, worker, caplog):
    first_pid = worker.pid
    killer = kill_when_speaking(worker)
    turn(controller, mic, speech_clip)
    killer.join(5)
    assert f"speech worker {first_pid} killed by SIGKILL" in caplog.text
    assert "espeak-ng speaks" in caplog.text  # the clause (or what was left of it) in the fallback voice
    assert controller.state is State.READY and speaker.seconds > 0.5  # the turn was spoken, the device is ready
    assert controller.executor.idle(30)  # the history row is written by the storage worker
    assert [e.translation for e in controller.history.recent()] == ["GOOD MORNING, WHERE IS THE TRAIN STATION?"]
    assert worker.wait_ready(300) and worker.pid != first_pid and worker.crashes == 1
    caplog.clear()
    spoken_before = speaker.seconds
    turn(controller, mic, speech_clip, "talk_b")  # the next turn: Kokoro again, nothing falls back
    assert speaker.seconds > spoken_before + 0.5 and "espeak-ng speaks" not in caplog.text
    assert controller.executor.idle(30)
    assert controller.state is State.READY and worker.crashes == 1 and controller.history.count() == 2


def test_the_espeak_abort_input_unsanitised_ends_only_the_worker(tmp_path, speech_clip, real_store, monkeypatch,
                                                                 caplog):
    """The issue's input (120 letter-dot pairs) given to Kokoro's libespeak-ng phonemiser with the cut switched off
    in the worker: it aborts (SIGABRT), espeak-ng (with the cut, in the appliance) speaks the clause, the worker
    restarts and the next turn is spoken."""
    from tolk.device.loader import load_voices

    need_espeak()
    monkeypatch.setenv(UNSAFE_TEXT_ENV, "1")  # read by the worker only; the appliance's espeak-ng still cuts
    router = load_voices([p for p in real_store.installed() if p.manifest.kind is Kind.TTS])
    try:
        if router.worker is None or not (router.option("es") or "").startswith("kokoro:"):
            pytest.skip("needs the Kokoro pack installed (tolk models install-defaults)")
        text = "The password is " + "x." * 120
        controller, mic, speaker, states = make_controller(tmp_path, text, voices=router)
        controller.start()
        stack_close = controller.interpreter.close
        first_pid = router.worker.pid
        turn(controller, mic, speech_clip)
        assert f"speech worker {first_pid} killed by SIGABRT" in caplog.text
        assert "espeak-ng speaks the clause" in caplog.text and "TTS-CRASHED" not in str(controller.screen())
        assert controller.state is State.READY and speaker.seconds > 0.5
        assert controller.executor.idle(30) and controller.history.count() == 1  # the turn is kept
        assert router.worker.wait_ready(300) and router.worker.pid != first_pid
        caplog.clear()
        controller.interpreter.asr.text = "Good morning."
        spoken_before = speaker.seconds
        turn(controller, mic, speech_clip, "talk_b")
        assert speaker.seconds > spoken_before + 0.3 and "espeak-ng speaks" not in caplog.text
        assert controller.state is State.READY and router.worker.crashes == 1
        stack_close()
    finally:
        router.close()
    assert router.worker.pid is None
