"""Settings with wrong types or values: each bad field takes its default with a notice; good fields stay."""
import json

import pytest

from tolk.device.settings import Settings, SettingsError, SettingsFile


@pytest.mark.parametrize("field, value", [("volume", "0.5"), ("volume", True), ("volume", float("nan")),
                                          ("volume", 7), ("history", "no"), ("history", 0), ("mode", 3),
                                          ("lang_a", ["en"]), ("back_translation", None)])
def test_a_bad_value_takes_its_default_with_a_notice_and_is_not_saved(tmp_path, field, value):
    path = tmp_path / "settings.json"
    saved = {"lang_a": "de", "lang_b": "fr", "volume": 0.3, field: value}
    path.write_text(json.dumps(saved, allow_nan=True))
    settings, notice = SettingsFile(path).load()
    assert getattr(settings, field) == getattr(Settings(), field)
    assert "SETTINGS-BAD" in notice and field in notice
    kept = {k: v for k, v in saved.items() if k != field}
    assert all(getattr(settings, k) == v for k, v in kept.items())
    assert json.loads(path.read_text()) == json.loads(json.dumps(saved, allow_nan=True))  # the file is untouched
    with pytest.raises(SettingsError):
        Settings.from_dict(saved)


def test_a_swapped_pair_is_valid():
    assert (Settings.from_dict({"lang_a": "es", "lang_b": "en"}).lang_a, Settings().lang_b) == ("es", "es")


def test_deeply_nested_json_is_damage_not_a_traceback(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("[" * 100000 + "]" * 100000)
    settings, notice = SettingsFile(path).load()
    assert settings == Settings() and "SETTINGS-BAD" in notice


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'"en"', b"null", b""])
def test_a_damaged_file_gives_defaults_a_notice_and_is_kept_aside(tmp_path, content):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    settings, notice = SettingsFile(path).load()
    assert settings == Settings() and "[SETTINGS-BAD]" in notice
    kept = path.with_suffix(".damaged")
    if kept.exists():  # unreadable or not JSON: moved aside whole
        assert kept.read_bytes() == content and not path.exists()
    else:  # JSON of the wrong shape: left where it is, untouched
        assert path.read_bytes() == content


def test_a_directory_in_place_of_the_file_is_damage(tmp_path):
    path = tmp_path / "settings.json"
    path.mkdir()
    (path / "x").write_text("x")
    settings, notice = SettingsFile(path).load()
    assert settings == Settings() and "[SETTINGS-BAD]" in notice
    assert (tmp_path / "settings.damaged" / "x").read_text() == "x"  # kept


def test_the_controller_starts_with_defaults_a_notice_and_does_not_save_them(tmp_path):
    from tests.test_controller import make_controller

    path = tmp_path / "settings.json"
    saved = {"lang_a": "de", "lang_b": "fr", "volume": "0.5", "history": "no"}
    path.write_text(json.dumps(saved))
    controller, *_ = make_controller(tmp_path)
    controller.start()
    assert "[SETTINGS-BAD]" in controller.notice and "volume" in controller.notice and "history" in controller.notice
    s = controller.settings
    assert (s.lang_a, s.lang_b, s.volume, s.history) == ("de", "fr", Settings().volume, Settings().history)
    assert json.loads(path.read_text()) == saved  # never saved back until a person changes a setting


@pytest.mark.parametrize("changes, code", [({"volume": 1.5}, "SETTINGS-BAD"), ({"volume": "loud"}, "SETTINGS-BAD"),
                                           ({"mode": "shout"}, "SETTINGS-BAD"), ({"lang_a": "xx"}, "LANG-UNKNOWN"),
                                           ({"lang_a": "es"}, "LANG-SAME"), ({"lang_a": "ES"}, "LANG-SAME"),
                                           ({"lang_a": "es-MX"}, "LANG-SAME"), ({"history": "yes"}, "SETTINGS-BAD")])
def test_a_bad_change_is_refused_and_the_saved_settings_stay(tmp_path, changes, code):
    from tolk.models.errors import TolkError

    path = tmp_path / "settings.json"
    store = SettingsFile(path)
    store.save(Settings(lang_a="de", lang_b="es", volume=0.3))
    before = path.read_bytes()
    with pytest.raises(TolkError) as caught:
        Settings.from_dict({**json.loads(before), **changes})
    assert caught.value.code == code
    assert path.read_bytes() == before and store.load() == (Settings(lang_a="de", lang_b="es", volume=0.3), "")


SAME_PAIRS = [({"lang_a": "ES", "lang_b": "es"}, "lang_a"), ({"lang_a": "en-US", "lang_b": "en"}, "lang_b"),
              ({"lang_a": "pt-BR", "lang_b": "PT"}, "lang_b"), ({"lang_a": "zh-Hans", "lang_b": "zh_CN"}, "lang_b"),
              ({"lang_a": "de", "lang_b": "de-AT"}, "lang_b")]


@pytest.mark.parametrize("saved, offending", SAME_PAIRS, ids=lambda v: "/".join(v.values()) if isinstance(v, dict) else v)
def test_a_saved_pair_naming_one_language_twice_loads_with_a_notice_and_defaults(tmp_path, saved, offending):
    """The repro: lang_a "ES" with lang_b "es" was saved, and every press then said LANG-SAME across restarts."""
    path = tmp_path / "settings.json"
    saved = {**saved, "volume": 0.3}
    path.write_text(json.dumps(saved))
    settings, notice = SettingsFile(path).load()
    assert settings.lang_a != settings.lang_b and getattr(settings, offending) == getattr(Settings(), offending)
    assert "SETTINGS-BAD" in notice and offending in notice and settings.volume == 0.3  # the good field stays
    assert json.loads(path.read_text()) == saved  # the file is untouched until a person changes a setting
    with pytest.raises(SettingsError) as caught:
        Settings.from_dict(saved)
    assert caught.value.code == "LANG-SAME"


def test_the_device_with_such_a_file_is_not_stuck(tmp_path):
    """Loaded with the notice, a press translates (no LANG-SAME), and nothing is written back at start."""
    from tests.test_controller import make_controller, run_until, start_talking
    from tolk.audio.clip import write_wav
    from tolk.device.controller import ButtonEvent, State
    import numpy as np

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"lang_a": "ES", "lang_b": "es"}))
    controller, mic, *_ = make_controller(tmp_path)
    try:
        controller.start()
        assert "[SETTINGS-BAD]" in controller.notice and "lang_a" in controller.notice
        clip = write_wav(tmp_path / "speech.wav", np.full(16000, 0.2, dtype=np.float32), 16000)
        start_talking(controller, mic, clip)
        mic.clip_done.wait(5)
        controller.post(ButtonEvent("talk_a", "release"))
        run_until(controller, lambda: controller.state is State.READY and controller.turn is None)
        assert controller.error is None and controller.history.count() == 1  # translated, no LANG-SAME
        assert json.loads(path.read_text()) == {"lang_a": "ES", "lang_b": "es"}
    finally:
        controller.close()
        controller.interpreter.close()


@pytest.mark.parametrize("given, stored", [({"lang_a": "DE", "lang_b": "fr-CA"}, ("de", "fr")),
                                           ({"lang_a": " pt_BR ", "lang_b": "ZH-hans"}, ("pt", "zh")),
                                           ({"lang_a": "en-GB", "lang_b": "es-419"}, ("en", "es"))])
def test_codes_are_stored_as_the_registry_codes(tmp_path, given, stored):
    settings = Settings(**given)
    assert (settings.lang_a, settings.lang_b) == stored
    file = SettingsFile(tmp_path / "settings.json")
    file.save(settings)
    assert (json.loads(file.path.read_text())["lang_a"], json.loads(file.path.read_text())["lang_b"]) == stored


@pytest.mark.parametrize("body", ["[buttons]\nhold_seconds = nan", "[power]\nbattery_check_seconds = inf",
                                  "[buttons]\ntalk_a = true", "[audio]\ncapture_rate = -48000",
                                  "[audio]\nblock_seconds = 0", "[audio]\nretry_seconds = -inf",
                                  "[power]\nlow_battery_percent = 5.5", "[led]\npin = 12.0",
                                  "[console]\npassphrase = 1234", "[display]\nrotate = \"90\""])
def test_config_numbers_are_typed_finite_and_bounded(tmp_path, body):
    """TOML reads nan, inf and true where a number belongs; each is CONFIG-BAD naming the key, not a device that
    rescans forever or a button on GPIO 1."""
    from tolk.device.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.code == "CONFIG-BAD" and body.split("\n")[1].split(" ")[0] in caught.value.message
    path.write_text(body.split("\n")[0] + "\n")  # the same section without the bad key is fine
    assert load_config(path) == load_config(None)
