"""Client version ordering."""

from __future__ import annotations

from cloudlink.telemetry.releases import version_key


def test_versions_compare_as_dotted_numbers() -> None:
    ordered = ["1.2", "1.9", "1.10", "1.10.1", "2.0", "2.0.rc1"]
    assert sorted(ordered, key=version_key) == ordered
