"""Small test instruments standing in for the model engines (for fast, deterministic interpreter tests)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from tolk.models.asr import Partial, Transcript
from tolk.models.manifest import PackManifest
from tolk.models.translate import Translation
from tolk.models.tts import Speech


class FakeAsr:
    """Hears ``text``; a partial decode of N seconds of audio hears its first N words."""

    def __init__(self, text: str, language: str = "en") -> None:
        self.text, self.language = text, language
        self.decodes = 0
        self.prefixes: list[str] = []  # the committed words each final transcribe was given
        self.priors: list = []  # the language prior each final transcribe was given (None: none)

    def rank_languages(self, audio, allowed):
        return [(self.language, 0.9)] + [(c, 0.1) for c in allowed if c != self.language]

    def decode(self, audio, language):
        self.decodes += 1
        return " ".join(self.text.split()[: int(audio.size / 16000)])

    def partial(self, audio, language=None, *, allowed=(), prefix=""):
        return Partial(self.decode(audio, language), language or self.language, False, 0.01)

    def transcribe(self, audio, *, allowed=(), forced=None, prefix="", prefix_language=None, prior=None) -> Transcript:
        self.prefixes.append(prefix)
        self.priors.append(prior)
        speech = audio[np.abs(audio) > 0.01]
        if speech.size == 0:
            return Transcript("", forced or allowed[0], 0.0, 0.0, 0.0)
        return Transcript(self.text, forced or self.language, 0.9, speech.size / 16000, 0.01)


def fake_translation(text: str, target: str) -> str:
    """Into English lower-case, into any other language upper-case: the two directions of a pair differ, so a
    back-translation (es -> en: "good morning.") can be told from the translation ("GOOD MORNING.")."""
    return text.lower() if target == "en" else text.upper()


@dataclass
class FakeTranslator:
    """Upper-cases (lower-cases into English); can block on a gate so a test can cancel mid-translation."""

    manifest: PackManifest
    gate: threading.Event | None = None
    calls: list = field(default_factory=list)
    gate_after: int = 0  # stream(): words sent before waiting for the gate
    finished: list = field(default_factory=list)  # sentences whose stream() ran to the end

    def stream(self, text, source, target, context=(), cancel=None):
        """Word by word, like a model's token stream; waits on ``gate`` after ``gate_after`` words."""
        self.calls.append([text])
        for i, word in enumerate(fake_translation(text, target).split(" ")):
            if self.gate is not None and i >= self.gate_after:
                while not self.gate.wait(0.01):
                    if cancel is not None and cancel.is_set():
                        return
            if cancel is not None and cancel.is_set():
                return
            yield word if i == 0 else " " + word
        self.finished.append(text)

    def translate(self, texts, source, target, context=(), cancel=None):
        self.calls.append(list(texts))
        if self.gate is not None:
            while not self.gate.wait(0.01):
                if cancel is not None and cancel.is_set():
                    return [Translation("", source, target, 1, 0, 0.0) for _ in texts]
        return [Translation(fake_translation(t, target), source, target, len(t), len(t), 0.001) for t in texts]


class FakeVoices:
    def __init__(self) -> None:
        self.spoken: list[tuple[str, str]] = []

    def is_fallback(self, language):
        return language != "en"

    def speak(self, text, language):
        self.spoken.append((text, language))
        yield Speech(np.full(160, 0.1, dtype=np.float32), 16000, text, fallback=language != "en")


def mt_manifest(languages=("en", "es", "de")) -> PackManifest:
    return PackManifest.from_dict({
        "id": "fake-mt", "kind": "mt", "engine": "ctranslate2-generator", "version": "1", "languages": list(languages),
        "license": "test", "source": "test", "ram_mb": 1, "prompt": {"template": "{{ text }}"},
        "files": [{"path": "model.bin", "size": 1, "sha256": "0" * 64}]})
