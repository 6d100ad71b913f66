"""Placeholder."""

from __future__ import annotations

from cloudlink.server.endpoint import Endpoint

__all__ = ["ENDPOINTS"]

ENDPOINTS: list[Endpoint] = []
