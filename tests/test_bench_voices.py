"""The voices bench: CER, the sentence picker, the report and figures writer, the CLI wiring (no timings asserted)."""
import argparse
import json

import pytest

from tolk.device import cli_bench
from tolk.device.bench import metrics, report_voices, voice_memory, voice_text
from tolk.models import voice_choice


def test_normalise_chars_drops_case_punctuation_and_spaces():
    assert metrics.normalise_chars("Hello, World!  ¿Qué?") == "helloworldqué"
    assert metrics.normalise_chars("人人生而自由，在尊严。") == "人人生而自由在尊严"
    assert metrics.normalise_chars("ＡＢＣ １２") == "abc12"  # NFKC: full-width forms


@pytest.mark.parametrize("refs, hyps, expected", [
    (["Hello world."], ["hello world"], 0.0),
    (["Hello world"], ["hello word"], 0.1),  # one deletion in 10 characters
    (["人人生而自由"], ["人人生而自有"], 1 / 6),
    (["人人生而自由。"], [""], 1.0),
    (["abcd", "ef"], ["abcd", "xy"], 2 / 6),  # edits over all reference characters
    (["ab"], ["abxyz"], 1.5),  # insertions can take it over 1
    (["..."], [""], 0.0),
])
def test_cer(refs, hyps, expected):
    assert metrics.cer(refs, hyps) == pytest.approx(expected)


def test_cer_needs_pairs():
    with pytest.raises(ValueError):
        metrics.cer(["a"], [])


ARTICLES = {
    1: "All human beings are born free and equal in dignity and rights. They are endowed with reason.",
    2: "Short one. " + ", ".join(f"clause number {n} of a very long sentence" for n in range(8)) + ".",
    3: "Everyone has the right to life, liberty and security of person.",
}


def test_pick_sentences_is_deterministic_and_within_bounds():
    first = voice_text.pick_sentences(ARTICLES, "en", 4)
    assert first == voice_text.pick_sentences(ARTICLES, "en", 4)
    assert len(first) == 4
    for sentence in voice_text.candidates(ARTICLES, "en"):
        assert voice_text.MIN_WORDS <= voice_text.word_count(sentence, "en") <= voice_text.MAX_WORDS
    assert "Short one." not in voice_text.candidates(ARTICLES, "en")  # 2 words


def test_pick_sentences_spreads_and_takes_all_when_short():
    everything = voice_text.candidates(ARTICLES, "en")
    assert voice_text.pick_sentences(ARTICLES, "en", 100) == everything
    picked = voice_text.pick_sentences(ARTICLES, "en", 2)
    assert picked[0] == everything[0] and picked[1] == everything[len(everything) // 2]


def test_long_sentence_is_cut_at_clause_marks():
    long = ", ".join(f"clause number {n} of a very long sentence" for n in range(8)) + "."
    parts = voice_text.pieces(long, "en")
    assert len(parts) > 1 and all(voice_text.word_count(p, "en") <= voice_text.MAX_WORDS for p in parts)
    assert " ".join(parts).replace(",", "").replace(" ", "") == long.replace(",", "").replace(" ", "")
    assert not any(p.endswith(",") for p in parts)


def test_chinese_counts_two_characters_a_word():
    assert voice_text.word_count("人人生而自由，在尊严。", "zh") == 5  # 9 characters
    articles = {1: "人人生而自由,在尊严和权利上一律平等。他们赋有理性和良心。他们赋有。"}  # the last: 4 characters
    assert voice_text.candidates(articles, "zh") == ["人人生而自由,在尊严和权利上一律平等。", "他们赋有理性和良心。"]


def test_every_language_has_a_first_audio_clause():
    for code in ("en", "es", "fr", "it", "pt", "hi", "zh"):
        assert voice_text.CLAUSES[code]


def fake_results():
    def option(cer, first, rtf):
        return {"cer": cer, "rtf": rtf, "first_audio_s": first, "first_audio_runs": [first] * 5, "sentences": 3,
                "errors": [], "traditional_chars": 0,
                "worst": [{"text": "Everyone has the right to life.", "heard": "Every one has the right to live", "cer": 0.1}],
                "rows": []}

    return {"meta": {"date": "2026-11-25T23:00:00", "machine": "x86_64, 2 cores", "load_start": [1.0, 1.0, 1.0],
                     "load_end": [2.0, 2.0, 2.0], "command": "tolk bench --only voices --voice-sentences 3",
                     "asr": "whisper-base", "kokoro": "kokoro-82m-int8", "first_audio_runs": 5, "seconds": 12.0},
            "languages": {
                "en": {"sentences": ["a", "b", "c"], "clause": "Where is the nearest train station?", "load": [1.0],
                       "options": {"kokoro:af_heart": {**option(0.01, 1.4, 0.9), "first_audio_threads2_s": 1.0},
                                   "piper": option(0.015, 0.3, 0.1), "espeak-ng": option(0.2, 0.02, 0.01)}},
                "es": {"sentences": ["a", "b", "c"], "clause": "¿Dónde está la estación de tren?", "load": [1.5],
                       "options": {"kokoro:ef_dora": option(0.02, 0.8, 0.8), "espeak-ng": option(0.1, 0.02, 0.01)}}},
            "skipped": {"ja": "no Japanese voice in the Kokoro pack"},
            "ram": {"kokoro": {"added_loaded_mb": 150.0, "added_peak_mb": 400.0, "before_mb": 28.0, "sentences": 4},
                    "piper": {"added_loaded_mb": 110.0, "added_peak_mb": 200.0, "before_mb": 28.0, "sentences": 2},
                    "espeak-ng": {"skipped": "no espeak-ng"}}}


def test_writer_and_voice_choice_agree(tmp_path):
    figures_path = tmp_path / "voice_figures.json"
    report = report_voices.write_voices(fake_results(), tmp_path / "voices", figures_path)
    figures = voice_choice.load_figures(figures_path)
    assert {f.option for f in figures["en"]} == {"kokoro:af_heart", "piper", "espeak-ng"}
    kokoro = next(f for f in figures["en"] if f.option == "kokoro:af_heart")
    assert (kokoro.cer, kokoro.ram_mb, kokoro.sentences) == (0.01, 400.0, 3)
    assert next(f for f in figures["es"] if f.option == "espeak-ng").ram_mb is None
    # en: piper is as clear (within the CER slack) and meets the first-audio target; es: kokoro is clearest
    assert voice_choice.default_voices({"en": ["kokoro:af_heart", "piper", "espeak-ng"],
                                        "es": ["kokoro:ef_dora", "espeak-ng"]}, figures) == \
        {"en": "piper", "es": "kokoro:ef_dora"}
    text = report.read_text()
    assert "| **piper** |" in text and "| en | `piper` |" in text and "| es | `kokoro:ef_dora` |" in text
    assert "ja: not measured" in text and "espeak-ng: not measured" in text and "Every one has the right" in text
    assert json.loads((tmp_path / "voices" / "results.json").read_text())["meta"]["asr"] == "whisper-base"
    assert (tmp_path / "voices" / "voice_figures.json").read_text() == figures_path.read_text()


def test_writer_without_figures_path_leaves_models_alone(tmp_path):
    report_voices.write_voices(fake_results(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "results.json", "voice_figures.json"]


def test_status_mb_reads_proc_status():
    assert voice_memory.status_mb("VmRSS", "Name:\tpython\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\n") == 10.0
    assert voice_memory.status_mb("VmHWM") >= voice_memory.status_mb("VmRSS") > 0
    with pytest.raises(ValueError):
        voice_memory.status_mb("VmNothing", "VmRSS: 1 kB\n")


def test_cli_knows_the_voices_section():
    parser = argparse.ArgumentParser()
    cli_bench.add_parser(parser.add_subparsers())
    args = parser.parse_args(["bench", "--only", "voices", "--voice-sentences", "3"])
    assert args.only == ["voices"] and args.voice_sentences == 3 and args.func is cli_bench.run
    assert "voices" not in cli_bench.SECTIONS  # only when named: it takes half an hour


def test_script_share_tells_urdu_from_devanagari():
    assert report_voices.script_share(["सभी मनुष्यों को"], "Deva") == 1.0
    assert report_voices.script_share(["سبھی منوشوں کو"], "Deva") == 0.0
    assert report_voices.script_share(["人人 hello"], "Hans") == pytest.approx(2 / 7)
    assert report_voices.script_share([""], "Deva") is None and report_voices.script_share(["abc"], "Thai") is None


def test_report_flags_a_transcript_in_another_script():
    results = fake_results()
    results["languages"]["es"]["script"] = "Latn"
    results["languages"]["es"]["options"]["espeak-ng"]["rows"] = [{"text": "hola", "heard": "سبھی", "cer": 1.0}]
    assert "only 0 % of what Whisper wrote is in the language's script (Latn)" in report_voices.voices_md(results)


def test_a_language_whisper_writes_in_another_script_is_left_out_of_the_figures(tmp_path):
    results = fake_results()
    for option in results["languages"]["es"]["options"].values():
        option["rows"] = [{"text": "hola amigo", "heard": "سبھی منوشوں", "cer": 1.0}]
    written = report_voices.figures(results)
    assert set(written["languages"]) == {"en"}
    assert "es: left out of the figures" in report_voices.voices_md(results)
