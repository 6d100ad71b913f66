"""The ``cloudlink`` command.

Each command group lives in its own module and registers its subcommands
through a ``register(subparsers)`` function; ``main`` only wires them up.
Exit codes: 0 success, 1 the work failed, 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from cloudlink import __version__
from cloudlink.errors import CloudLinkError

__all__ = ["main"]

# Modules under cloudlink.cli that add command groups, in help order.
_COMMAND_MODULES = ("demo", "audio", "video", "serve", "admin")


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="cloudlink", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"cloudlink {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"cloudlink.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command named in ``argv``; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except CloudLinkError as error:
        print(f"cloudlink: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
