"""Kokoro grapheme-to-phoneme (models/g2p): golden phonemes per language, the vocabulary, punctuation, numbers."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import need
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.g2p import LANGUAGES, phonemize
from tolk.models.g2p.punctuation import split_clauses
from tolk.models.g2p.vocabulary import KOKORO_SYMBOLS
from tolk.models.g2p.zh_numbers import integer, spell_numbers

VOCAB = json.loads((Path(__file__).parent / "golden" / "kokoro_vocab.json").read_text(encoding="utf-8"))["vocab"]
ESPEAK_VERSION = "1.51"  # the espeak-ng the goldens below were made with (Debian's espeak-ng 1.51)

ESPEAK_GOLDEN = {
    "en": ("Hello! The train leaves at 9:30, doesn't it? It's -5 degrees.",
           "həlˈO! ðə tɹˈAn lˈivz æt nˈIn θˈɜɹTi, dˈʌzənt ɪt? ɪts mˈInəs fˈIv dᵻɡɹˈiz."),
    "es": ("¿El tren sale a las 9:30? ¡Sí! Hace -5 grados; cuesta 3,5 euros.",
           "el tɾˈen sˈale a las nwˈeβe tɾˈAnta? sˈi! ˈaθe mˈenos θˈinko ɣɾˈaðos; kwˈesta tɾˈes koma θˈinko ˈeʊɾos."),
    "fr": ("Le train part à 9 h 30, n'est-ce pas ? « Oui », dit-il.",
           "lə tʁˈɛ̃ pˈaʁ a nˈœf ˈœʁ tʁˈɑ̃t, nˈɛs pˈa? “wˈi”, dˈitˈil."),
    "it": ("Il treno parte alle 9:30, vero? Costa 3,5 euro.",
           "il trˈɛno pˈarte ˌalle nˈɔve e trˈeːnta, vˈero? kˈɔsta trˈe vˈirɡola ʧˈinkwe ˈɛʊro."),
    "pt": ("O trem sai às 9:30, não é? Está -5 graus!",
           "ʊ trˈAŋ sˈI aːs nˈɔvy trˈiŋtæ, nˌɐ̃ʊ̃ ɛ? estˌa mˈenʊs sˈiŋkʊ ɡrˈWs!"),
    "hi": ("ट्रेन आज रात 9 बजे निकलती है। क्या आप आएँगे?",
           "ʈɾˈeːn ˈaːɟ ɾˈaːt nˈɔː bˈʌɟeː nˈɪkəlti hɛː. kːjaː ˌaːp aːˈe\u0303ːɡeː?"),
}
MANDARIN_GOLDEN = {
    "火车今晚9点出发，对吗？": "xwo↓ꭧʰɤ→ ʨi→n wa↓n ʨjou↓ tjɛ↓n ꭧʰu→fa→, twei↘ ma?",
    "我们去北京大学看看。": "wo↓mən ʨʰy↘ pei↓ʨi→ŋta↘ɕɥe↗ kʰa↘nkʰa↘n.",
    "他说：“你好！”": "tʰa→ ʂwo→: “ni↓xau↓!”",
    "女儿吃了十个鱼。": "ny↓ɚ↗ ꭧʰɨ→ lɤ ʂɨ↗ kɤ↘ y↗.",
}


@pytest.fixture(scope="module")
def espeak():
    """libespeak-ng loaded; its version must be the goldens' for the exact comparisons."""
    if shutil.which("espeak-ng") is None:
        need("espeak-ng is not installed (setup.sh installs it)")
    from tolk.models.g2p.espeak_lib import library

    return library()


def test_vocabulary_is_kokoros():
    assert KOKORO_SYMBOLS == frozenset(VOCAB)


def test_languages_served():
    assert set(LANGUAGES) == {"en", "es", "fr", "it", "pt", "hi", "zh"}
    assert "ja" not in LANGUAGES


@pytest.mark.parametrize("language", ["ja", "de", "xx"])
def test_unserved_language_is_a_coded_error(language):
    with pytest.raises(TolkError) as caught:
        phonemize("hello", language)
    assert caught.value.code is ErrorCode.TTS_MISSING


@pytest.mark.parametrize("language", sorted(ESPEAK_GOLDEN) + ["zh"])
@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_is_no_phonemes(language, text):
    assert phonemize(text, language) == ""


@pytest.mark.parametrize("language", sorted(ESPEAK_GOLDEN))
def test_espeak_golden(espeak, language):
    if espeak.version != ESPEAK_VERSION:
        need(f"goldens made with espeak-ng {ESPEAK_VERSION}, this is {espeak.version}: regenerate them")
    text, golden = ESPEAK_GOLDEN[language]
    assert phonemize(text, language) == golden


@pytest.mark.parametrize("language", sorted(ESPEAK_GOLDEN))
def test_espeak_output_is_in_the_vocabulary_with_punctuation(espeak, language):
    text, _ = ESPEAK_GOLDEN[language]
    phonemes = phonemize(text, language)
    assert set(phonemes) <= set(VOCAB)
    assert phonemes[-1] in ".!?" and "?" in phonemes


def test_a_text_starting_with_a_hyphen_is_spoken(espeak):
    assert phonemize("-hola, ¿qué tal?", "es") == phonemize("hola, ¿qué tal?", "es")
    assert phonemize("--version", "en")  # never an espeak option
    assert phonemize("- Hola - adiós", "es") == phonemize("Hola — adiós", "es") != ""


def test_minus_is_read(espeak):
    assert phonemize("-5", "es").startswith("mˈenos")
    assert phonemize("-5", "fr").startswith("mwˈɛ̃")


def test_clause_marks_split_but_numbers_do_not():
    pieces = split_clauses("¿Son las 9:30? Sí, 3,5 y 3.5 — «bien».")
    assert [(p.words, p.mark) for p in pieces] == [
        ("Son las 9:30", "?"), ("Sí", ","), ("3,5 y 3.5", "—"), ("", "“"), ("bien", "”."),
    ]


@pytest.mark.parametrize("text, golden", sorted(MANDARIN_GOLDEN.items()))
def test_mandarin_golden(text, golden):
    assert phonemize(text, "zh") == golden
    assert set(golden) <= set(VOCAB)


@pytest.mark.parametrize("value, chinese", [
    (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (101, "一百零一"), (110, "一百一十"),
    (1005, "一千零五"), (10001, "一万零一"), (15000, "一万五千"), (100000, "十万"), (120000000, "一亿二千万"),
    (1234567890, "十二亿三千四百五十六万七千八百九十"),
])
def test_chinese_integers(value, chinese):
    assert integer(value) == chinese


@pytest.mark.parametrize("text, chinese", [
    ("9:30出发", "九点三十分出发"), ("2:00", "两点"), ("9:05", "九点零五分"), ("3.14", "三点一四"),
    ("50%", "百分之五十"), ("12.5%", "百分之十二点五"), ("-5度", "负五度"), ("2026年", "二零二六年"),
    ("13812345678", "一三八一二三四五六七八"), ("007", "零零七"), ("1,000元", "一千元"),
])
def test_chinese_numbers_in_text(text, chinese):
    assert spell_numbers(text) == chinese


def test_mandarin_punctuation_is_ascii():
    assert phonemize("好、好；好：好！好？好。", "zh") == "xau↓, xau↓; xau↓: xau↓! xau↓? xau↓."


def test_unknown_symbols_are_dropped(caplog):
    from tolk.models.g2p.vocabulary import keep_known

    with caplog.at_level("DEBUG", logger="tolk.models.g2p.vocabulary"):
        assert keep_known("ab☃c☃", "xx") == "abc"
        assert keep_known("☃", "xx") == ""
    assert sum("☃" in record.getMessage() for record in caplog.records) == 1
