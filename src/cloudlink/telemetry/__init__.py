"""Client telemetry (quality reports, events, feedback) and client versions."""

from cloudlink.telemetry.releases import latest_release, version_key

__all__ = ["latest_release", "version_key"]
