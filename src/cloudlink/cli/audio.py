"""``cloudlink audio ...``: offline tools over the audio engine."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Adds ``cloudlink audio call``, ``audio aec`` and ``audio network``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "audio", help="offline tools over the audio engine"
    )
    commands = parser.add_subparsers(dest="audio_command", metavar="COMMAND")
    # Each tool registers itself from its own module.
    from cloudlink.cli import audio_aec, audio_call, audio_network

    audio_call.register(commands)
    audio_aec.register(commands)
    audio_network.register(commands)
