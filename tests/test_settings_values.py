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
