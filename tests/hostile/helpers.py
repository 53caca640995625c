"""Shared by the hostile-input tests: an interpreter over the fake engines and a check that it still works."""
from __future__ import annotations

from tolk.device import events as ev
from tolk.device.interpreter import Interpreter, InterpreterConfig
from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
from tests.leaks import closing


def make_interpreter(text: str = "Good morning.", **config):
    voices = FakeVoices()
    translator = FakeTranslator(mt_manifest())
    return closing(Interpreter(FakeAsr(text), translator, voices, InterpreterConfig(**config))), translator, voices


def still_translates(interp) -> None:
    """Nothing was lost: the worker is alive and the next turn translates."""
    events = interp.translate_text("Thank you.", "en", "es").collect(timeout=10)
    assert [e.text for e in events if isinstance(e, ev.TranslationText)] == ["THANK YOU."]
    interp.close()
