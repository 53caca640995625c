"""`tolk console`: the serial debug console process."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="serial debug console (UART, USB gadget serial, a pty, or stdio)")
    p.add_argument("--port", default="-", help="serial device or pty path; '-' for stdin/stdout (default)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--json", action="store_true", help="start in JSON mode (one object per reply)")
    p.add_argument("--socket", type=Path, help="the appliance's control socket")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tolk.device.console.server import socket_path
    from tolk.device.console.terminal import Session, SocketBackend

    backend = SocketBackend(args.socket or socket_path())
    if args.port == "-":
        stdin, stdout = sys.stdin.buffer, sys.stdout.buffer

        def read(n: int) -> bytes | None:
            data = os.read(stdin.fileno(), n)
            return data if data else None  # end of input

        def write(data: bytes) -> None:
            stdout.write(data)
            stdout.flush()

        session = Session(read, write, backend, echo=False)
    else:
        import serial

        try:
            port = serial.serial_for_url(args.port, baudrate=args.baud, timeout=0.1)
        except (serial.SerialException, OSError) as err:
            print(f"error: [CONSOLE-PORT] cannot open {args.port}: {err}", file=sys.stderr)
            return 2
        session = Session(port.read, port.write, backend, echo=True)
    session.json_mode = args.json
    try:
        session.serve()
    except KeyboardInterrupt:
        pass
    finally:
        backend.close()
    return 0
