"""What every request handler shares: the database, the services and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from cloudlink.accounts.passwords import Passwords
from cloudlink.accounts.rate_limiter import RateLimiter
from cloudlink.accounts.sessions import Authenticator
from cloudlink.store.database import Database

__all__ = ["CONTEXT", "ServerContext", "ServerSettings"]


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """Server options that are not per organisation."""

    # Where join links point: the address users reach this server at.
    public_base_url: str = "http://127.0.0.1:8080"
    max_log_file_bytes: int = 1024 * 1024
    # How often the retention purge runs; 0 turns the background task off.
    purge_interval_s: float = 3600.0
    meeting_password_attempts: int = 5
    meeting_password_window_s: float = 15 * 60
    # Signaling (docs/signaling.md): at most this many messages per socket in any window.
    signaling_messages_per_window: int = 50
    signaling_rate_window_s: float = 1.0
    # How often open sockets' sessions and live meetings' status are checked again.
    signaling_session_check_s: float = 30.0
    # An unanswered direct call is cancelled after this long.
    signaling_call_timeout_s: float = 30.0
    # A participant whose socket closes without leave stays this long for
    # ``resume``; 0 makes it leave at once.
    signaling_resume_grace_s: float = 20.0


@dataclass(frozen=True, kw_only=True)
class ServerContext:
    """The services behind the API."""

    db: Database
    passwords: Passwords
    authenticator: Authenticator
    meeting_password_limiter: RateLimiter
    settings: ServerSettings


CONTEXT = web.AppKey("cloudlink_context", ServerContext)
