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
