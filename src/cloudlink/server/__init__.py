"""The organisation server: the aiohttp REST API over accounts, meetings, privacy, telemetry."""

from cloudlink.server.app import create_app
from cloudlink.server.context import ServerSettings

__all__ = ["ServerSettings", "create_app"]
