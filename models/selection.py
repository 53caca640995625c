"""Which installed packs run together on the device."""
from __future__ import annotations

from tolk.models.manifest import Kind
from tolk.models.store import InstalledPack

# The packs the project ships by default (`tolk models install-defaults`), preferred when several packs of a kind
# are installed. The build catalogue (tolk.models.build.defaults) marks the same ids as default; a test keeps the
# two in step, so the runtime never needs the build tooling to choose.
PREFERRED_IDS = frozenset({"whisper-base", "qwen2.5-coder-1.5b-int8", "piper-en-us-joe-medium", "kokoro-82m-int8",
                           "espeak-ng"})


def active_packs(packs: list[InstalledPack]) -> list[InstalledPack]:
    """What runs together: one ASR and one MT pack (the preferred one when installed, else the first by id), and
    every TTS pack (each language speaks with its best voice)."""
    chosen: dict[Kind, InstalledPack] = {}
    for pack in sorted(packs, key=lambda p: (p.id not in PREFERRED_IDS, p.id)):
        chosen.setdefault(pack.manifest.kind, pack)
    return [p for p in packs if p.manifest.kind is Kind.TTS or chosen.get(p.manifest.kind) is p]
