"""Choosing the voice per language: the setting, the menu item that cycles it, the screen's 'robotic voice' mark,
and the executor handing the choice to the speech router."""
import json

from tolk.device import inputs as i
from tolk.device import view
from tolk.device.machine import Facts, Model, update, voice_of
from tolk.device.menus import voice_label
from tolk.device.settings import Settings, SettingsFile
from tolk.device.state import State
from tolk.models.tts import SpeechRouter

FACTS = Facts(languages=("en", "es", "de"), fallback_voices=frozenset({"de"}),
              voice_options=(("en", ("piper", "kokoro:af_heart", "espeak-ng")),
                             ("es", ("kokoro:ef_dora", "kokoro:em_alex", "espeak-ng"))),
              default_voices=(("de", "espeak-ng"), ("en", "piper"), ("es", "kokoro:ef_dora")))


def menu(settings=Settings()) -> Model:
    model, _ = update(Model(FACTS, settings), i.Started(True, True, 0))
    model, _ = update(model, i.ButtonEvent("menu", "press"))
    assert model.state is State.MENU
    return model


def labels(model):
    return [item.label for item in model.menu[-1].items]


def select(model, label_start):
    index = next(n for n, label in enumerate(labels(model)) if label.startswith(label_start))
    for _ in range((index - model.menu[-1].selected) % len(labels(model))):
        model, _ = update(model, i.ButtonEvent("down", "press"))
    return update(model, i.ButtonEvent("select", "press"))


def test_menu_shows_each_sides_voice_and_cycles_it():
    model = menu()
    assert "Voice A: Piper" in labels(model) and "Voice B: Dora (Kokoro)" in labels(model)
    model, effects = select(model, "Voice B")
    assert model.settings.voices == (("es", "kokoro:em_alex"),) and voice_of(model, "es") == "kokoro:em_alex"
    assert [type(e).__name__ for e in effects] == ["SaveSettings", "ApplySettings"]
    assert "Voice B: Alex (Kokoro)" in labels(model)
    model, _ = select(model, "Voice B")
    assert voice_of(model, "es") == "espeak-ng" and "Voice B: espeak (robotic)" in labels(model)
    model, _ = select(model, "Voice B")
    assert voice_of(model, "es") == "kokoro:ef_dora"  # round again


def test_a_language_without_a_choice_has_no_voice_item():
    model = menu(Settings(lang_a="de", lang_b="es"))
    assert not any(label.startswith("Voice A") for label in labels(model))


def test_screen_marks_the_robotic_voice_by_the_current_choice():
    model, _ = update(Model(FACTS, Settings(voices=(("es", "espeak-ng"),))), i.Started(True, True, 0))
    assert view.side(model, "es").fallback_voice and view.side(model, "de").fallback_voice
    assert not view.side(model, "en").fallback_voice
    unknown = Model(FACTS, Settings(voices=(("es", "kokoro:zz_nobody"),)))  # a voice this device lacks
    assert voice_of(unknown, "es") == "kokoro:ef_dora" and not view.side(unknown, "es").fallback_voice


def test_voices_persist_as_an_object_and_bad_ones_are_reset(tmp_path):
    file = SettingsFile(tmp_path / "settings.json")
    file.save(Settings().with_voice("es", "kokoro:em_alex"))
    assert json.loads(file.path.read_text())["voices"] == {"es": "kokoro:em_alex"}
    assert file.load() == (Settings(voices=(("es", "kokoro:em_alex"),)), "")
    file.path.write_text(json.dumps({"lang_a": "fr", "voices": {"es": "$(reboot)"}}))
    settings, notice = file.load()
    assert settings.lang_a == "fr" and settings.voices == () and "voices" in notice and "SETTINGS-BAD" in notice


def test_labels():
    assert [voice_label(o) for o in ("kokoro:zf_xiaoxiao", "piper", "espeak-ng", None)] == [
        "Xiaoxiao (Kokoro)", "Piper", "espeak (robotic)", "none"]


def test_executor_hands_the_choice_to_the_router(tmp_path):
    from tests.fakes import FakeAsr, FakeTranslator, mt_manifest
    from tolk.audio.devices import FileMicrophone, RecordingSpeaker
    from tolk.device.executor import Executor
    from tolk.device.interpreter import Interpreter
    from tests.leaks import closing

    class Engine:
        voices = {"es": ["ef_dora", "em_alex"]}

        def speak(self, text, language, voice=None):
            yield voice

    router = SpeechRouter({}, None, Engine(), defaults={"es": "kokoro:ef_dora"})
    interp = closing(Interpreter(FakeAsr("hola"), FakeTranslator(mt_manifest()), router))
    executor = closing(Executor(interp, FileMicrophone(), RecordingSpeaker(), SettingsFile(tmp_path / "s.json"), None,
                                lambda m: None))
    executor.perform(i.ApplySettings(Settings(voices=(("es", "kokoro:em_alex"),))))
    assert router.option("es") == "kokoro:em_alex"
    executor.perform(i.ApplySettings(Settings(voices=(("es", "kokoro:zz_gone"),))))  # not here: the default
    assert router.option("es") == "kokoro:ef_dora"
    executor.perform(i.ApplySettings(Settings()))
    assert router.option("es") == "kokoro:ef_dora"


class _Kokoro:
    """A Kokoro engine's voice list (what the router offers); speaks the voice's name."""

    voices = {"es": ["ef_dora", "em_alex"], "pt": ["pf_dora", "pm_alex"], "hi": ["hf_alpha", "hm_omega"]}

    def speak(self, text, language, voice=None):
        yield voice


def test_one_bad_voice_entry_drops_only_itself_and_the_next_save_keeps_the_others(tmp_path):
    """The repro: one bad entry reset every voice, and the next save wrote {}."""
    from tests.test_controller import make_controller

    saved = {"lang_a": "fr", "voices": {"es": "kokoro:em_alex", "de": "$(reboot)", "xx": "piper", "en": 7,
                                        "ES": "espeak-ng", "pt-BR": "kokoro:pm_alex"}}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(saved))
    settings, notice = SettingsFile(path).load()
    assert settings.voices == (("es", "kokoro:em_alex"), ("pt", "kokoro:pm_alex")) and settings.lang_a == "fr"
    assert "SETTINGS-BAD" in notice and all(f"voices.{k}" in notice for k in ("de", "xx", "en", "ES"))
    assert "voices.es" not in notice and "voices.pt" not in notice
    assert json.loads(path.read_text()) == saved  # nothing written at load
    controller, *_ = make_controller(tmp_path)
    try:
        controller.start()
        controller.set_settings(volume=0.5)  # the person changes something else: that is what gets saved
        controller.step(0.01)
        assert controller.executor.idle()
        written = json.loads(path.read_text())
        assert written["voices"] == {"es": "kokoro:em_alex", "pt": "kokoro:pm_alex"} and written["volume"] == 0.5
        assert written["lang_a"] == "fr"  # and no default voice of any language was written as a choice
    finally:
        controller.close()
        controller.interpreter.close()


def test_voice_keys_in_any_case_or_region_are_normalised_and_applied(tmp_path):
    """The repro: keys like "ES" and "pt-BR" were accepted and never applied."""
    from tests.fakes import FakeAsr, FakeTranslator, mt_manifest
    from tolk.audio.devices import FileMicrophone, RecordingSpeaker
    from tolk.device.executor import Executor
    from tolk.device.interpreter import Interpreter

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"voices": {"ES": "kokoro:em_alex", "pt-BR": "kokoro:pm_alex"}}))
    settings, notice = SettingsFile(path).load()
    assert settings.voices == (("es", "kokoro:em_alex"), ("pt", "kokoro:pm_alex")) and notice == ""
    assert settings.voice("es") == settings.voice("ES") == "kokoro:em_alex"
    router = SpeechRouter({}, None, _Kokoro(), defaults={"es": "kokoro:ef_dora", "pt": "kokoro:pf_dora"})
    interp = Interpreter(FakeAsr("hola"), FakeTranslator(mt_manifest()), router)
    executor = Executor(interp, FileMicrophone(), RecordingSpeaker(), SettingsFile(path), None, lambda m: None)
    try:
        executor.perform(i.ApplySettings(settings))
        assert (router.option("es"), router.option("pt")) == ("kokoro:em_alex", "kokoro:pm_alex")
        assert Settings().with_voice("PT-br", "piper").voices == (("pt", "piper"),)
        assert Settings(voices=(("ES", "piper"),)).with_voice("es", None).voices == ()
    finally:
        executor.close()
        interp.close()


def test_voice_of_names_what_the_router_speaks_when_there_is_no_measured_default():
    """The console said "hi: None": Hindi had a choice of voices but no measured default."""
    router = SpeechRouter({}, None, _Kokoro(), defaults={"es": "kokoro:ef_dora"})
    facts = Facts(languages=("en", "es", "hi"),
                  voice_options=tuple((code, tuple(router.options(code))) for code in ("es", "hi", "pt")),
                  default_voices=(("es", "kokoro:ef_dora"),))
    model = Model(facts, Settings())
    assert [voice_of(model, code) for code in ("es", "hi", "pt")] == [router.option(c) for c in ("es", "hi", "pt")]
    assert voice_of(model, "hi") == "kokoro:hf_alpha" and voice_of(model, "de") is None
