"""The language choice rule on fixed score tables (no model), and the interpreter's hands-free prior (fakes).

Each table row is (language, Whisper's detection probability, mean token log-probability of the decode in that
language, tokens generated), as measured with whisper-base int8 on the clip named in the comment.
"""
import numpy as np
import pytest

from tolk.device import events as ev
from tolk.device.interpreter import Interpreter, InterpreterConfig
from tolk.models.asr import Encoded, WhisperAsr
from tolk.models.errors import ErrorCode
from tolk.models.language_choice import Evidence, alternation_prior, choose, needs_second_decode, posterior, score
from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
from tests.leaks import closing


def table(*rows):
    return [Evidence(*row) for row in rows]


@pytest.mark.parametrize("rows,expected", [
    # espeak-ng German "Guten Morgen. Wo ist der Bahnhof?" (the tests' clip) in en+de: Whisper detects English,
    # but the English decode is poor (-1.10 over 11 tokens) and the German one good (-0.65 over 9)
    ((("en", 0.423, -1.096, 11), ("de", 0.101, -0.653, 9)), "de"),
    # Spanish human speech "viejos" (Asterisk dev set): Spanish detected (0.90) but decoded at -0.83, so English is
    # decoded too and scores better per token (-0.61, "Be a host."); the former rule switched to English
    ((("en", 0.10, -0.61, 4), ("es", 0.90, -0.83, 2)), "es"),
    # English "a" (one letter): the French decode scores better per token, the detection (0.91) decides
    ((("en", 0.91, -0.92, 1), ("fr", 0.09, -0.67, 1)), "en"),
    # English "semicolon": French decode better (-0.71 vs -0.81) but detection is certain
    ((("en", 0.999, -0.81, 5), ("fr", 0.001, -0.71, 5)), "en"),
    # a near-tie of the decodes: detection decides
    ((("en", 0.47, -0.53, 2), ("es", 0.53, -0.55, 2)), "es"),
])
def test_choice_on_measured_score_tables(rows, expected):
    assert choose(table(*rows))[0] == expected


def test_the_decodes_are_compared_per_token_not_as_sums():
    # same quality per token, the second language needs more tokens for the same words (German, Spanish):
    # a sum of log-probabilities would punish it for its length alone
    rows = table(("en", 0.5, -0.4, 8), ("de", 0.5, -0.39, 14))
    assert choose(rows)[0] == "de"
    assert score(0.5, -0.4, 8) < score(0.5, -0.39, 14)


def test_a_looping_decode_never_wins_over_one_that_ended():
    # Spanish "Ha desactivado el modo mudo." in es+fr: the French decode looped to the token bound at -0.19 per token
    rows = table(("es", 0.634, -0.71, 8), ("fr", 0.366, -0.19, 224, True))
    assert choose(rows)[0] == "es"
    assert choose(table(("es", 0.634, -0.71, 8, True), ("fr", 0.366, -0.19, 224, True)))[0] == "fr"  # all looped


def test_detection_decides_without_decodes_and_unknown_languages_do_not_break_it():
    assert choose(table(("en", 0.2), ("es", 0.7), ("fr", 0.1))) == ("es", pytest.approx(0.7))
    assert choose(table(("en", 0.0), ("es", 0.0)))[1] == pytest.approx(0.5)  # none detected: uniform
    language, _ = choose(table(("en", 0.0, -0.2, 5), ("es", 0.0, -0.9, 5)))  # Whisper rounded both to 0
    assert language == "en"
    with pytest.raises(ValueError):
        choose([])


def test_a_prior_decides_near_ties_only():
    near_tie = table(("en", 0.5, -0.50, 6), ("de", 0.5, -0.51, 6))
    assert choose(near_tie)[0] == "en"
    assert choose(near_tie, {"en": 0.4, "de": 0.6})[0] == "de"  # the last turn was English: German likelier
    # espeak German "Wie viel kostet eine Fahrkarte nach Berlin?": Whisper base hears English clearly (detection
    # 0.98 among en+de, English decode better); a weak prior does not turn that into German
    clear = table(("en", 0.455, -0.684, 11), ("de", 0.036, -0.946, 13))
    assert choose(clear, {"en": 0.4, "de": 0.6})[0] == "en"
    assert posterior(clear, {"en": 0.4, "de": 0.6})["de"] == pytest.approx(0.036 * 0.6 / (0.036 * 0.6 + 0.455 * 0.4))


def test_second_decode_gate_and_alternation_prior():
    assert needs_second_decode(0.7, -0.3, ambiguous_below=0.75, doubtful_below=-0.8)
    assert needs_second_decode(0.95, -1.1, ambiguous_below=0.75, doubtful_below=-0.8)
    assert not needs_second_decode(0.95, -0.3, ambiguous_below=0.75, doubtful_below=-0.8)
    assert alternation_prior(("en", "de"), "en", 0.6) == {"en": pytest.approx(0.4), "de": 0.6}
    assert alternation_prior(("en", "de"), None, 0.6) == {} == alternation_prior(("en", "de"), "fr", 0.6)
    assert alternation_prior(("en", "de", "fr"), "en", 0.6) == {} == alternation_prior(("en", "de"), "en", 0.5)


def test_detection_covers_the_whole_utterance_weighted_by_audio_frames():
    class Windows:  # each 30 s window's detection, as WhisperAsr.language_probabilities gives it
        def language_probabilities(self, encoded):
            return [("en", 0.8), ("de", 0.2)] if encoded.output == "first" else [("de", 0.9), ("en", 0.1)]

    first, rest = Encoded("first", 3000, 3000), Encoded("rest", 3000, 1000)  # 30 s, then 10 s of speech
    probabilities = WhisperAsr.utterance_probabilities(Windows(), [first, rest])
    assert probabilities == pytest.approx({"en": 0.8 * 0.75 + 0.1 * 0.25, "de": 0.2 * 0.75 + 0.9 * 0.25})
    assert WhisperAsr.utterance_probabilities(Windows(), [rest]) == {"de": 0.9, "en": 0.1}


# ---- the interpreter: prior from the previous turn, push-to-talk, no pair ----------------------------------
SPEECH = np.full(16000 * 2, 0.2, dtype=np.float32)


def make(asr, **config):
    return closing(Interpreter(asr, FakeTranslator(mt_manifest(("en", "es", "de", "fr"))), FakeVoices(),
                               InterpreterConfig(**config)))


def test_hands_free_turns_get_the_other_language_as_prior_push_to_talk_none():
    asr = FakeAsr("Good morning.", "en")
    interp = make(asr)
    interp.interpret(SPEECH, pair=["en", "de"]).collect(timeout=10)
    interp.interpret(SPEECH, pair=["de", "en"]).collect(timeout=10)  # same pair, either order
    interp.interpret(SPEECH, pair=["en", "de"], forced="de").collect(timeout=10)  # push-to-talk: the side pressed
    interp.interpret(SPEECH, pair=["en", "de"]).collect(timeout=10)  # after a German turn: English likelier
    interp.interpret(SPEECH, pair=["en", "es"]).collect(timeout=10)  # another pair: no prior
    interp.close()
    assert asr.priors == [None, {"en": pytest.approx(0.4), "de": 0.6}, None, {"de": pytest.approx(0.4), "en": 0.6},
                          None]


def test_the_prior_expires_and_can_be_turned_off():
    asr = FakeAsr("Good morning.", "en")
    interp = make(asr, alternation_seconds=0.0)
    for _ in range(2):
        interp.interpret(SPEECH, pair=["en", "de"]).collect(timeout=10)
    interp.close()
    asr2 = FakeAsr("Good morning.", "en")
    interp = make(asr2, alternation_prior=0.5)
    for _ in range(2):
        interp.interpret(SPEECH, pair=["en", "de"]).collect(timeout=10)
    interp.close()
    assert asr.priors == [None, None] == asr2.priors


class HearingAsr(FakeAsr):
    """Knows only some languages and records what it was allowed to choose among."""

    def __init__(self, text, language, known):
        super().__init__(text, language)
        self.known, self.allowed = known, []

    def languages(self):
        return self.known

    def transcribe(self, audio, *, allowed=(), **kwargs):
        self.allowed.append(tuple(allowed))
        return super().transcribe(audio, allowed=allowed, **kwargs)


def test_auto_without_a_pair_detects_among_what_both_models_know_and_names_the_same_language():
    asr = HearingAsr("Good morning.", "en", ("de", "en", "fr", "ja"))
    interp = make(asr)
    events = interp.interpret(SPEECH, target="es").collect(timeout=10)
    assert [e.text for e in events if isinstance(e, ev.TranslationText)] == ["GOOD MORNING."]
    events = interp.interpret(SPEECH, target="en").collect(timeout=10)
    interp.close()
    assert asr.allowed == [("de", "en", "fr")] * 2  # ja: no translation; es: not heard by this ASR
    (error,) = [e for e in events if isinstance(e, ev.TurnError)]
    assert error.code is ErrorCode.LANG_SAME and error.code is not ErrorCode.LANG_UNKNOWN
    assert "you spoke English (en), the target language" in error.message
    assert not any(isinstance(e, ev.TranslationText) for e in events)
