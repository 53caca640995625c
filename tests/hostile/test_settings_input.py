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
                                           ({"mode": "shout"}, "SETTINGS-BAD"), ({"lang_a": "xx"}, "SETTINGS-BAD"),
                                           ({"lang_a": "es"}, "SETTINGS-BAD"), ({"history": "yes"}, "SETTINGS-BAD")])
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
