"""The bench report builder and metrics on small fixed inputs (no timings asserted)."""
import json

import pytest

from tolk.device.bench import memory, metrics, report


def _summary(median, low=None, high=None, n=3):
    return {"median": median, "min": low if low is not None else median, "max": high if high is not None else median,
            "n": n}


def sample_run(first_audio=3.4):
    """One run as latency.run_once records it: events in seconds after the end of speech."""
    events = [{"kind": "TurnStarted", "t": -1.6}, {"kind": "PartialText", "t": -0.7, "text": "Where is"},
              {"kind": "StageTiming", "t": 1.3, "stage": "asr", "seconds": 1.2},
              {"kind": "FinalText", "t": 1.3, "text": "Where is the train station?"},
              {"kind": "TranslationText", "t": 2.4, "index": 0, "text": "¿Dónde está"},
              {"kind": "AudioOut", "t": 2.5, "index": 0, "audio_s": 0.8},
              {"kind": "TranslationText", "t": 2.9, "index": 1, "text": "la estación?"},
              {"kind": "AudioOut", "t": 3.0, "index": 1, "audio_s": 0.9},
              {"kind": "StageTiming", "t": 3.0, "stage": "mt", "seconds": 1.5},
              {"kind": "TurnFinished", "t": 3.1}]
    return {"clip": "2s", "language": "en", "target": "es", "speech_s": 1.5, "first_audio": first_audio,
            "first_audio_event": 2.5, "stages": {"asr": 1.2, "mt": 1.5}, "timings": {"asr": 1.2},
            "events": events, "first_write_t": 2.52, "sink": "file", "transcript": "Where is the train station?",
            "translation": "¿Dónde está la estación?", "played_s": 1.7}


def latency_row(clip="2s", kind="synthetic", first_audio=3.4):
    return {"clip": clip, "kind": kind, "language": "en", "target": "es", "speech_s": 1.5,
            "reference": "Where is the train station?", "credit": "en_US_f_Allison, CC-BY-SA-3.0",
            "first_audio": _summary(first_audio, first_audio - 0.2, first_audio + 0.5),
            "first_audio_event": _summary(2.5),
            "stages": {"asr": _summary(1.3, 1.2, 1.4), "mt": _summary(1.6), "tts": _summary(0.1)},
            "clause1": {"asr_done": _summary(1.3), "mt1": _summary(1.1), "tts1": _summary(0.1)},
            "sink": "file", "runs": 3, "median_run": sample_run(first_audio), "all_runs": []}


def sample_results(date="2026-11-24T10:00:00", first_audio=3.4):
    from tolk.device.bench import projection

    rows = [latency_row(first_audio=first_audio), latency_row("en:vm-intro", "real", first_audio)]
    facts = projection.MachineFacts(bandwidth_gbs=12.0, mt_bytes=1_800_000_000, whisper="base", encoder_gmacs=30.0,
                                    peak_gmacs=150.0, peak_note="2 cores × 2.35 GHz × 32 int8 MAC/cycle",
                                    min_encoder_frames=1000)
    return {
        "meta": {"date": date, "machine": "test box", "packs": ["whisper-base", "qwen"], "quick": True},
        "latency": {"rows": rows, "sink": "file", "sink_note": "a WAV file sink", "notes": {}, "chunk_s": 0.1,
                    "load_seconds": {"asr": 0.8, "mt": 1.9}, "peak_rss_mb": 2100.0,
                    "projection": projection.section(rows, facts)},
        "peers": {"home_assistant": {"versions": {"wyoming-faster-whisper": "3.8.1", "wyoming-piper": "2.5.2"},
                                     "sink": "file", "voice": "piper-en-us-joe-medium", "median_ratio": 2.0,
                                     "rows": [{"clip": "2s", "language": "en", "target": "es", "ours": 3.4,
                                               "ours_n": 3, "peer": 6.8, "peer_min": 6.5, "peer_max": 7.0,
                                               "peer_n": 3, "ratio": 2.0, "heard": "", "translation": ""}]},
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
    assert "| 2s | synthetic | en→es | 1.5 | 1.30 | 1.10 | 0.10 | **3.40 (3.20–3.90)** | 2.50 |" in text
    assert "wyoming-faster-whisper 3.8.1" in text and "| 2s | en→es | 3.40 | 6.80 (6.50–7.00) | **2.00** |" in text
    assert "Median HA stack ÷ Tolk over the clips: **2.00×**" in text
    assert "llama.cpp: not measured — llama-cpp-python is not installed" in text
    assert "10.0 GB/s" in text and "**72 %**" in text and "Mean chrF: **45.0**" in text
    assert "| en→es→en | 70.00 |" in text
    assert json.loads((tmp_path / "report.json").read_text())["limits"]["fraction"] == 0.72
    assert (tmp_path / "latency.png").stat().st_size > 1000 and (tmp_path / "quality.png").exists()
    assert "![timeline-2s-en.png](timeline-2s-en.png)" in text
    assert (tmp_path / "timeline-2s-en.png").stat().st_size > 1000
    assert (tmp_path / "timeline-en-vm-intro-en.png").exists() and text.count("timeline-2s-en.png") == 2


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


def test_projection_formula_and_numbers_are_in_the_report(tmp_path):
    from tolk.device.bench import projection

    text = report.render_markdown(sample_results(), [], [])
    assert "Raspberry Pi 5 projection" in text
    assert "P_pi = 4 cores × 2.4 GHz × 16 MAC/cycle = 153.6 GMAC/s" in text
    assert "s/token = B / BW" in text and "MT1_pi = MT1_here × BW_here / BW_pi" in text
    assert "η = R_here / P_here = 20 %" in text
    # by hand: base encoder over 1000 frames, MT and TTS rescaled, the rest kept
    macs = projection.encoder_macs("base", 1000)
    asr = macs / (153.6e9 * 0.2) + (1.3 - macs / 30e9) * 12.0 / 10.0
    expected = asr + 1.1 * 1.2 + 0.1 * 150.0 / 153.6 + (3.4 - 1.3 - 1.1 - 0.1)
    row = sample_results()["latency"]["projection"]["rows"]["2s"]
    assert row["first_audio"] == pytest.approx(expected, abs=0.01)
    md = f"| 2s | synthetic | en→es | 1.5 | 1.30 | 1.10 | 0.10 | **3.40 (3.20–3.90)** | 2.50 | {expected:.2f} | 3 |"
    assert md in text


def test_encoder_macs_of_whisper_base_30_s_window():
    from tolk.device.bench import projection

    # 6 layers × (12·512²·1500 + 2·1500²·512) + convs: about 43.7 GMAC
    assert projection.encoder_macs("base", 3000) == pytest.approx(43.68e9, rel=1e-3)
    assert projection.whisper_size("whisper-base") == "base"
    assert projection.whisper_size("whisper-large-v3") == "large-v3"
    peak, note = projection.host_peak("cpu MHz\t\t: 2445.430\nflags\t\t: fpu sse avx2\n", 2)
    assert peak == pytest.approx(2 * 2.44543 * 32) and "32 int8 MAC/cycle" in note


def test_timeline_bars_follow_the_worker_events():
    from tolk.device.bench import timeline

    bars = timeline.bars(sample_run())
    by_label = {b.label: (b.lane, round(b.start, 2), round(b.end, 2)) for b in bars}
    assert by_label["speech"] == ("speech", -1.5, 0.0)
    assert by_label["ASR"] == ("final ASR", 0.1, 1.3)  # from StageTiming(asr): 1.2 s ending at 1.3
    assert by_label["MT 0"] == ("MT", 1.3, 2.4) and by_label["TTS 0"] == ("TTS", 2.4, 2.5)
    assert by_label["MT 1"] == ("MT", 2.5, 2.9) and by_label["TTS 1"] == ("TTS", 2.9, 3.0)
    assert by_label["played"][1] == 2.52 and timeline.partial_ticks(sample_run()) == [-0.7]


def test_sink_records_the_time_of_its_first_write(tmp_path):
    import time
    import wave

    import numpy as np

    from tolk.device.bench import playback

    sink = playback.FileSink(tmp_path / "out.wav", rate=16000)
    assert sink.wait_first_write(0.05) is None
    handed = time.monotonic()
    sink.play(np.zeros(4000, dtype=np.float32), 16000)  # 0.25 s
    sink.play(np.zeros(8000, dtype=np.float32), 8000)  # 1 s at 8 kHz: resampled
    first = sink.wait_first_write(5)
    assert first is not None and handed <= first < handed + 1.0
    sink.close()  # drains at real-time pace: ~1.25 s
    assert time.monotonic() - handed >= 1.1
    with wave.open(str(tmp_path / "out.wav")) as wav:
        assert wav.getframerate() == 16000 and wav.getnframes() == 4000 + 16000
    assert sink.first_write_at == first and sink.kind == "file"


def test_sink_close_without_drain_stops_early(tmp_path):
    import time

    import numpy as np

    from tolk.device.bench import playback

    sink = playback.FileSink(tmp_path / "long.wav", rate=16000)
    sink.play(np.zeros(16000 * 5, dtype=np.float32), 16000)
    assert sink.wait_first_write(5) is not None
    started = time.monotonic()
    sink.close(drain=False)
    assert time.monotonic() - started < 1.0 and sink.samples_written < 16000 * 5


def test_sink_factory_falls_back_to_a_file_without_an_output_device(tmp_path, monkeypatch):
    from tolk.device.bench import playback

    monkeypatch.setattr(playback, "_present", lambda device: False)
    make, kind = playback.sink_factory(tmp_path, "auto")
    sink = make("clip-1")
    assert kind == "file" and isinstance(sink, playback.FileSink) and sink.path == tmp_path / "clip-1.wav"
    sink.close()


def test_a_late_final_decode_shows_the_busy_worker():
    from tolk.device.bench import timeline

    run = sample_run()
    run["events"][2] = {"kind": "StageTiming", "t": 3.3, "stage": "asr", "seconds": 1.2}
    run["events"][3] = {"kind": "FinalText", "t": 3.3, "text": "Where is the train station?"}
    busy = [b for b in timeline.bars(run) if b.lane == "worker busy"]
    assert [(b.start, round(b.end, 2)) for b in busy] == [(0.0, 2.1)]


def test_a_live_run_times_the_sink_write_after_the_end_of_speech(tmp_path):
    import numpy as np

    from tests.fakes import FakeAsr, FakeTranslator, FakeVoices, mt_manifest
    from tolk.device.bench import latency, playback
    from tolk.device.interpreter import Interpreter, InterpreterConfig

    interp = Interpreter(FakeAsr("Good morning. Where is the station?"), FakeTranslator(mt_manifest()), FakeVoices(),
                         InterpreterConfig(phrase_cache_size=0))
    clip = latency.BenchClip("fake", "en", "es", np.full(16000 * 2, 0.2, dtype=np.float32), "synthetic", "x")
    try:
        sink = playback.FileSink(tmp_path / "fake.wav")
        run = latency.run_once(interp, clip, sink, realtime=False)
    finally:
        interp.close()
    assert run.sink == "file" and run.transcript == "Good morning. Where is the station?"
    assert run.translation == "GOOD MORNING. WHERE IS THE STATION?" and "asr" in run.stages
    assert 0 <= run.first_audio_event <= run.first_audio < 5  # the write comes after the AudioOut event
    kinds = [e["kind"] for e in run.events]
    assert kinds[0] == "TurnStarted" and kinds[-1] == "TurnFinished" and "InputLevel" not in kinds
    assert kinds.count("AudioOut") == 2 and run.first_write_t == pytest.approx(run.first_audio, abs=1e-3)
    row = latency.summarise_clip(clip, [run])
    assert row["first_audio"]["n"] == 1 and row["clause1"]["mt1"]["n"] == 1 and row["median_run"]["events"]


def test_ha_over_tolk_ratio_uses_medians_of_the_same_clips():
    import numpy as np

    from tolk.device.bench import latency, live

    clips = [latency.BenchClip(n, "en", "es", np.zeros(1600, dtype=np.float32), "synthetic", "") for n in ("a", "b")]
    tolk = [latency_row("a", first_audio=2.0), latency_row("b", first_audio=4.0)]
    ha_rows = {"a": {"runs": [5.0, 6.0, None], "heard": "x", "translation": "y"},
               "b": {"runs": [], "failures": ["the TTS server sent nothing for 300 s"]}}
    ha = live.ha_summary(clips, ha_rows, tolk, {"wyoming-faster-whisper": "3.8.1", "wyoming-piper": "2.5.2"}, "file",
                         "piper-en-us-joe-medium")
    a, b = ha["rows"]
    assert (a["ours"], a["peer"], a["peer_n"], a["ratio"]) == (2.0, 5.5, 2, 2.75)
    assert b["peer"] is None and b["ratio"] is None and ha["median_ratio"] == 2.75
    text = report.render_markdown({"meta": sample_results()["meta"], "peers": {"home_assistant": ha}}, [], [])
    assert "| a | en→es | 2.00 | 5.50 (5.00–6.00) | **2.75** |" in text
    assert "| b | en→es | 4.00 | — (1 failed) | — |" in text


def test_prompt_cache_measure_with_a_fake_translator():
    from tolk.device.bench import prompt_cache
    from tests.fakes import FakeTranslator, mt_manifest

    translator = FakeTranslator(mt_manifest())
    translator.static_prompts = {}
    translator.static_prompt = lambda src, tgt: ["<head>"]
    out = prompt_cache.measure(translator, rounds=1)
    assert out["full prompt"]["n"] == len(prompt_cache.SENTENCES) and out["head_tokens"] == 1
    assert translator.static_prompts == {}


def test_speech_section_renders_sample_sizes_and_rounds_to_what_the_runs_support():
    from tolk.device.bench.report_speech import mean_chrf, speech_md

    section = {
        "n_prompts": 2, "corpus": "test corpus",
        "wer": {"en": {"wer": 0.0123, "clips": 2, "seconds": 5.27}},
        "language_choice": {"en,es": {"accuracy": 0.75, "n": 4, "wrong": ["es:x → en"]}},
        "chrf": [{"src": "en", "tgt": "es", "chrf": 56.8765, "n_segments": 2},
                 {"src": "es", "tgt": "en", "chrf": 61.04, "n_segments": 2}],
        "guard_retries": 1,
        "worst": [{"src": "es", "tgt": "en", "heard_as": "en", "chrf": 13.14, "heard": "a", "translation": "b",
                   "reference": "c"}],
    }
    md = speech_md(section, lambda head, rows: "\n".join(" | ".join(map(str, r)) for r in [head, *rows]))
    assert "**2 prompts**" in md and "(6 clips)" in md
    assert "en | 0.01 | 2 | 5" in md and "en,es | 75.0 % | 4 | es:x → en" in md
    assert "en→es | 56.9 | 2" in md and "**59.0**" in md and "guard: 1" in md
    assert "es→en (heard as en) | 13 |" in md
    assert mean_chrf(section) == 59.0
