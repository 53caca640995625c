"""`tolk bench`: measured numbers for the README (never asserted in tests)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tolk.device.numbers import whole_argument
from tolk.models import paths
from tolk.models.errors import TolkError
from tolk.models.store import PackStore

SECTIONS = ("latency", "peers", "limits", "quality", "speech")
ONLY_WHEN_NAMED = ("soak", "voices", "injection")
# Upper bounds so a typo is refused up front, not hours in: a soak turn takes ~4 s here (10,000 turns ~11 h), a full
# run is 5 timed runs per clip, the speech dev set has a few hundred prompts, and the UDHR has ~60 sentences.
MAX_TURNS, MAX_RUNS, MAX_PROMPTS, MAX_SENTENCES = 10_000, 100, 1_000, 1_000


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="latency, peers, limits, quality and real-speech quality: a Markdown + JSON + PNG report")
    p.add_argument("--quick", action="store_true", help="fewer clips, runs and segments (< 10 minutes here)")
    p.add_argument("--runs", type=whole_argument(1, MAX_RUNS), help="timed runs per latency clip and for the HA peer (1 quick, 5 full)")
    p.add_argument("--only", nargs="+", choices=SECTIONS + ONLY_WHEN_NAMED,
                   help="run only these sections (soak, voices and injection: only when named, ~20 minutes, ~1 hour "
                        "and ~15 minutes)")
    p.add_argument("--turns", type=whole_argument(1, MAX_TURNS), default=300, help="soak: turns through the whole appliance")
    p.add_argument("--flores", type=Path, help="folder with FLORES-200 devtest files, for extra chrF rows")
    p.add_argument("--setup-peers", action="store_true", help="install the peers into .venv-peers first")
    p.add_argument("--sink", choices=("auto", "portaudio", "file"), default="auto",
                   help="latency playback sink: PortAudio output if a device exists (auto), or a WAV file at "
                        "real-time pace")
    p.add_argument("--no-real-speech", dest="real_speech", action="store_false",
                   help="only the synthetic latency clips (no speech dev set download)")
    p.add_argument("--clips", nargs="+", default=(), metavar="NAME", type=_clip_name,
                   help="only these latency clips: 2s 5s 10s en:queue-periodic-announce es:pbx-invalidpark "
                        "fr:conf-invalid")
    p.add_argument("--speech-prompts", type=whole_argument(1, MAX_PROMPTS), metavar="N",
                   help="speech: prompts recorded in en, es and fr to use (6 with --quick, 40 otherwise)")
    p.add_argument("--voice-languages", nargs="+", metavar="LANG", type=_language,
                   help="voices: measure only these languages again, keeping the others' figures from the last run")
    p.add_argument("--voice-sentences", type=whole_argument(1, MAX_SENTENCES), metavar="N",
                   help="voices: UDHR sentences per language (default 50; the figures the device's default voices "
                        "come from, models/voice_figures.json, are rewritten only by a run of at least 50)")
    p.add_argument("-o", "--output", type=Path, default=Path("out/bench"))
    p.set_defaults(func=run)


def _clip_name(name: str) -> str:
    from tolk.device.bench.latency import clip_names

    if name not in clip_names():
        raise argparse.ArgumentTypeError(f"no latency clip '{name[:40]}' (clips: {' '.join(clip_names())})")
    return name


def _language(code: str) -> str:
    from tolk.models import languages

    try:
        return languages.get(code).code
    except TolkError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def run(args: argparse.Namespace) -> int:
    from tolk.device.bench import peers
    from tolk.device.bench.runner import BenchOptions, run_bench
    from tolk.models.progress import Progress

    progress = Progress()
    if args.only and "soak" in args.only:
        from tolk.device.bench.soak import run_soak

        path = run_soak(PackStore(paths.packs_dir()), args.turns, args.output / "soak", progress.step)
        print(path.read_text())
    if args.only and "voices" in args.only:
        try:
            run_voices(args, progress.step)
        except TolkError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.only and "injection" in args.only:
        try:
            run_injection(args.output / "injection", progress.step)
        except TolkError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.only and set(args.only) <= set(ONLY_WHEN_NAMED):
        return 0
    if args.setup_peers:
        peers.setup_peers(progress.step)
    options = BenchOptions(quick=args.quick, runs=args.runs or (1 if args.quick else 5), out=args.output,
                           flores=args.flores, sections=tuple(s for s in args.only or SECTIONS if s not in ONLY_WHEN_NAMED), sink=args.sink,
                           real_speech=args.real_speech, clips=tuple(args.clips),
                           speech_prompts=args.speech_prompts)
    try:
        path = run_bench(PackStore(paths.packs_dir()), options, progress.step)
    except (TolkError, StopIteration) as err:
        print(f"error: {err or 'a default pack is missing (tolk models install-defaults)'}", file=sys.stderr)
        return 2
    print(path.read_text())
    print(f"report: {path}")
    return 0


def run_voices(args: argparse.Namespace, progress) -> None:
    from tolk.device.bench.voices import DEFAULT_SENTENCES, run_voices as measure
    from tolk.models.voice_choice import FIGURES_PATH

    sentences = args.voice_sentences or DEFAULT_SENTENCES
    command = "tolk bench --only voices" + (f" --voice-sentences {sentences}" if args.voice_sentences else "") + \
        (f" --voice-languages {' '.join(args.voice_languages)}" if args.voice_languages else "") + \
        (f" -o {args.output}" if args.output != Path("out/bench") else "")
    path = measure(PackStore(paths.packs_dir()), args.output / "voices", sentences, progress,
                   figures_path=FIGURES_PATH if sentences >= DEFAULT_SENTENCES else None, command=command,
                   only=args.voice_languages)
    print(path.read_text())
    print(f"report: {path}")


def run_injection(out: Path, progress) -> None:
    """The prompt-injection set through the active translation pack (device/bench/injection.py)."""
    from tolk.device.bench import injection
    from tolk.models.errors import ErrorCode
    from tolk.models.manifest import Kind
    from tolk.models.selection import active_packs
    from tolk.models.translate import load_translator

    packs = [p for p in active_packs(PackStore(paths.packs_dir()).installed()) if p.manifest.kind is Kind.MT]
    if not packs:
        raise TolkError("no translation pack installed (tolk models install-defaults)", code=ErrorCode.PACK_MISSING)
    path = injection.write(injection.run(load_translator(packs[0].path, packs[0].manifest), progress=progress), out)
    print(path.read_text())
    print(f"report: {path}")
