"""``cloudlink audio network``: speech through the engine over a bad network."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Adds the ``network`` subcommand."""
    # TODO(#2): filled by the media pipeline work.
    subparsers.add_parser("network", help="send a file through a simulated network")
