"""Language codes from people and files: case and region normalised; unknown -> LANG-UNKNOWN listing the valid
ones; one language twice -> LANG-SAME. One check, before any model runs; the interpreter goes on working."""
import subprocess
import sys

import numpy as np
import pytest

from tolk.device.interpreter import check_languages
from tolk.models import languages
from tolk.models.errors import TolkError, UnknownLanguageError
from tests.hostile.helpers import make_interpreter, still_translates

SPEECH = np.full(16000 * 2, 0.2, dtype=np.float32)


@pytest.mark.parametrize("given, code", [("PT-br", "pt"), ("zh_CN", "zh"), ("EN", "en"), ("en-GB", "en"),
                                         ("De", "de"), (" es ", "es")])
def test_lookup_is_forgiving_about_case_and_region(given, code):
    assert languages.get(given).code == code


@pytest.mark.parametrize("lookup, bad", [(languages.get, "xx"), (languages.by_whisper, "klingon"),
                                         (languages.by_flores, "eng_Latx"), (languages.by_piper_locale, "en_XX"),
                                         (languages.get, ""), (languages.get, "e" * 10000),
                                         (languages.get, "../../etc"), (languages.get, "en\x00")])
def test_unknown_codes_list_the_valid_ones(lookup, bad):
    with pytest.raises(UnknownLanguageError) as err:
        lookup(bad)
    assert err.value.code == "LANG-UNKNOWN" and "valid codes:" in str(err.value)
    assert len(str(err.value)) < 1000  # a huge code is not echoed whole


@pytest.mark.parametrize("kwargs", [{"pair": ["en", "xx"]}, {"target": "klingon"}, {"forced": "zz", "target": "es"}])
def test_the_interpreter_refuses_unknown_codes(kwargs):
    interp, translator, _ = make_interpreter()
    with pytest.raises(UnknownLanguageError, match="valid codes:") as caught:
        interp.interpret(SPEECH, **kwargs)
    assert caught.value.code == "LANG-UNKNOWN" and translator.calls == []
    still_translates(interp)


def test_a_language_outside_the_pack_is_refused():
    interp, translator, _ = make_interpreter()
    with pytest.raises(UnknownLanguageError, match="does not know 'ja'") as caught:
        interp.interpret(SPEECH, pair=["en", "ja"])
    assert caught.value.code == "LANG-UNKNOWN" and translator.calls == []
    still_translates(interp)


@pytest.mark.parametrize("call", [
    lambda i: i.translate_text("Hello.", "en", "en"),
    lambda i: i.translate_text("Hello.", "EN", "en-US"),
    lambda i: i.interpret(SPEECH, pair=["en", "EN"]),
    lambda i: i.interpret(SPEECH, forced="es", target="ES"),
    lambda i: i.start_live(pair=["de", "de"]),
], ids=["text en-en", "text EN-en-US", "pair en,EN", "forced es to ES", "live de,de"])
def test_one_language_twice_is_lang_same_before_anything_runs(call):
    interp, translator, _ = make_interpreter()
    with pytest.raises(TolkError) as caught:
        call(interp)
    assert caught.value.code == "LANG-SAME"  # its own code, not LANG-UNKNOWN
    assert translator.calls == []
    still_translates(interp)


def test_check_languages_is_one_function_for_every_entry():
    check_languages(pair=["en", "es"], source="en", target="es")
    with pytest.raises(TolkError) as caught:
        check_languages(source="pt-BR", target="PT")
    assert caught.value.code == "LANG-SAME"
    with pytest.raises(UnknownLanguageError):
        check_languages(pair=["en", "tlh"])


@pytest.mark.parametrize("args, code", [
    (["translate", "hi", "--from", "en", "--to", "xx"], "LANG-UNKNOWN"),
    (["translate", "hi", "--from", "en", "--to", "EN"], "LANG-SAME"),
    (["interpret", "missing.wav", "--pair", "en,en"], "LANG-SAME"),
    (["interpret", "missing.wav", "--from", "de", "--to", "DE"], "LANG-SAME"),
    (["interpret", "missing.wav", "--pair", "en,xx"], "LANG-UNKNOWN"),
    (["translate", "hola", "--from", "ES", "--to", "es"], "LANG-SAME"),
    (["translate", "hi", "--from", "en-US", "--to", "en"], "LANG-SAME"),
    (["translate", "oi", "--from", "pt-br", "--to", "PT"], "LANG-SAME"),
    (["translate", "ni", "--from", "zh-Hans", "--to", "zh_CN"], "LANG-SAME"),
    (["interpret", "missing.wav", "--pair", "ES,es"], "LANG-SAME"),
    (["interpret", "missing.wav", "--from", "AUTO", "--pair", "en,EN-gb"], "LANG-SAME"),
    (["interpret", "missing.wav", "--from", "Auto", "--to", "de"], "AUDIO-MISSING"),
])
def test_the_cli_refuses_codes_before_loading_models(args, code):
    proc = subprocess.run([sys.executable, "-m", "tolk.device.cli", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: [{code}]") and "Traceback" not in proc.stderr


FORMS = ["ES", "es-MX", "pt-br", "PT_BR", "zh-Hans", "zh_Hant_TW", "EN-us", " de-AT ", "no-NB", "sr-Latn"]


@pytest.mark.parametrize("given", FORMS)
def test_every_entry_normalises_a_code_as_the_registry_does(given):
    """Settings, voices, the console's `pair`/`voice` and the interpreter store the code `languages.get` names: the
    registry has one row per language (no region rows), so a region or script tag never names another language."""
    from tolk.device.settings import Settings

    code = languages.get(given).code
    other = "fr" if code != "fr" else "it"
    settings = Settings(lang_a=given, lang_b=other, voices=((given, "espeak-ng"),))
    assert (settings.lang_a, settings.voices, settings.voice(given)) == (code, ((code, "espeak-ng"),), "espeak-ng")
    with pytest.raises(TolkError) as caught:
        Settings(lang_a=given, lang_b=code)
    assert caught.value.code == "LANG-SAME"
    with pytest.raises(TolkError) as caught:
        check_languages(pair=[given, code])
    assert caught.value.code == "LANG-SAME"
