"""``cloudlink demo``: the main job, an offline call through the engine."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Adds the ``demo`` command."""
    # TODO(#2): filled by the media pipeline work.
    subparsers.add_parser("demo", help="an offline call over a simulated lossy network")
