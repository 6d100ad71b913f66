"""``cloudlink audio aec``: cancels the echo of a far-end file in a mic file."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Adds the ``aec`` subcommand."""
    # TODO(#2): the echo canceller lands with its helper branch.
    subparsers.add_parser("aec", help="cancel the echo of FAR in MIC")
