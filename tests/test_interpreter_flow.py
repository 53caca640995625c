"""The Turn state machine with fake engines: event order, cancellation, bad input."""
import threading
import time

import numpy as np
import pytest

from tolk.device import events as ev
from tolk.device.interpreter import Interpreter, InterpreterConfig
from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
from tests.leaks import closing

SPEECH = np.full(16000 * 2, 0.2, dtype=np.float32)


def make(text="Good morning. Where is the station?", gate=None, **config):
    voices = FakeVoices()
    translator = FakeTranslator(mt_manifest(), gate=gate)
    return closing(Interpreter(FakeAsr(text), translator, voices, InterpreterConfig(**config))), translator, voices


def _wait_until(done, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


def _speak(turn, seconds: int) -> None:
    """Feed ``seconds`` of loud audio, one second at a time, letting each partial decode finish."""
    for _ in range(seconds):
        turn.feed(np.full(16000, 0.2, dtype=np.float32))
        _wait_until(lambda: not turn._partial_busy.is_set())


def kinds(events):
    return [type(e).__name__ for e in events]


def test_turn_event_sequence_first_sentence_alone():
    interp, translator, voices = make(back_translation=True)
    events = interp.interpret(SPEECH, pair=["en", "es"]).collect(timeout=10)
    assert kinds(events) == ["TurnStarted", "StageTiming", "FinalText", "TranslationText", "AudioOut", "StageTiming",
                             "TranslationText", "AudioOut", "StageTiming", "StageTiming", "BackTranslation",
                             "TurnFinished"]
    final = next(e for e in events if isinstance(e, ev.FinalText))
    assert (final.text, final.language) == ("Good morning. Where is the station?", "en")
    assert [e.text for e in events if isinstance(e, ev.TranslationText)] == ["GOOD MORNING.", "WHERE IS THE STATION?"]
    assert translator.calls[:2] == [["Good morning."], ["Where is the station?"]]  # sentence 1 first, alone
    assert voices.spoken == [("GOOD MORNING.", "es"), ("WHERE IS THE STATION?", "es")]
    done = events[-1]
    assert not done.cancelled and {"asr", "mt", "tts", "first_audio", "total"} <= set(done.timings)
    back = next(e for e in events if isinstance(e, ev.BackTranslation))
    assert (back.text, back.language) == ("good morning. where is the station?", "en")  # es -> en, not the forward
    assert translator.calls[-1] == ["GOOD MORNING. WHERE IS THE STATION?"]  # what was said, translated back
    interp.close()


def test_silence_gives_no_speech_and_no_translation():
    interp, translator, _ = make()
    events = interp.interpret(np.zeros(16000, dtype=np.float32), pair=["en", "es"]).collect(timeout=10)
    assert any(isinstance(e, ev.NoSpeech) for e in events)
    assert not any(isinstance(e, (ev.TranslationText, ev.AudioOut)) for e in events)
    assert translator.calls == []


def test_cancel_mid_translation():
    gate = threading.Event()
    interp, translator, voices = make(gate=gate)
    turn = interp.interpret(SPEECH, pair=["en", "es"])
    seen = []
    for event in turn.events(timeout=10):
        seen.append(event)
        if isinstance(event, ev.FinalText):
            turn.cancel()  # the translator is blocked on the gate: cancel reaches it inside decoding
    assert seen[-1].cancelled and not any(isinstance(e, ev.AudioOut) for e in seen)
    assert voices.spoken == []
    gate.set()
    assert any(isinstance(e, ev.AudioOut) for e in interp.interpret(SPEECH, pair=["en", "es"]).collect(10))


def test_text_turn_and_phrase_cache():
    interp, translator, _ = make()
    first = interp.translate_text("Thank you.", "en", "de").collect(timeout=10)
    second = interp.translate_text("Thank you.", "en", "de").collect(timeout=10)
    assert [e.text for e in first + second if isinstance(e, ev.TranslationText)] == ["THANK YOU.", "THANK YOU."]
    assert translator.calls == [["Thank you."]]  # the second came from the cache


def test_live_turn_partials_then_full_turn():
    import time

    interp, _, _ = make(text="where is the train station please", partial_every_seconds=1.0)
    turn = interp.start_live(pair=["en", "es"])
    for _ in range(60):  # 6 s of speech in 100 ms chunks, a little faster than real time
        turn.feed(np.full(1600, 0.2, dtype=np.float32))
        time.sleep(0.005)
    time.sleep(0.2)
    turn.finish()
    events = turn.collect(timeout=10)
    partials = [e.text for e in events if isinstance(e, ev.PartialText)]
    assert partials and all("where is the train station please".startswith(p) for p in partials)
    assert len(partials[-1]) >= len(partials[0])  # the stable prefix only grows
    names = kinds(events)
    assert names[0] == "TurnStarted" and names.count("TurnStarted") == 1
    assert "InputLevel" in names and names.index("PartialText") < names.index("FinalText")
    assert any(isinstance(e, ev.TranslationText) and e.text == "WHERE IS THE TRAIN STATION PLEASE" for e in events)
    levels = [e.level for e in events if isinstance(e, ev.InputLevel)]
    assert all(0 < level <= 1 for level in levels)


def test_earlier_turns_are_passed_as_context_when_enabled():
    seen = []

    class ContextTranslator(FakeTranslator):
        def stream(self, text, source, target, context=(), cancel=None):
            seen.append(list(context))
            return super().stream(text, source, target, context, cancel)

    translator = ContextTranslator(mt_manifest())
    interp = closing(Interpreter(FakeAsr("x"), translator, FakeVoices(), InterpreterConfig(context_turns=2)))
    for text in ("One.", "Two.", "Three."):
        interp.translate_text(text, "en", "es").collect(timeout=10)
    interp.translate_text("Four.", "en", "de").collect(timeout=10)
    assert seen == [[], [("One.", "ONE.")], [("One.", "ONE."), ("Two.", "TWO.")], []]


def test_say_speaks_without_translating():
    interp, translator, voices = make()
    events = interp.say("Hello there. Bye.", "en").collect(timeout=10)
    assert [type(e).__name__ for e in events if isinstance(e, ev.AudioOut)] == ["AudioOut", "AudioOut"]
    assert translator.calls == [] and voices.spoken == [("Hello there.", "en"), ("Bye.", "en")]


def test_first_audio_is_out_before_the_sentence_is_translated():
    """Clause streaming: the first clause is spoken while the model is still generating the rest."""
    gate = threading.Event()
    interp, translator, voices = make("Where is the nearest pharmacy, please, and when does it open?", gate=gate)
    translator.gate_after = 7  # the model "stalls" after "WHERE IS THE NEAREST PHARMACY, PLEASE, AND"
    turn = interp.interpret(SPEECH, pair=["en", "es"])
    first_audio, seen = None, []
    for event in turn.events(timeout=10):
        seen.append(event)
        if isinstance(event, ev.AudioOut):
            first_audio = event
            break
    assert first_audio is not None and translator.finished == []  # audio while the translation is unfinished
    assert voices.spoken == [("WHERE IS THE NEAREST PHARMACY,", "es")]
    gate.set()
    events = turn.collect(timeout=10)
    assert ev.joined_translation(seen + events) == "WHERE IS THE NEAREST PHARMACY, PLEASE, AND WHEN DOES IT OPEN?"
    assert translator.finished == ["Where is the nearest pharmacy, please, and when does it open?"]
    interp.close()


def test_cancel_during_clause_streaming_leaves_the_worker_ready():
    gate = threading.Event()
    interp, translator, voices = make("Where is the nearest pharmacy, please, and when does it open?", gate=gate)
    translator.gate_after = 7
    turn = interp.interpret(SPEECH, pair=["en", "es"])
    next(e for e in turn.events(timeout=10) if isinstance(e, ev.AudioOut))
    turn.cancel()
    events = turn.collect(timeout=10)
    assert events[-1].cancelled and translator.finished == []
    gate.set()
    again = interp.translate_text("Thank you.", "en", "es").collect(timeout=10)
    assert ev.joined_translation(again) == "THANK YOU." and not again[-1].cancelled
    interp.close()


def test_simultaneous_mode_translates_committed_sentences_while_talking():
    """A sentence committed by two agreeing partial decodes is translated before the person stops; after the
    end of speech only the rest is left, and nothing is spoken before it."""
    text = "Good morning. Where is the station please?"
    interp, translator, voices = make(text, partial_every_seconds=1.0)
    turn = interp.start_live(pair=["en", "es"])
    _speak(turn, seconds=7)  # partial decodes hear 1..7 words; "Good morning." is committed by the third
    _wait_until(lambda: turn.early_translations)
    assert translator.calls == [["Good morning."]] and voices.spoken == []  # translating, not spoken
    turn.finish()
    events = turn.collect(timeout=10)
    assert ev.joined_translation(events) == "GOOD MORNING. WHERE IS THE STATION PLEASE?"
    assert translator.calls == [["Good morning."], ["Where is the station please?"]]  # no second pass
    assert [s for s, _ in voices.spoken] == ["GOOD MORNING.", "WHERE IS THE STATION PLEASE?"]
    assert interp.asr.prefixes == [turn.committed] and turn.committed.startswith("Good morning. Where")
    interp.close()


def test_no_partial_decode_starts_once_the_input_has_gone_quiet():
    """A partial running at the end of speech would delay the final decode: none starts in a quiet tail."""
    interp, translator, voices = make("Good morning. Where is the station please?", partial_every_seconds=0.5)
    turn = interp.start_live(pair=["en", "es"])
    turn.feed(np.full(16000, 0.2, dtype=np.float32))  # speech: a partial decode is queued
    _wait_until(lambda: not turn._partial_busy.is_set())
    decodes = interp.asr.decodes
    for _ in range(10):  # 1 s of near-silence in 100 ms chunks
        turn.feed(np.full(1600, 0.001, dtype=np.float32))
        time.sleep(0.01)
    assert interp.asr.decodes == decodes == 1
    turn.finish()
    assert ev.joined_translation(turn.collect(timeout=10))
    interp.close()


def test_cancel_during_simultaneous_translation_leaves_the_worker_ready():
    gate = threading.Event()
    interp, translator, voices = make("Good morning. Where is the station please?", gate=gate,
                                      partial_every_seconds=1.0)
    turn = interp.start_live(pair=["en", "es"])
    _speak(turn, seconds=4)
    _wait_until(lambda: translator.calls)
    assert translator.calls == [["Good morning."]]  # the early translation is running (held at the gate)
    turn.cancel()
    turn.finish()
    assert turn.collect(timeout=10)[-1].cancelled
    gate.set()
    again = interp.translate_text("Thank you.", "en", "es").collect(timeout=10)
    assert ev.joined_translation(again) == "THANK YOU."
    interp.close()


@pytest.mark.parametrize("text, code", [("", "TEXT-EMPTY"), ("   \n", "TEXT-EMPTY"), ("x" * 20000, "TEXT-TOO-LONG")])
def test_empty_or_huge_text_is_refused_before_the_models(text, code):
    from tolk.models.errors import TolkError

    interp, translator, voices = make()
    for call in (lambda: interp.translate_text(text, "en", "es"), lambda: interp.say(text, "es")):
        with pytest.raises(TolkError) as caught:
            call()
        assert caught.value.code == code
    assert translator.calls == [] and voices.spoken == []
    interp.close()


def test_a_turn_cancelled_while_queued_runs_no_asr():
    gate = threading.Event()
    interp, translator, voices = make(gate=gate)
    busy = interp.interpret(SPEECH, pair=["en", "es"])  # holds the worker at the translation gate
    _wait_until(lambda: translator.calls)  # the first turn is past its ASR
    queued = interp.interpret(SPEECH, pair=["en", "es"])
    queued.cancel()
    busy.cancel()
    gate.set()
    assert queued.collect(timeout=10)[-1].cancelled
    assert interp.asr.prefixes == [""]  # only the first turn reached the ASR
    interp.close()


def test_an_early_translation_the_final_asr_does_not_confirm_is_stopped():
    """If the final transcript changed a sentence committed while talking, its early translation is closed
    before the final pass (a running model request would otherwise be finished first)."""
    interp, translator, voices = make("Good morning. Where is the station please?", partial_every_seconds=1.0)
    turn = interp.start_live(pair=["en", "es"])
    _speak(turn, seconds=7)
    _wait_until(lambda: turn.early_translations)
    (early,) = turn.early_translations.values()
    closed = []
    early.close = lambda: closed.append(True)  # observe the close
    interp.asr.text = "Good evening. Where is the station please?"  # the final decode hears it differently
    turn.finish()
    events = turn.collect(timeout=10)
    assert closed and ev.joined_translation(events) == "GOOD EVENING. WHERE IS THE STATION PLEASE?"
    interp.close()


def _feed_file(turn, path, chunk=1600):
    from tolk.audio.clip import load_audio

    audio = load_audio(path)
    for i in range(0, audio.size, chunk):
        turn.feed(audio[i:i + chunk])
        _wait_until(lambda: not turn._partial_busy.is_set())


def test_a_live_turn_fed_from_a_file_speaks_before_its_sentence_is_translated(tmp_path):
    from tolk.audio.clip import write_wav

    gate = threading.Event()
    interp, translator, voices = make("Where is the nearest pharmacy, please, and when does it open?", gate=gate,
                                      partial_every_seconds=1.0)
    translator.gate_after = 7
    clip = write_wav(tmp_path / "speech.wav", np.full(16000 * 3, 0.2, dtype=np.float32), 16000)
    turn = interp.start_live(pair=["en", "es"])
    _feed_file(turn, clip)
    turn.finish()
    order = []
    for event in turn.events(timeout=10):
        order.append(type(event).__name__)
        if isinstance(event, ev.AudioOut):
            break
    assert order.index("FinalText") < order.index("TranslationText") < order.index("AudioOut")
    assert translator.finished == []  # the sentence's translation is not finished yet
    gate.set()
    assert not turn.collect(timeout=10)[-1].cancelled
    interp.close()


def test_cancel_during_streaming_asr_leaves_the_worker_ready(tmp_path):
    from tolk.audio.clip import write_wav

    interp, translator, voices = make("Good morning. Where is the station please?", partial_every_seconds=0.5)
    turn = interp.start_live(pair=["en", "es"])
    _feed_file(turn, write_wav(tmp_path / "speech.wav", np.full(16000 * 2, 0.2, dtype=np.float32), 16000))
    assert interp.asr.decodes >= 2  # partial decodes ran while "speaking"
    turn.cancel()
    turn.finish()
    assert turn.collect(timeout=10)[-1].cancelled and voices.spoken == []
    again = interp.translate_text("Thank you.", "en", "es").collect(timeout=10)
    assert ev.joined_translation(again) == "THANK YOU." and not again[-1].cancelled
    interp.close()
