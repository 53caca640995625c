"""The bench report builder and metrics on small fixed inputs (no timings asserted)."""
import json

import pytest

from tolk.device.bench import memory, metrics, report


def sample_results(date="2026-11-24T10:00:00", first_audio=3.4):
    return {
        "meta": {"date": date, "machine": "test box", "packs": ["whisper-base", "qwen"], "quick": True},
        "latency": {"rows": [{"clip": "2s", "language": "en", "speech_s": 1.5, "asr": 1.3, "mt": 1.6, "tts": 0.1,
                              "first_audio": first_audio, "first_audio_spread": [3.2, 3.9], "total": 3.5, "runs": 3}],
                    "load_seconds": {"asr": 0.8, "mt": 1.9}, "peak_rss_mb": 2100.0},
        "peers": {"home_assistant": {"versions": {"wyoming-faster-whisper": "3.8.1", "wyoming-piper": "2.5.2"},
                                     "rows": [{"clip": "2s", "ours": 3.4, "peer": 6.8, "ratio": 2.0}]},
                  "llama_cpp": {"skipped": "llama-cpp-python is not installed"},
                  "asr_defaults": {"defaults": {"seconds": 9.0, "wer": 0.2, "wrong_language": 1},
                                   "ours": {"seconds": 3.0, "wer": 0.1, "wrong_language": 0}}},
        "limits": {"bandwidth_gbs": 10.0, "weight_bytes": 1_800_000_000, "tok_s": 4.0, "bound_tok_s": 5.56,
                   "fraction": 0.72},
        "quality": {"corpus": "UDHR", "segments_per_direction": 1,
                    "chrf": [{"src": "en", "tgt": "es", "chrf": 55.0, "n_segments": 1},
                             {"src": "fr", "tgt": "de", "chrf": 35.0, "n_segments": 1}],
                    "asr_wer": {"en": {"wer": 0.05, "clips": 3}},
                    "roundtrip": [{"pair": "en→es→en", "chrf": 70.0}]},
    }


def test_markdown_has_every_section_with_the_numbers(tmp_path):
    path = report.write_report(sample_results(), tmp_path)
    text = path.read_text()
    for heading in ("## Latency", "## Peers", "## Limits", "## Quality", "## Trend"):
        assert heading in text
    assert "| 2s | en | 1.50 | 1.30 | 1.60 | 0.10 | **3.40** (3.20–3.90) | 3.50 | 3 |" in text
    assert "wyoming-faster-whisper 3.8.1" in text and "| 2s | 3.40 | 6.80 | 2.00 |" in text
    assert "llama.cpp: not measured — llama-cpp-python is not installed" in text
    assert "10.0 GB/s" in text and "**72 %**" in text and "Mean chrF: **45.0**" in text
    assert "| en→es→en | 70.00 |" in text
    assert json.loads((tmp_path / "report.json").read_text())["limits"]["fraction"] == 0.72
    assert (tmp_path / "latency.png").stat().st_size > 1000 and (tmp_path / "quality.png").exists()


def test_history_accumulates_and_the_trend_shows(tmp_path):
    report.write_report(sample_results("2026-11-24T10:00:00", 3.4), tmp_path)
    path = report.write_report(sample_results("2026-11-25T10:00:00", 2.9), tmp_path)
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [h["median_first_audio"] for h in history] == [3.4, 2.9] and history[1]["mean_chrf"] == 45.0
    text = path.read_text()
    assert "| 2026-11-24T10:00:00 | True | 3.40 | 45.00 |" in text and "| 2026-11-25T10:00:00 | True | 2.90 |" in text
    assert (tmp_path / "trend.png").exists()


def test_missing_section_is_said_not_invented(tmp_path):
    results = sample_results()
    del results["peers"]
    results["quality"] = {"skipped": "no translation pack installed"}
    text = report.render_markdown(results, [], [])
    assert "*Peers: not measured in this run.*" in text
    assert "*Quality: not measured — no translation pack installed*" in text


def test_wer_and_normalisation():
    assert metrics.wer(["Where is the train station?"], ["where is the train station"]) == 0.0
    assert metrics.wer(["one two three four"], ["one two four"]) == pytest.approx(0.25)
    assert metrics.normalise("  Hola,  ¿qué TAL? ") == "hola qué tal"


def test_summary_and_bandwidth_arithmetic():
    s = metrics.summarise([3.0, 1.0, 2.0])
    assert (s.median, s.low, s.high, s.n) == (2.0, 1.0, 3.0, 3) and str(s) == "2.00 (1.00–3.00)"
    assert memory.decode_fraction(2_000_000_000, 2.5, 10.0) == pytest.approx(0.5)
    assert memory.bound_tokens_per_second(2_000_000_000, 10.0) == pytest.approx(5.0)
    assert memory.read_bandwidth_gbs(megabytes=16, repeats=1) > 0.1
