"""The `tolk` command: one entry point, one subcommand per job."""
from __future__ import annotations

import argparse
import logging
import os
import sys

from tolk.device import cli_appliance, cli_bench, cli_interpret
from tolk.device import cli_models as models_cli
from tolk.device.console import cli as console_cli
from tolk.device.version import tolk_version
from tolk.models.errors import ErrorCode, TolkError


class CodedParser(argparse.ArgumentParser):
    """Bad arguments end as every other error does: exit 2 and one coded line (subcommands inherit this)."""

    def error(self, message: str):
        self.exit(2, f"error: [{ErrorCode.ARGS}] {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = CodedParser(prog="tolk", description="Tolk: offline speech interpreter")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"tolk {tolk_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    models_cli.add_parser(sub)
    cli_interpret.add_parsers(sub)
    cli_bench.add_parser(sub)
    cli_appliance.add_parsers(sub)
    console_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or bad arguments (one coded line already printed)
        return done.code
    logging.basicConfig(level=logging.DEBUG if args.verbose else os.environ.get("TOLK_LOG", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except TolkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a path given on the command line: a folder for a file, missing, no permission
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: [{ErrorCode.FILE_ERROR}] {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - a person gets a code and a line, the log gets the traceback
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        print(f"error: [{ErrorCode.INTERNAL}] {type(err).__name__}: {err} (run with -v for the details)",
              file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
