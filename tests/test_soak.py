"""The soak driver on fake engines: every kind of turn of its cycle runs through the real controller and ends
ready, with no thread or file descriptor left behind (the real soak is `tolk bench --only soak`)."""
import numpy as np

from tolk.device.bench.soak import CYCLE, Soak, make_clips, write_report
from tolk.device.interpreter import Interpreter, InterpreterConfig
from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest


def test_soak_cycle_on_fake_engines(tmp_path):
    interp = Interpreter(FakeAsr("Good morning.", "en"), FakeTranslator(mt_manifest()), FakeVoices(),
                         InterpreterConfig(partial_every_seconds=0))
    speech = np.full(8000, 0.2, dtype=np.float32)
    clips = make_clips(tmp_path / "clips", speech, speech, 16000)
    soak = Soak(interp, clips, tmp_path / "data", mic_speed=20.0, timeout=20.0, warmup=10)
    try:
        report = soak.run(2 * len(CYCLE))
    finally:
        soak.close()
        interp.close()
    assert report.turns == 20 and set(report.outcomes) == set(CYCLE)
    assert (report.final_state, report.final_error) == ("ready", "")
    assert report.threads_end <= report.threads_after_warmup and report.fds_end <= report.fds_after_warmup
    # 12 push-to-talk and 2 hands-free turns, no replay; the press that cancels a turn starts one of its own,
    # which is saved when it heard the rest of the clip (timing), so 14 to 16
    assert 14 <= report.history_rows <= 16
    assert report.bytes_written_per_100_turns > 0 and report.speech_seconds > 0
    assert "| open file descriptors |" in write_report(report, tmp_path / "out").read_text()
