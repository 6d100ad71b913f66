"""``cloudlink video ...``: offline tools over the video engine."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Adds ``cloudlink video network``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "video", help="offline tools over the video engine"
    )
    commands = parser.add_subparsers(dest="video_command", metavar="COMMAND")
    # Each tool registers itself from its own module.
    from cloudlink.cli import video_network

    video_network.register(commands)
