"""`tolk models list|verify` (also the console's `models`): installed packs, what runs, RAM, voices, integrity.

No build tooling here: the device's console runs these."""
from __future__ import annotations

import json
import sys

from tolk.device.board import read_board
from tolk.models import languages
from tolk.models.manifest import Kind
from tolk.models.progress import Progress
from tolk.models.selection import active_packs
from tolk.models.store import InstalledPack, PackStore

SMALLEST_BOARD_MB = 4096
OS_AND_APP_MB = 700  # Debian + Python + Tolk itself, measured budget for the 4 GB target


def _voices(packs: list[InstalledPack]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Each language's default voice option ('piper', 'kokoro:<voice>', 'espeak-ng' or 'none') and all its options,
    from the installed TTS manifests alone."""
    from tolk.models.voice_choice import default_voices, options_from_manifests

    options = options_from_manifests([p.manifest for p in packs if p.manifest.kind is Kind.TTS],
                                     {lang.code for lang in languages.LANGUAGES if lang.espeak})
    defaults = default_voices(options)
    speech = {lang.code: defaults.get(lang.code) or (options.get(lang.code) or ["none"])[0]
              for lang in languages.LANGUAGES}
    return speech, options


def _voice_lines(speech: dict[str, str], options: dict[str, list[str]]) -> list[str]:
    """One line per language with a neural voice: its default, the measured figures, the other choices."""
    from tolk.models.voice_choice import figures_by_option

    figures = figures_by_option()
    lines = []
    for code in sorted(c for c, option in speech.items() if option not in ("espeak-ng", "none")):
        option = speech[code]
        measured = figures.get(code, {}).get(option)
        espeak = figures.get(code, {}).get("espeak-ng")
        numbers = (f"CER {measured.cer:.2f} (espeak-ng {espeak.cer:.2f}) · first audio {measured.first_audio_s:.2f} s"
                   f" · RTF {measured.rtf:.2f}" if measured and espeak else
                   f"CER {measured.cer:.2f} · first audio {measured.first_audio_s:.2f} s · RTF {measured.rtf:.2f}"
                   if measured else "not measured")
        others = [o for o in options.get(code, []) if o != option]
        lines.append(f"  {code:3} {option:20} {numbers}" + (f"; also {', '.join(others)}" if others else ""))
    return lines


def cmd_list(store: PackStore, as_json: bool) -> int:
    packs = store.installed()
    board = read_board()
    active = active_packs(packs)
    total_ram = sum(p.manifest.ram_mb for p in active)
    fits = total_ram + OS_AND_APP_MB <= SMALLEST_BOARD_MB
    speech, options = _voices(packs)
    if as_json:
        print(json.dumps({
            "packs": [dict(p.manifest.to_dict(), files=len(p.manifest.files), size_bytes=p.manifest.size_bytes,
                           active=p in active) for p in packs],
            "speech": speech, "ram_mb_active": total_ram, "board": board.__dict__,
            "fits_4gb_board": fits,
        }, indent=2, ensure_ascii=False))
        return 0
    if not packs:
        print(f"No model packs installed in {store.root}. Run: tolk models install-defaults")
        return 1
    print(f"Model packs in {store.root}:")
    print(f"  {'':1} {'ID':28} {'KIND':4} {'ENGINE':22} {'LANGS':>5} {'SIZE':>9} {'RAM':>8}  LICENCE")
    for p in packs:
        m = p.manifest
        mark = "*" if p in active else " "
        size = f"{m.size_bytes / 1e6:,.0f} MB" if m.files else "system"
        print(f"  {mark} {m.id:28} {m.kind.value:4} {m.engine.value:22} {len(m.languages):5} {size:>9} "
              f"{m.ram_mb:>5} MB  {m.license}")
    print("  (* = active: loaded together on the device)")
    fallback = sorted(c for c, q in speech.items() if q == "espeak-ng")
    missing = sorted(c for c, q in speech.items() if q == "none")
    print("Voices (default per language; CER = Whisper transcribing the voice back, from tolk bench --only voices):")
    for line in _voice_lines(speech, options):
        print(line)
    print(f"  espeak-ng (robotic) for {', '.join(fallback) or 'none'}"
          + (f"; NO voice for {', '.join(missing)}" if missing else ""))
    print(f"RAM: active packs need about {total_ram:,} MB (+{OS_AND_APP_MB} MB system) "
          f"of {board.ram_mb:,} MB on this board ({board.model}); "
          f"{'fits' if fits else 'does NOT fit'} a {SMALLEST_BOARD_MB // 1024} GB board")
    return 0


def cmd_verify(store: PackStore, ids: list[str]) -> int:
    packs = [store.get(i) for i in ids] if ids else store.installed()
    if not packs:
        print(f"No model packs installed in {store.root}.", file=sys.stderr)
        return 1
    bad = 0
    for pack in packs:
        progress = Progress()
        progress.start(f"verifying {pack.id}", pack.manifest.size_bytes)
        problems = store.verify(pack.id, progress=progress.advance)
        progress.step(f"{pack.id}: " + ("OK" if not problems else "FAILED"))
        for problem in problems:
            print(f"  {pack.path / problem.path}: {problem.message}", file=sys.stderr)
        bad += bool(problems)
    return 1 if bad else 0
