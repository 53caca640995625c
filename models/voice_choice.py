"""Each language's default voice, chosen from measured figures rather than taste.

``voice_figures.json`` (beside this module) is written by ``tolk bench --only voices``: per language and voice
option (``kokoro:<voice>``, ``piper``, ``espeak-ng``), the character error rate of Whisper transcribing the
synthesised speech back (intelligibility), the time to the first audio of a 6-word clause, the real-time factor
and the RAM. The rule, stated once here and in the README:

1. options within ``CER_SLACK`` (one character in a hundred) of the most intelligible one are equally clear —
   closer than 50 sentences can tell apart;
2. among those, one whose first audio meets ``FIRST_AUDIO_TARGET_S`` wins (the most intelligible if several);
3. else the first of them in the device's order: Piper, the Kokoro pack's voices as listed (its default voice
   first), espeak-ng last.

So a neural voice slower than the target still speaks a language when nothing as clear is faster: for the person
listening, the voice is the product, and the README shows what it costs in first-audio time per language. The
figures are from one machine (stated in the file); the choice needs only their order.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FIGURES_PATH = Path(__file__).with_name("voice_figures.json")
ESPEAK = "espeak-ng"
PIPER = "piper"
KOKORO_PREFIX = "kokoro:"
FIRST_AUDIO_TARGET_S = 0.5  # issue 16's target for a 6-word clause
CER_SLACK = 0.01


@dataclass(frozen=True)
class VoiceFigures:
    option: str
    cer: float  # 0..1, Whisper base transcribing the synthesised speech, language given
    first_audio_s: float  # a 6-word clause, text in → first audio out
    rtf: float  # synthesis seconds per second of speech
    ram_mb: float | None = None
    sentences: int = 0


def load_figures(path: Path = FIGURES_PATH) -> dict[str, list[VoiceFigures]]:
    """Language code → the measured options (empty when the file is missing or unreadable: defaults then fall back
    to the router's fixed order)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {code: [VoiceFigures(option=option, **values) for option, values in options.items()]
                for code, options in data["languages"].items()}
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("no usable voice figures in %s (%s): default voices follow the fixed order", path, err)
        return {}


def figures_by_option(figures: dict[str, list[VoiceFigures]] | None = None) -> dict[str, dict[str, VoiceFigures]]:
    """Language → option → its figures (for showing them beside the voice in use)."""
    figures = load_figures() if figures is None else figures
    return {code: {f.option: f for f in rows} for code, rows in figures.items()}


def choose(options: list[VoiceFigures], order: list[str] | None = None) -> str | None:
    """The default option by the rule above among ``order`` (the available options, in the device's order; all
    measured ones, as listed, when None)."""
    order = [o.option for o in options] if order is None else order
    candidates = [o for o in options if o.option in order]
    if not candidates:
        return None
    best = min(o.cer for o in candidates)
    clear = [o for o in candidates if o.cer <= best + CER_SLACK]
    fast = [o for o in clear if o.first_audio_s <= FIRST_AUDIO_TARGET_S]
    if fast:
        return min(fast, key=lambda o: (o.cer, o.first_audio_s)).option
    return min(clear, key=lambda o: order.index(o.option)).option


def ordered_options(piper: bool, kokoro_voices: list[str], espeak: bool) -> list[str]:
    """A language's voice options in the device's order: its Piper voice, Kokoro's voices as the pack lists them
    (its default first), espeak-ng."""
    return [*([PIPER] if piper else []), *(KOKORO_PREFIX + name for name in kokoro_voices),
            *([ESPEAK] if espeak else [])]


def options_from_manifests(manifests, espeak_codes: set[str]) -> dict[str, list[str]]:
    """Language → its voice options from installed TTS pack manifests alone (no engine loaded), as the speech router
    would offer them (the first Kokoro pack; espeak-ng for the ``espeak_codes`` when its pack is installed)."""
    from tolk.models.manifest import Engine

    piper = {code for m in manifests if m.engine is Engine.PIPER for code in m.languages}
    kokoro = next((m for m in manifests if m.engine is Engine.KOKORO), None)
    kokoro_voices = {code: [Path(name).stem for name in files]
                     for code, files in (kokoro.settings.get("voices", {}) if kokoro else {}).items()}
    espeak = espeak_codes if any(m.engine is Engine.ESPEAK_NG for m in manifests) else set()
    out = {code: ordered_options(code in piper, kokoro_voices.get(code, []), code in espeak)
           for code in sorted(piper | set(kokoro_voices) | espeak)}
    return {code: options for code, options in out.items() if options}


def default_voices(available: dict[str, list[str]], figures: dict[str, list[VoiceFigures]] | None = None
                   ) -> dict[str, str]:
    """Language → default option, for the languages whose ``available`` options were all measured."""
    figures = load_figures() if figures is None else figures
    out = {}
    for code, options in available.items():
        measured = {f.option for f in figures.get(code, [])}
        if not set(options) <= measured:  # a voice the figures never heard (another pack): they cannot rank it,
            continue                      # so the device's order decides (Piper, Kokoro, espeak-ng)
        chosen = choose(figures.get(code, []), list(options))
        if chosen is not None:
            out[code] = chosen
    return out
