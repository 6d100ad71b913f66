"""Helpers for the media tests: a skip marker for engine pieces that have
not reached this tree yet (the media layer is written against
docs/engine.md while they land)."""

from __future__ import annotations

import pytest

from cloudlink import _native


def needs_native(*names: str) -> pytest.MarkDecorator:
    """Skips a test until every named class or function is in _native."""
    missing = [name for name in names if not hasattr(_native, name)]
    return pytest.mark.skipif(bool(missing), reason=f"_native lacks {', '.join(missing)}")
