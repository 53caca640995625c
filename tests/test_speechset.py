"""The speech dev set builder on fabricated files (the real download only in the slow test)."""
import gzip
import hashlib
import subprocess

import numpy as np
import pytest

from tolk.models.build import speechset
from tolk.models.errors import FetchError
from tests.conftest import need, need_module

TRANSCRIPT = """; Core Asterisk Sounds in English

agent-pass: Please enter your password followed by the pound key.
beep: [this is a simple beep tone]
vm-intro: Please leave your message after the tone.  When done hang up or press the pound key. (simple tone sound plays)
letters/at: at [@]
silence/1: [1 second of silence]
silence/10: ten
dir-welcome:
not a prompt line
digits/5: five
agent-pass: a second line for the same id is ignored
"""


def test_parser_keeps_spoken_text_and_skips_notes_silence_and_blanks():
    parsed = speechset.parse_transcripts(TRANSCRIPT)
    assert parsed == {
        "agent-pass": "Please enter your password followed by the pound key.",
        "vm-intro": "Please leave your message after the tone. When done hang up or press the pound key.",
        "letters/at": "at",
        "digits/5": "five",
    }


def _tree(root, language, voice, transcript, prompts):
    doc = root / f"usr/share/doc/asterisk-core-sounds-{language}"
    doc.mkdir(parents=True)
    with gzip.open(doc / f"core-sounds-{language}.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write(transcript)
    sounds = root / "usr/share/asterisk/sounds" / voice
    for prompt in prompts:
        (sounds / prompt).parent.mkdir(parents=True, exist_ok=True)
        (sounds / f"{prompt}.g722").write_bytes(b"\0" * 8)


def test_clips_need_a_transcript_and_a_recording_and_pair_by_id(tmp_path):
    _tree(tmp_path, "en", "en_US_f_Allison", TRANSCRIPT, ["agent-pass", "vm-intro", "digits/5", "beep"])
    _tree(tmp_path, "es", "es_MX_f_Allison", "agent-pass: Por favor ingrese su contrasena\nvm-intro: Deje su mensaje\n",
          ["agent-pass"])
    clips = speechset.load_clips(tmp_path, ("en", "es"))
    assert sorted((c.language, c.id) for c in clips) == [("en", "agent-pass"), ("en", "digits/5"), ("en", "vm-intro"),
                                                         ("es", "agent-pass")]
    es = speechset.find(clips, "agent-pass", "es")
    assert es.voice == "es_MX_f_Allison" and es.transcript == "Por favor ingrese su contrasena"
    assert es.path == tmp_path / "usr/share/asterisk/sounds/es_MX_f_Allison/agent-pass.g722"
    pairs = speechset.pairs(clips)
    assert list(pairs) == ["agent-pass"] and set(pairs["agent-pass"]) == {"en", "es"}
    with pytest.raises(FetchError):
        speechset.find(clips, "vm-intro", "es")


def _fake_apt(contents):
    def run(cmd, cwd=None, **kwargs):
        assert cmd[:2] == ["apt-get", "download"]
        for spec in cmd[2:]:
            name, version = spec.split("=")
            (cwd / f"{name}_{version}_all.deb").write_bytes(contents[name])
        return subprocess.CompletedProcess(cmd, 0, "", "")
    return run


def test_download_checks_every_deb_against_its_pinned_sha256(tmp_path, monkeypatch):
    contents = {"pkg-a": b"alpha", "pkg-b": b"beta"}
    pinned = {k: hashlib.sha256(v).hexdigest() for k, v in contents.items()}
    monkeypatch.setattr(speechset, "PACKAGES", pinned)
    monkeypatch.setattr(speechset.shutil, "which", lambda name: "/usr/bin/" + name)
    paths = speechset.download(tmp_path, run=_fake_apt(contents))
    assert [p.name for p in paths] == [f"pkg-a_{speechset.VERSION}_all.deb", f"pkg-b_{speechset.VERSION}_all.deb"]
    speechset.download(tmp_path, run=lambda *a, **k: pytest.fail("nothing is missing: no apt-get"))

    monkeypatch.setattr(speechset, "PACKAGES", {"pkg-c": "0" * 64})
    with pytest.raises(FetchError, match="does not match the pinned"):
        speechset.download(tmp_path, run=_fake_apt({"pkg-c": b"tampered"}))
    assert not (tmp_path / f"pkg-c_{speechset.VERSION}_all.deb").exists()


def test_g722_decodes_to_16_khz_float(tmp_path):
    av = need_module("av", "PyAV (FFmpeg) decodes the clips")
    path = tmp_path / "tone.g722"
    t = np.arange(16000) / 16000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="g722") as out:
        stream = out.add_stream("g722", rate=16000)
        stream.layout = "mono"
        for i in range(0, pcm.size, 1600):
            frame = av.AudioFrame.from_ndarray(pcm[np.newaxis, i:i + 1600], format="s16", layout="mono")
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    audio = speechset.decode_g722(path)
    assert audio.dtype == np.float32 and abs(audio.size - 16000) < 400
    assert 0.1 < float(np.abs(audio).max()) < 0.5


@pytest.mark.slow
def test_the_real_dev_set_downloads_and_pairs(tmp_path):
    import shutil

    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        need("needs apt-get and dpkg-deb (a Debian host with bookworm sources)")
    try:
        root = speechset.ensure_speechset(tmp_path)
    except FetchError as err:  # no network / no bookworm sources: a skip here, a failure in CI
        need(f"the speech dev set cannot be downloaded: {err}")
    assert speechset.ensure_speechset(tmp_path) == root  # idempotent: the second call fetches nothing
    clips = speechset.load_clips(root)
    assert all(sum(c.language == lang for c in clips) > 400 for lang in speechset.LANGUAGES)
    trio = speechset.pairs(clips)["vm-intro"]
    assert set(trio) == {"en", "es", "fr"} and 4 < speechset.seconds(trio["en"]) < 8
