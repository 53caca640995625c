"""`tolk bench …`: measured numbers for the README (never asserted in tests)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models import paths
from models.errors import TolkError
from models.store import PackStore


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="benchmarks: latency")
    bsub = parser.add_subparsers(dest="bench_command", required=True)
    p = bsub.add_parser("latency", help="per-stage times and end of speech -> first audio, 2/5/10 s clips")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--to", dest="target", default="es")
    p.add_argument("-o", "--output", type=Path, default=Path("out/bench"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from device import bench_latency
    from device.interpreter import InterpreterConfig
    from device.loader import load_interpreter
    from models.tts import PiperTts

    store = PackStore(paths.packs_dir())
    try:
        interpreter = load_interpreter(store, InterpreterConfig(phrase_cache_size=0))  # measure, never recall
        voice_pack = next(p for p in store.installed() if p.manifest.engine.value == "piper"
                          and "en" in p.manifest.languages)
    except (TolkError, StopIteration) as err:
        print(f"error: {err or 'no English Piper voice installed'}", file=sys.stderr)
        return 2
    table = bench_latency.run(interpreter, PiperTts(voice_pack.path, voice_pack.manifest), args.output,
                              runs=args.runs, target=args.target)
    print(table)
    interpreter.close()
    return 0
