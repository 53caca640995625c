"""`tolk models …`: list, verify, install, remove on any machine; install-defaults, convert, tiny, eval on a build
host (they import tolk.models.build lazily; the device image leaves it out)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from tolk.models import paths
from tolk.models.errors import ErrorCode, TolkError
from tolk.models.manifest import Engine, Kind
from tolk.models.progress import Progress
from tolk.models.store import PackStore
from tolk.device.packs_report import cmd_list, cmd_verify

log = logging.getLogger(__name__)
BUILD_PACKAGE = "tolk.models.build"  # left out of the device image


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list, verify, install and convert model packs")
    parser.add_argument("--packs-dir", type=Path, help="packs folder (default: %(default)s)", default=None)
    msub = parser.add_subparsers(dest="models_command", required=True)
    p = msub.add_parser("list", help="installed packs, languages, sizes, licences and RAM")
    p.add_argument("--json", action="store_true")
    p = msub.add_parser("verify", help="check every file's size and sha256")
    p.add_argument("ids", nargs="*", help="pack ids (default: all)")
    p = msub.add_parser("install", help="install a pack folder (verified, load-tested, atomic)")
    p.add_argument("folder", type=Path)
    p.add_argument("--no-load-test", action="store_true",
                   help="switch to the new version without opening it first (a pack for another machine)")
    p = msub.add_parser("install-defaults", help="download, assemble, convert and install the default packs")
    p.add_argument("--also", nargs="*", default=[], metavar="ID", help="catalogue packs to install as well")
    p.add_argument("--all", action="store_true", help="install every catalogue pack (all candidate LLMs)")
    p = msub.add_parser("remove", help="remove an installed pack")
    p.add_argument("id")
    p = msub.add_parser("rollback", help="make the version an install replaced active again")
    p.add_argument("id")
    p = msub.add_parser("convert", help="turn a Hugging Face folder or GGUF file into a CTranslate2 pack")
    p.add_argument("source", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="new pack folder")
    p.add_argument("--id", required=True, help="pack id")
    p.add_argument("--quantization", default="int8",
                   choices=["int8", "int8_float32", "int8_float16", "int16", "float16", "bfloat16", "float32"])
    p.add_argument("--languages", help="comma-separated Tolk language codes (default: all)")
    p.add_argument("--license", default="unknown")
    p.add_argument("--source-desc", default="")
    p.add_argument("--install", action="store_true", help="install the converted pack afterwards")
    p = msub.add_parser("tiny", help="generate tiny random packs in the real formats (for emulated boot tests)")
    p.add_argument("-o", "--output", type=Path, required=True, help="folder for the pack folders")
    p.add_argument("--install", action="store_true", help="install them into --packs-dir afterwards")
    p.add_argument("--real-packs", type=Path, help="store holding whisper-base, a Piper voice and the Kokoro pack, "
                   "whose tokenizer, phoneme map and phoneme vocabulary are reused (default: the usual packs folder)")
    p = msub.add_parser("eval", help="chrF and tokens/s of installed translation packs on UDHR articles")
    p.add_argument("ids", nargs="*", help="MT pack ids (default: every installed MT pack)")
    p.add_argument("--articles", type=int, default=5, help="UDHR articles per direction (default %(default)s)")
    p.add_argument("--max-chars", type=int, default=260, help="skip longer articles (default %(default)s)")
    p.add_argument("--directions", help="comma-separated src-tgt pairs (default: the standard set)")
    p.add_argument("-o", "--output", type=Path, default=Path("out/mt-eval"), help="report folder")
    p.add_argument("--streamed", action="store_true",
                   help="translate as the device does: sentence by sentence, streamed into clauses")
    parser.set_defaults(func=run)


def cmd_convert(args: argparse.Namespace, store: PackStore) -> int:
    from tolk.models.build.convert import convert_model

    progress = Progress()
    languages = [c.strip() for c in args.languages.split(",")] if args.languages else None
    manifest = convert_model(args.source, args.output, pack_id=args.id, quantization=args.quantization,
                             languages=languages, license=args.license, source_desc=args.source_desc,
                             log_progress=progress.step)
    print(f"wrote pack {manifest.id} ({manifest.engine.value}, {manifest.size_bytes / 1e6:,.0f} MB) to {args.output}")
    if args.install:
        store.install_dir(args.output)
        print(f"installed {manifest.id}")
    return 0


def cmd_eval(args: argparse.Namespace, store: PackStore) -> int:
    from tolk.models.build import evaluate, quality, udhr

    packs = [store.get(i) for i in args.ids] if args.ids else store.by_kind(Kind.MT)
    if not packs:
        print("No translation pack installed. Run: tolk models install-defaults", file=sys.stderr)
        return 1
    directions = ([tuple(d.split("-", 1)) for d in args.directions.split(",")] if args.directions
                  else list(quality.DEFAULT_DIRECTIONS))
    udhr_dir = udhr.ensure_udhr(paths.cache_dir())
    progress = Progress()
    results = {p.id: evaluate.evaluate_pack(p, udhr_dir, directions, args.articles, args.max_chars, progress.step,
                                            streamed=args.streamed) for p in packs}
    report = evaluate.write_report(results, args.output, {"articles": args.articles, "max_chars": args.max_chars,
                                                          "path": "streamed" if args.streamed else "whole"})
    print(report.read_text())
    return 0


def cmd_tiny(args: argparse.Namespace, store: PackStore) -> int:
    from tolk.models.build.tiny import make_tiny_packs

    folders = make_tiny_packs(args.output, args.real_packs or paths.packs_dir())
    for folder in folders:
        if args.install:
            pack = store.install_dir(folder)
            print(f"installed {pack.id} ({pack.manifest.size_bytes / 1e6:,.1f} MB) into {store.root}")
        else:
            print(f"made {folder}")
    return 0


def cmd_install_defaults(args: argparse.Namespace, store: PackStore) -> int:
    from tolk.models.build import defaults

    packs = list(defaults.CATALOG) if args.all else defaults.default_packs() + [
        defaults.catalog_pack(i) for i in args.also]
    built = defaults.install_defaults(store, paths.cache_dir(), Progress(), packs)
    print("installed: " + (", ".join(built) if built else "nothing new (all present and intact)"))
    return 0


def run(args: argparse.Namespace) -> int:
    from tolk.models.loadtest import load_test

    # every install opens the new version and runs one tiny inference before switching to it
    store = PackStore(args.packs_dir or paths.packs_dir(),
                      load_test=None if getattr(args, "no_load_test", False) else load_test)
    try:
        if args.models_command == "list":
            return cmd_list(store, args.json)
        if args.models_command == "verify":
            return cmd_verify(store, args.ids)
        if args.models_command == "install":
            pack = store.install_dir(args.folder)
            print(f"installed {pack.id} ({pack.manifest.size_bytes / 1e6:,.0f} MB)")
            return 0
        if args.models_command == "install-defaults":
            return cmd_install_defaults(args, store)
        if args.models_command == "rollback":
            pack = store.rollback(args.id)
            print(f"{pack.id} is back to version {pack.manifest.version} ({pack.path.name})")
            return 0
        if args.models_command == "remove":
            store.remove(args.id)
            print(f"removed {args.id}")
            return 0
        if args.models_command == "convert":
            return cmd_convert(args, store)
        if args.models_command == "eval":
            return cmd_eval(args, store)
        if args.models_command == "tiny":
            return cmd_tiny(args, store)
    except ModuleNotFoundError as err:
        if not (err.name or "").startswith(BUILD_PACKAGE):
            raise
        print(f"error: {TolkError(code=ErrorCode.BUILD_TOOLS_MISSING)} {ErrorCode.BUILD_TOOLS_MISSING.action}",
              file=sys.stderr)
        return 2
    except TolkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyError as err:
        print(f"error: {err.args[0]}", file=sys.stderr)
        return 2
    raise AssertionError(args.models_command)
