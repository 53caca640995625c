import re
import subprocess

import pytest

from tolk.models import languages
from tests.conftest import need_espeak

REQUIRED = ("ar ca cs cy da de el en es fa fi fr hi hu is it ka kk lb lv ml ne nl no pl pt ro ru sk sl sr sv sw "
            "tr uk vi zh ja ko th id").split()


def test_at_least_forty_languages_including_every_required_one():
    assert len(languages.LANGUAGES) >= 40
    assert set(REQUIRED) <= set(languages.codes())


@pytest.mark.parametrize("lang", languages.LANGUAGES, ids=lambda lang: lang.code)
def test_every_language_has_every_code_and_each_maps_back(lang):
    for field in ("code", "english_name", "native_name", "whisper", "flores", "espeak", "script", "direction", "udhr"):
        assert getattr(lang, field), f"{lang.code}: {field} is empty"
    assert languages.get(lang.code) is lang
    assert languages.by_whisper(lang.whisper) is lang
    assert languages.by_flores(lang.flores) is lang
    for locale in lang.piper_locales:
        assert languages.by_piper_locale(locale) is lang
        assert locale.split("_")[0] in (lang.code, "no")
    assert lang.has_piper_voice == (lang.code not in ("ja", "ko", "th", "id"))
    assert re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", lang.flores)
    assert lang.flores.endswith("_" + lang.script) or (lang.code == "ja" and lang.flores.endswith("Jpan"))


def test_whisper_codes_are_real_whisper_languages():
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert {lang.whisper for lang in languages.LANGUAGES} <= set(_LANGUAGE_CODES)


def test_direction_and_scripts():
    assert {lang.code for lang in languages.LANGUAGES if lang.rtl} == {"ar", "fa"}
    assert languages.get("zh").script == "Hans" and languages.get("hi").script == "Deva"
    assert languages.get("th").script == "Thai" and languages.get("ka").script == "Geor"


def test_espeak_voice_exists_for_every_language():
    need_espeak()
    listing = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, check=True).stdout
    voices = {line.split()[1] for line in listing.splitlines()[1:]}
    assert [lang.code for lang in languages.LANGUAGES if lang.espeak not in voices] == []
