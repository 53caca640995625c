"""Which installed packs run together on the device."""
from __future__ import annotations

from models import defaults
from models.manifest import Kind
from models.store import InstalledPack


def active_packs(packs: list[InstalledPack]) -> list[InstalledPack]:
    """What runs together: one ASR and one MT pack (the catalogue default when installed, else the
    first), and every TTS pack (each language speaks with its best voice)."""
    default_ids = {p.id for p in defaults.default_packs()}
    chosen: dict[Kind, InstalledPack] = {}
    for pack in sorted(packs, key=lambda p: (p.id not in default_ids, p.id)):
        chosen.setdefault(pack.manifest.kind, pack)
    return [p for p in packs if p.manifest.kind is Kind.TTS or chosen.get(p.manifest.kind) is p]
