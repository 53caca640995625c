"""The appliance's state machine as a pure function: transitions checked as data, no threads, no devices."""
import random

import numpy as np

from tolk.device import events as ev
from tolk.device import inputs as i
from tolk.device import machine, view
from tolk.device.history import HistoryEntry
from tolk.device.machine import Facts, Model, update
from tolk.device.settings import Settings
from tolk.device.state import State
from tolk.models import languages
from tolk.models.errors import ErrorCode
from tolk.ui import screens as sc

FACTS = Facts(languages=("en", "es", "de", "fr"), fallback_voices=frozenset({"es"}), retry_seconds=2.0)


def ready(**settings) -> Model:
    model, effects = update(Model(FACTS, Settings(**settings)), i.Started(True, True, 3))
    assert model.state is State.READY
    return model


def run(model: Model, *inputs) -> tuple[Model, list]:
    effects = []
    for msg in inputs:
        model, more = update(model, msg)
        effects += more
    return model, effects


def kinds(effects) -> list[str]:
    return [type(e).__name__ for e in effects]


def test_push_to_talk_turn_as_data():
    model, effects = run(ready(), i.ButtonEvent("talk_b", "press"))
    assert model.state is State.LISTENING and kinds(effects) == ["CancelTurn", "StartLiveTurn"]
    start = effects[1]
    assert (start.pair, start.forced, start.target, start.capture) == (("es", "en"), "es", "en", True)
    key = start.key
    model, effects = run(model, i.ButtonEvent("talk_a", "release"))  # the other button's release: nothing
    assert model.state is State.LISTENING and effects == []
    model, effects = run(model, i.ButtonEvent("talk_b", "release"))
    assert model.state is State.TRANSCRIBING and kinds(effects) == ["FinishTurn"]
    samples = np.zeros(10, dtype=np.float32)
    model, effects = run(model,
                         i.TurnEvent(key, ev.FinalText(key, text="Hola.", language="es", confidence=0.9)),
                         i.TurnEvent(key, ev.TranslationText(key, index=0, text="Hello.", source_text="Hola.",
                                                             language="en")),
                         i.TurnEvent(key, ev.AudioOut(key, index=0, samples=samples, sample_rate=16000,
                                                      fallback_voice=False)),
                         i.TurnEvent(key, ev.TurnFinished(key, cancelled=False, timings={})))
    assert kinds(effects) == ["Play", "AddHistory"]
    assert effects[1] == i.AddHistory("es", "en", "Hola.", "Hello.")
    assert model.state is State.SPEAKING  # the speaker still plays the last clause
    model, _ = run(model, i.Tick(1.0, speaker_busy=True))
    assert model.state is State.SPEAKING
    model, _ = run(model, i.Tick(1.1, speaker_busy=False))
    assert model.state is State.READY
    screen = view.screen(model)
    assert isinstance(screen, sc.ResultScreen) and (screen.source_text, screen.translation) == ("Hola.", "Hello.")
    assert screen.speaker.fallback_voice and not screen.listener.fallback_voice


def test_events_of_a_cancelled_turn_are_ignored():
    model, effects = run(ready(), i.ButtonEvent("talk_a", "press"))
    old_key = effects[-1].key
    model, effects = run(model, i.ButtonEvent("talk_b", "press"))  # a new press cancels the running turn
    assert kinds(effects) == ["CancelTurn", "StartLiveTurn"] and effects[-1].key != old_key
    before = model
    model, effects = run(model, i.TurnEvent(old_key, ev.TurnError(old_key, code=ErrorCode.ASR_FAILED, message="x")),
                         i.TurnEvent(old_key, ev.PartialText(old_key, text="stale")))
    assert model == before and effects == []


def test_a_replay_is_spoken_but_not_added_to_the_history():
    model, effects = run(ready(), i.Replay("Hola.", "es"))
    key = effects[-1].key
    assert kinds(effects) == ["CancelTurn", "SayText"]
    model, effects = run(model, i.TurnEvent(key, ev.FinalText(key, text="Hola.", language="es", confidence=1.0)),
                         i.TurnEvent(key, ev.TurnFinished(key, cancelled=False, timings={})))
    assert "AddHistory" not in kinds(effects)


def test_a_failed_effect_shows_its_code_and_a_missing_device_is_looked_for_again():
    model, effects = run(ready(), i.ButtonEvent("talk_a", "press"),
                         i.EffectFailed(ErrorCode.AUDIO_NO_MIC, "No microphone found."))
    assert model.state is State.ERROR and model.turn_key is None and kinds(effects)[-1] == "CancelTurn"
    assert view.screen(model) == sc.ErrorScreen("AUDIO-NO-MIC", "No microphone found.",
                                                ErrorCode.AUDIO_NO_MIC.action)
    model, effects = run(model, i.Tick(10.0, False))
    assert effects == [i.CheckDevices(rescan=True)]
    model, effects = run(model, i.Tick(11.0, False))  # not before retry_seconds
    assert effects == []
    model, effects = run(model, i.DevicesChecked(mic=False, speaker=True), i.Tick(12.0, False))
    assert model.state is State.ERROR and effects == [i.CheckDevices(rescan=True)]
    model, effects = run(model, i.ButtonEvent("talk_a", "press"))  # no listening screen while it is missing
    assert model.state is State.ERROR and effects == [i.CheckDevices(rescan=True)]
    model, effects = run(model, i.DevicesChecked(mic=True, speaker=True))
    assert model.state is State.READY and model.notice == "Audio device found again"


def test_a_non_device_error_is_not_rescanned_and_waits_for_a_press():
    model, _ = run(ready(), i.EffectFailed(ErrorCode.AUDIO_TOO_LONG, "40 s is over the 30 s limit"))
    model, effects = run(model, i.Tick(100.0, False), i.Tick(200.0, False))
    assert model.state is State.ERROR and effects == []
    model, effects = run(model, i.ButtonEvent("select", "press"))
    assert model.state is State.READY and effects == [i.CheckDevices(rescan=False)]
    model, _ = run(model, i.DevicesChecked(True, True))
    assert model.state is State.READY and model.notice == ""
    model, _ = run(model, i.DevicesChecked(False, True))  # a device that went missing meanwhile shows
    assert model.state is State.ERROR and model.error.code is ErrorCode.AUDIO_NO_MIC


def test_hands_free_opens_a_turn_with_the_audio_from_before_speech_and_mutes_while_speaking():
    model = ready(mode="hands-free")
    quiet, loud = np.zeros(1600, np.float32), np.full(1600, 0.2, np.float32)  # 0.1 s chunks
    model, effects = run(model, *[i.AudioIn(quiet)] * 3, *[i.AudioIn(loud)] * 3)
    start = next(e for e in effects if isinstance(e, i.StartLiveTurn))
    assert model.state is State.LISTENING and start.capture is False and start.forced is None
    assert len(start.preroll) == 5  # three quiet chunks and two loud ones came before the start
    model, effects = run(model, *[i.AudioIn(quiet)] * 9)  # 0.8 s of silence ends the utterance
    assert model.state is State.TRANSCRIBING and kinds(effects).count("FinishTurn") == 1
    model, effects = run(model, i.Tick(1.0, speaker_busy=True), *[i.AudioIn(loud)] * 10)
    assert effects == []  # the device's own voice is not heard


def test_menu_changes_a_language_and_refuses_a_bad_value_with_a_notice():
    model, _ = run(ready(), i.ButtonEvent("menu", "press"), i.ButtonEvent("down", "press"),
                   i.ButtonEvent("select", "press"))
    page = model.menu[-1]
    assert model.state is State.MENU and page.title == "Language B"
    assert sorted(item.action[2] for item in page.items) == ["de", "es", "fr"]  # not "en", the other side
    model, _ = run(model, *[i.ButtonEvent("up", "press")] * page.selected)  # to the top of the list
    model, effects = run(model, i.ButtonEvent("select", "press"))
    assert model.settings.lang_b == "de" and kinds(effects) == ["SaveSettings", "ApplySettings"]
    before = model.settings
    model, effects = run(model, i.ChangeSettings({"lang_a": "de"}))  # both sides German
    assert model.settings == before and effects == [] and model.notice.startswith("Not changed")


def test_history_menu_lists_entries_read_by_the_executor():
    model, effects = run(ready(), i.ButtonEvent("menu", "press"), *[i.ButtonEvent("down", "press")] * 5,
                         i.ButtonEvent("select", "press"))
    assert effects[-1] == i.LoadHistory(50)
    entry = HistoryEntry(1, 0.0, "en", "es", "Hello.", "Hola.")
    model, _ = run(model, i.HistoryLoaded((entry,)))
    assert model.menu[-1].title == "History" and model.menu[-1].items[1].label == "Hello. → Hola."
    model, effects = run(model, i.ButtonEvent("down", "press"), i.ButtonEvent("select", "press"))
    assert kinds(effects) == ["CancelTurn", "SayText"] and effects[-1].text == "Hola." and model.menu == ()


def test_power_hold_stops_everything():
    model, effects = run(ready(), i.ButtonEvent("talk_a", "press"), i.ButtonEvent("power", "hold"))
    assert model.stopped and kinds(effects)[-3:] == ["CancelTurn", "StopCapture", "Shutdown"]


def random_input(rng: random.Random, keys: list[int]):
    key = rng.choice(keys + [999])
    choices = [
        lambda: i.ButtonEvent(rng.choice(i.BUTTONS), rng.choice(("press", "release", "hold"))),
        lambda: i.AudioIn(np.full(1600, rng.choice((0.0, 0.3)), np.float32)),
        lambda: i.Tick(rng.uniform(0, 1000), rng.random() < 0.3),
        lambda: i.DevicesChecked(rng.random() < 0.8, rng.random() < 0.8),
        lambda: i.EffectFailed(rng.choice(list(ErrorCode)), "failed"),
        lambda: i.HistoryCount(rng.randrange(5)),
        lambda: i.HistoryLoaded((HistoryEntry(1, 0.0, "en", "es", "a", "b"),)),
        lambda: i.ChangeSettings({rng.choice(("mode", "lang_a", "volume", "history")):
                                  rng.choice(("hands-free", "push-to-talk", "de", "en", 0.5, 7, True, None))}),
        lambda: i.Replay("Hola.", "es"),
        lambda: i.TurnEvent(key, ev.FinalText(key, text="x", language="en", confidence=0.5)),
        lambda: i.TurnEvent(key, ev.TranslationText(key, index=0, text="y", source_text="x", language="es")),
        lambda: i.TurnEvent(key, ev.AudioOut(key, index=0, samples=np.zeros(4, np.float32), sample_rate=16000,
                                             fallback_voice=False)),
        lambda: i.TurnEvent(key, ev.NoSpeech(key)),
        lambda: i.TurnEvent(key, ev.TurnError(key, code=ErrorCode.MT_FAILED, message="m")),
        lambda: i.TurnEvent(key, ev.TurnFinished(key, cancelled=False, timings={})),
    ]
    return rng.choice(choices)()


def test_ten_thousand_random_inputs_never_raise_and_every_state_has_a_screen():
    rng = random.Random(14)
    model, effects = Model(FACTS, Settings()), []
    keys = [0]
    for _ in range(10_000):
        if model.stopped:
            model = ready()
        model, effects = machine.update(model, random_input(rng, keys))
        keys += [e.key for e in effects if isinstance(e, (i.StartLiveTurn, i.SayText))]
        screen = view.screen(model)
        assert screen is not None
        assert (model.state is State.ERROR) == isinstance(screen, sc.ErrorScreen)
        assert model.state is not State.MENU or model.menu


def test_a_stuck_worker_drops_the_job_and_reports_it_with_a_code():
    import threading

    from tolk.device.workers import Worker

    errors, release = [], threading.Event()
    worker = Worker("tolk-test", errors.append, maxsize=1)
    worker.submit(release.wait)  # the worker is stuck on this one
    worker.submit(lambda: None)  # fills the queue
    worker.submit(lambda: None, timeout=0.05)  # no room: dropped, reported
    release.set()
    assert worker.wait_idle(2)
    assert len(errors) == 1 and errors[0].code is ErrorCode.INTERNAL and "tolk-test" in errors[0].message
    worker.close()


# Texts in every registry script, mixed with Latin words, digits, Hebrew and emoji (the issue's repro among them)
SCRIPT_TEXTS = tuple(lang.native_name for lang in languages.LANGUAGES) + (
    "I connect my iPhone to the WiFi", "أوصل جهاز iPhone الخاص بي بشبكة WiFi", "मैं अपने iPhone को WiFi से जोड़ता हूँ।",
    "รถไฟออกเวลา 14:30 น.", "איפה התחנה המרכזית? 14:30", "Gracias 👍😀 🚆 🇪🇸 ❤️ 👨‍👩‍👧 👍🏽", "1️⃣ (WiFi) [٣] «سلام»",
    "早上好 iPhone 8:30", "こんにちは、カタカナ ok", "안녕하세요 WiFi", "ქართული 5", "മലയാളം WiFi", "Ελληνικά Кириллица",
    "فارسی ۱۲۳ WiFi", "नेपाली ५ iPhone", "ไทย 123 😀", "Tiếng Việt ✈ ☺ ⇅ → ↺", "\u200f\u200e\u200d\ufe0f", "x" * 300,
)


def random_text(rng: random.Random) -> str:
    return " ".join(rng.choice(SCRIPT_TEXTS) for _ in range(rng.randint(1, 4)))


def random_text_input(rng: random.Random, keys: list[int], codes: tuple[str, ...]):
    """Inputs that carry text (transcripts, partials, translations, replays, history), in any script."""
    key = rng.choice(keys + [999])
    choices = [
        lambda: i.TurnEvent(key, ev.PartialText(key, text=random_text(rng))),
        lambda: i.TurnEvent(key, ev.FinalText(key, text=random_text(rng), language=rng.choice(codes),
                                              confidence=0.5)),
        lambda: i.TurnEvent(key, ev.TranslationText(key, index=rng.randrange(3), text=random_text(rng),
                                                    source_text=random_text(rng), language=rng.choice(codes),
                                                    gap=" ")),
        lambda: i.TurnEvent(key, ev.BackTranslation(key, text=random_text(rng), language=rng.choice(codes))),
        lambda: i.Replay(random_text(rng), rng.choice(codes)),
        lambda: i.HistoryLoaded(tuple(HistoryEntry(n, 0.0, rng.choice(codes), rng.choice(codes), random_text(rng),
                                                   random_text(rng)) for n in range(rng.randint(1, 4)))),
        lambda: i.ChangeSettings({rng.choice(("lang_a", "lang_b")): rng.choice(codes)}),
        lambda: i.ChangeSettings({"mode": rng.choice(("hands-free", "push-to-talk", "face-to-face"))}),
    ]
    return rng.choice(choices)()


def test_ten_thousand_random_inputs_with_texts_in_every_script_render_without_tofu_or_failure(caplog):
    """The machine test with texts in every registry script, mixed scripts and emoji, and every screen the
    states show drawn by the real screen code (as the appliance does: a frame when the screen changes). No
    character is drawn as a box, and no text is left out (UI-RENDER) — drawing never raises either way."""
    from tolk.models import languages as langs
    from tolk.ui import fontset
    from tolk.ui.frames import render

    assert {c for text in SCRIPT_TEXTS for c in fontset.missing_glyphs(text)} == set()
    codes = langs.codes()
    facts = Facts(languages=codes, fallback_voices=frozenset({"ar", "th"}), retry_seconds=2.0)
    rng = random.Random(21)
    model, keys, last, drawn = update(Model(facts, Settings(lang_b="ar")), i.Started(True, True, 3))[0], [0], None, 0
    caplog.set_level("WARNING")
    for n in range(10_000):
        if model.stopped:
            model = update(Model(facts, Settings(lang_b="ar")), i.Started(True, True, 3))[0]
        msg = random_text_input(rng, keys, codes) if rng.random() < 0.5 else random_input(rng, keys)
        model, effects = machine.update(model, msg)
        keys += [e.key for e in effects if isinstance(e, (i.StartLiveTurn, i.SayText))]
        screen = view.screen(model)
        if screen != last:
            image = render(screen, (240, 240) if n % 2 else (320, 240))
            assert image.getbbox() is not None
            last, drawn = screen, drawn + 1
    problems = [r.getMessage() for r in caplog.records if r.name.startswith("tolk.ui")]  # boxes, left-out texts
    assert problems == [] and drawn > 1000, (drawn, problems[:3])  # 1,651 distinct frames with seed 21


def test_an_error_is_cleared_when_the_state_recovers():
    """`status` showed a stale error: the model kept it after a replay, the menu or a later turn had moved on."""
    failed, _ = run(ready(), i.EffectFailed(ErrorCode.MT_FAILED, "the model failed"))
    assert failed.state is State.ERROR and failed.error.code is ErrorCode.MT_FAILED
    replayed, effects = run(failed, i.Replay("Hola.", "es"))  # the console's `say`, a history replay
    assert replayed.state is State.READY and replayed.error is None and kinds(effects) == ["CancelTurn", "SayText"]
    menu, _ = run(failed, i.ButtonEvent("menu", "press"))
    assert menu.state is State.MENU and menu.error is None
    talking, _ = run(failed, i.ButtonEvent("talk_a", "press"))
    key = talking.turn_key
    done, _ = run(talking, i.ButtonEvent("talk_a", "release"),
                  i.TurnEvent(key, ev.FinalText(key, text="Hello.", language="en", confidence=0.9)),
                  i.TurnEvent(key, ev.TranslationText(key, index=0, text="Hola.", source_text="Hello.", language="es")),
                  i.TurnEvent(key, ev.TurnFinished(key, cancelled=False, timings={})))
    assert done.state is State.READY and done.error is None  # a later turn succeeded: no error left to show
    speaking, _ = run(failed, i.TurnEvent(None, ev.InputLevel(0, level=0.5)))  # an input that changes nothing
    assert speaking.error == failed.error  # still an error while the error screen is up


def test_every_model_in_a_random_walk_has_an_error_only_on_the_error_screen():
    rng = random.Random(21)
    inputs = [i.ButtonEvent(b, a) for b in ("talk_a", "talk_b", "menu", "select", "down", "swap") for a in
              ("press", "release")] + [i.EffectFailed(ErrorCode.TTS_FAILED, "x"), i.Replay("Hola.", "es"),
                                       i.Tick(0.0, False), i.DevicesChecked(False, True), i.DevicesChecked(True, True)]
    model = ready()
    for _ in range(2000):
        model, _ = update(model, rng.choice(inputs))
        assert model.error is None or model.state is State.ERROR
