"""Hostile text on the screen: the issue's repro (settings en/ar, "I connect my iPhone to the WiFi", an Arabic
translation keeping the Latin words) through the real controller, appliance loop and screen code. It used to
end the simulator with "[UI-FONT] no installed font covers ['W','f','i']" and lose the turn; now the appliance
stays up, the turn is kept (history, screen) and the frame shows the text. A font that cannot be read or a
display that fails is logged with its code and the loop goes on."""
import numpy as np
import pytest

from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
from tests.leaks import closing
from tolk.audio.clip import write_wav
from tolk.audio.devices import FileMicrophone, RecordingSpeaker
from tolk.device.appliance import Appliance
from tolk.device.controller import ButtonEvent, Controller, State
from tolk.device.history import History
from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.device.settings import Settings, SettingsFile
from tolk.models.translate import Translation
from tolk.ui import fontset, runs, screens as sc
from tolk.ui.frames import render
from tolk.ui.outputs import DisplayError, MemoryDisplay

SPOKEN = "I connect my iPhone to the WiFi"
CASES = {  # the language B and a translation mixing its script with Latin words, digits, emoji
    "ar": "أوصل جهاز iPhone الخاص بي بشبكة WiFi",
    "hi": "मैं अपने iPhone को WiFi से जोड़ता हूँ।",
    "th": "ฉันเชื่อมต่อ iPhone กับ WiFi เวลา 8:30",
    "fa": "من iPhone خود را به WiFi وصل می‌کنم 👍",
    "es": "Conecto mi iPhone al WiFi 👍😀🇪🇸",
}


class FixedTranslator(FakeTranslator):
    """Answers every sentence with one fixed translation (what a model keeping brand names gives)."""

    answer = ""

    def stream(self, text, source, target, context=(), cancel=None):
        self.calls.append([text])
        yield self.answer

    def translate(self, texts, source, target, context=(), cancel=None):
        self.calls.append(list(texts))
        return [Translation(self.answer, source, target, len(t), len(self.answer), 0.001) for t in texts]


def appliance_for(tmp_path, lang_b: str, answer: str, display=None):
    translator = FixedTranslator(mt_manifest(("en", lang_b)))
    translator.answer = answer
    interp = closing(Interpreter(FakeAsr(SPOKEN, "en"), translator, FakeVoices(),
                                 InterpreterConfig(partial_every_seconds=0)))
    settings = SettingsFile(tmp_path / "settings.json")
    settings.save(Settings(lang_a="en", lang_b=lang_b))
    mic, speaker = FileMicrophone(speed=20.0), RecordingSpeaker()
    controller = closing(Controller(interp, mic, speaker, settings, History(tmp_path / "history.sqlite"),
                                    retry_seconds=0.0))
    appliance = Appliance(controller, display or MemoryDisplay(), (240, 240), render)
    return appliance, mic


def talk(appliance, mic, tmp_path, timeout: float = 20.0) -> None:
    """Press talk A with a clip, release it, and tick the appliance (loop + screen) until it is ready again."""
    import time

    controller = appliance.controller
    controller.start()
    appliance.refresh()
    mic.load(write_wav(tmp_path / "speech.wav", np.full(16000, 0.2, dtype=np.float32), 16000))
    controller.post(ButtonEvent("talk_a", "press"))
    deadline = time.monotonic() + timeout
    while controller.state is not State.LISTENING:
        assert time.monotonic() < deadline
        appliance.tick(0.01)
    mic.clip_done.wait(5)
    controller.post(ButtonEvent("talk_a", "release"))
    while not (controller.state is State.READY and isinstance(controller.screen(), sc.ResultScreen)):
        assert time.monotonic() < deadline, controller.state
        appliance.tick(0.01)
    for _ in range(5):
        appliance.tick(0.01)
    assert controller.executor.idle(30)  # the turn's history row is written by the storage worker


def ink(image, box) -> int:
    left, top, right, bottom = box
    pixels = np.asarray(image.convert("L"), dtype=np.int16)[top:bottom, left:right]
    return int((np.abs(pixels - pixels[0, 0]) > 60).sum())


@pytest.mark.parametrize("lang_b", list(CASES))
def test_the_issue_repro_keeps_the_appliance_up_the_turn_kept_and_the_text_on_the_frame(tmp_path, lang_b, caplog):
    answer = CASES[lang_b]
    appliance, mic = appliance_for(tmp_path, lang_b, answer)
    caplog.set_level("WARNING")
    talk(appliance, mic, tmp_path)
    controller = appliance.controller
    assert not controller.stopped.is_set() and controller.state is State.READY  # the appliance is up
    screen = controller.screen()
    assert (screen.source_text, screen.translation, screen.listener.code) == (SPOKEN, answer, lang_b)
    assert [(e.source_text, e.translation) for e in controller.history.recent()] == [(SPOKEN, answer)]
    frame = appliance.display.frames[-1]
    assert frame.tobytes() == render(screen).tobytes()
    without_text = render(sc.ResultScreen(screen.speaker, screen.listener, screen.source_text, "", screen.detected))
    translation_box = (8, 104, 232, 200)
    assert ink(frame, translation_box) > 300 + ink(without_text, translation_box)  # the translation is drawn
    line_runs = runs.split(answer, "Latn", lang_b in ("ar", "fa"))
    assert None not in {run.face for run in line_runs} and "Latn" in {run.face for run in line_runs}
    assert [r.getMessage() for r in caplog.records if r.name.startswith("tolk.ui")] == []  # no box, nothing left out
    appliance.controller.close()


def test_an_unreadable_font_leaves_that_text_out_logs_ui_render_and_the_turn_is_kept(tmp_path, caplog, monkeypatch):
    real_font = fontset.font

    def broken(script, size, bold=False):
        if script == "Arab":
            raise OSError("cannot open resource")  # e.g. a damaged font file
        return real_font(script, size, bold)

    monkeypatch.setattr(fontset, "font", broken)
    runs.run_width.cache_clear()
    appliance, mic = appliance_for(tmp_path, "ar", CASES["ar"])
    caplog.set_level("WARNING")
    try:
        talk(appliance, mic, tmp_path)
    finally:
        runs.run_width.cache_clear()
    controller = appliance.controller
    assert not controller.stopped.is_set() and controller.state is State.READY
    assert controller.screen().translation == CASES["ar"]
    assert [e.translation for e in controller.history.recent()] == [CASES["ar"]]
    assert any("[UI-RENDER]" in r.getMessage() and "OSError" in r.getMessage() for r in caplog.records)
    frame = appliance.display.frames[-1]
    assert ink(frame, (8, 32, 232, 80)) > 300  # the English source text is still on the frame
    appliance.controller.close()


def test_a_failing_display_is_logged_and_the_loop_goes_on(tmp_path, caplog):
    class BrokenDisplay:
        shown = 0

        def show(self, image):
            self.shown += 1
            raise DisplayError("SPI write failed")

    display = BrokenDisplay()
    appliance, mic = appliance_for(tmp_path, "ar", CASES["ar"], display=display)
    caplog.set_level("WARNING")
    talk(appliance, mic, tmp_path)
    controller = appliance.controller
    assert not controller.stopped.is_set() and display.shown >= 3
    assert [e.translation for e in controller.history.recent()] == [CASES["ar"]]
    assert any("[UI-DISPLAY]" in r.getMessage() for r in caplog.records)
    appliance.controller.close()


def test_a_layout_bug_shows_the_bare_frame_and_the_loop_goes_on(tmp_path, caplog, monkeypatch):
    from tolk.ui import frames

    monkeypatch.setitem(frames._LAYOUTS, sc.ResultScreen, lambda img, draw, s: 1 / 0)
    appliance, mic = appliance_for(tmp_path, "ar", CASES["ar"])
    caplog.set_level("WARNING")
    talk(appliance, mic, tmp_path)
    assert not appliance.controller.stopped.is_set()
    assert [e.translation for e in appliance.controller.history.recent()] == [CASES["ar"]]
    assert any("[UI-RENDER] ResultScreen could not be drawn" in r.getMessage() for r in caplog.records)
    assert appliance.display.frames[-1].getbbox() is not None  # the bare frame with the code, not nothing
    monkeypatch.undo()
    appliance.controller.post(ButtonEvent("menu", "press"))  # the next screen draws normally again
    for _ in range(20):
        appliance.tick(0.01)
    assert appliance.display.frames[-1].tobytes() == render(appliance.controller.screen()).tobytes()
    appliance.controller.close()
