"""The organisation server's REST API as the client uses it (docs/server.md):
sign-in and sign-out, instant meetings and join links, the directory, the
caller's privacy settings and quality reports.

Every error answer (``{"error": {"code", "message"}}``) is raised as the
:mod:`cloudlink.errors` class of its status, carrying the server's code;
an unreachable server or an answer that is not the API's is a
:class:`~cloudlink.errors.ServiceError` with code ``unreachable`` or
``bad_response``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import aiohttp

from cloudlink.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceError,
)

__all__ = ["Account", "DirectoryEntry", "LoginResult", "MeetingInfo", "QualityReport", "RestClient"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")
# Stands for a body that did not decode as JSON.
_NOT_JSON: Final = object()

# Every request gives up after this long (a login hashes with argon2id: ~1 s).
_REQUEST_TIMEOUT_S: Final = 30.0
# The server's own limit on reports per request (POST /api/telemetry/quality).
MAX_REPORTS_PER_REQUEST: Final = 100
# Statuses and the error class each maps to; 423 (locked) is a conflict with state.
_ERRORS: Final[Mapping[int, type[ServiceError]]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidRequestError,
    423: ConflictError,
}


@dataclass(frozen=True)
class Account:
    """The signed-in account."""

    account_id: int
    account_name: str
    display_name: str
    is_admin: bool


@dataclass(frozen=True)
class LoginResult:
    """A session: the bearer token (shown once by the server) and its account."""

    token: str
    expires_at: datetime
    account: Account


@dataclass(frozen=True)
class MeetingInfo:
    """A meeting as ``POST /api/meetings`` and ``GET /api/meetings/{code}`` describe it."""

    code: str
    join_link: str
    topic: str
    kind: str
    status: str
    has_password: bool
    locked: bool
    your_role: str


@dataclass(frozen=True)
class DirectoryEntry:
    """One member in the organisation's directory."""

    account_id: int
    account_name: str
    display_name: str
    mobile: str | None
    email: str | None


@dataclass(frozen=True)
class QualityReport:
    """One stream's quality over a reporting period (``POST /api/telemetry/quality``)."""

    media: str
    loss_pct: float
    jitter_ms: float
    rtt_ms: float
    meeting_code: str | None = None
    mos: float | None = None
    volume_dbov: float | None = None
    concealment_pct: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The body item the server takes; absent figures are left out."""
        body: dict[str, Any] = {
            "media": self.media,
            "loss_pct": _clamp(self.loss_pct, 0.0, 100.0),
            "jitter_ms": _clamp(self.jitter_ms, 0.0, 60_000.0),
            "rtt_ms": _clamp(self.rtt_ms, 0.0, 60_000.0),
        }
        if self.meeting_code is not None:
            body["meeting_code"] = self.meeting_code
        for key, value, low, high in (
            ("mos", self.mos, 1.0, 5.0),
            ("volume_dbov", self.volume_dbov, -127.0, 0.0),
            ("concealment_pct", self.concealment_pct, 0.0, 100.0),
        ):
            if value is not None:
                body[key] = _clamp(value, low, high)
        return body


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(float(value), low), high)


def _meeting(body: Any) -> MeetingInfo:
    return MeetingInfo(
        code=str(body["code"]),
        join_link=str(body["join_link"]),
        topic=str(body["topic"]),
        kind=str(body["kind"]),
        status=str(body["status"]),
        has_password=bool(body["has_password"]),
        locked=bool(body["locked"]),
        your_role=str(body["your_role"]),
    )


def _account(body: Any) -> Account:
    return Account(
        account_id=int(body["id"]),
        account_name=str(body["account_name"]),
        display_name=str(body["display_name"]),
        is_admin=bool(body["is_admin"]),
    )


def check_server_url(url: str) -> str:
    """``url`` without a trailing slash; ConfigError unless it is an
    http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the server URL must be http(s)://host[:port], got {url!r}")
    return url.rstrip("/")


class RestClient:
    """Calls the API under ``base_url`` (``http://127.0.0.1:8080``) with
    the bearer ``token`` once set (:meth:`login` sets it). Close it once."""

    def __init__(self, base_url: str, *, token: str | None = None) -> None:
        self.base_url = check_server_url(base_url)
        self.token = token
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """The HTTP session (made on first use, in the running loop)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=_REQUEST_TIMEOUT_S)
            )
        return self._http

    async def close(self) -> None:
        """Closes the HTTP session (the server session stays: see :meth:`logout`)."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """One call; returns the decoded JSON body (None for 204)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with self.http.request(
                method, self.base_url + path, json=json, params=params, headers=headers
            ) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
                if status == 204:
                    return None
                try:
                    body = await response.json()
                except (aiohttp.ContentTypeError, ValueError):
                    body = _NOT_JSON
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            raise ServiceError(
                f"{method} {path}: server unreachable: {type(error).__name__}",
                code="unreachable",
            ) from None
        if body is _NOT_JSON:
            raise ServiceError(f"{method} {path}: answer {status} is not JSON", code="bad_response")
        if status >= 400:
            # Our error classes mix in OSError (PermissionError): raised outside the try.
            raise _error(status, body, retry_after)
        return body

    # --- sign-in ---

    async def login(
        self,
        *,
        organisation: str,
        account_name: str,
        password: str,
        device_id: str,
        device_name: str | None = None,
        platform: str | None = None,
        client_version: str | None = None,
    ) -> LoginResult:
        """``POST /api/auth/login``; keeps the token for later calls."""
        body: dict[str, Any] = {
            "organisation": organisation,
            "account_name": account_name,
            "password": password,
            "device_id": device_id,
        }
        for key, value in (
            ("device_name", device_name),
            ("platform", platform),
            ("client_version", client_version),
        ):
            if value is not None:
                body[key] = value
        answer = await self.request("POST", "/api/auth/login", json=body)
        try:
            result = LoginResult(
                token=str(answer["token"]),
                expires_at=datetime.fromisoformat(answer["expires_at"]),
                account=_account(answer["account"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ServiceError("login: unexpected answer", code="bad_response") from None
        self.token = result.token
        return result

    async def logout(self) -> None:
        """``POST /api/auth/logout``: ends this session on the server."""
        await self.request("POST", "/api/auth/logout")
        self.token = None

    async def me(self) -> Account:
        """``GET /api/me``: the signed-in account (AuthenticationError for a dead token)."""
        return self._parse("me", _account, await self.request("GET", "/api/me"))

    # --- meetings ---

    async def create_meeting(
        self,
        *,
        topic: str,
        password: str | None = None,
        invite_account_ids: Sequence[int] = (),
    ) -> MeetingInfo:
        """``POST /api/meetings``: an instant meeting the caller hosts, active now."""
        body: dict[str, Any] = {"topic": topic, "kind": "instant"}
        if password is not None:
            body["password"] = password
        if invite_account_ids:
            body["invite_account_ids"] = list(invite_account_ids)
        return self._parse(
            "meeting", _meeting, await self.request("POST", "/api/meetings", json=body)
        )

    async def meeting(self, code: str) -> MeetingInfo:
        """``GET /api/meetings/{code}``."""
        return self._parse("meeting", _meeting, await self.request("GET", f"/api/meetings/{code}"))

    async def parse_join_link(self, link: str) -> str:
        """The nine-digit meeting id in a pasted join link or typed id
        (``GET /api/join-links/parse``)."""
        answer = await self.request("GET", "/api/join-links/parse", params={"link": link})
        return self._parse("join link", lambda body: str(body["meeting_code"]), answer)

    # --- directory ---

    async def search_directory(self, query: str = "", *, limit: int = 50) -> list[DirectoryEntry]:
        """``GET /api/directory``: members whose name, number or email match."""
        answer = await self.request("GET", "/api/directory", params={"q": query, "limit": limit})

        def entries(body: Any) -> list[DirectoryEntry]:
            return [
                DirectoryEntry(
                    account_id=int(item["id"]),
                    account_name=str(item["account_name"]),
                    display_name=str(item["display_name"]),
                    mobile=item.get("mobile"),
                    email=item.get("email"),
                )
                for item in body
            ]

        return self._parse("directory", entries, answer)

    # --- privacy and telemetry ---

    async def privacy_settings(self) -> dict[str, Any]:
        """``GET /api/me/privacy``: the caller's collection settings."""
        answer: dict[str, Any] = await self.request("GET", "/api/me/privacy")
        return answer

    async def update_privacy_settings(
        self, *, collect_quality: bool | None = None, collect_events: bool | None = None
    ) -> dict[str, Any]:
        """``PATCH /api/me/privacy``: opt in (True) or out (False) of quality
        and event collection; None leaves a setting as it is."""
        changes = {
            key: value
            for key, value in (
                ("collect_quality", collect_quality),
                ("collect_events", collect_events),
            )
            if value is not None
        }
        if not changes:
            raise ConfigError("name at least one setting to change")
        answer: dict[str, Any] = await self.request("PATCH", "/api/me/privacy", json=changes)
        return answer

    async def post_quality(self, reports: Sequence[QualityReport]) -> int:
        """``POST /api/telemetry/quality``; returns how many the server stored
        (0 when the user's settings do not allow collection)."""
        stored = 0
        for start in range(0, len(reports), MAX_REPORTS_PER_REQUEST):
            batch = [r.to_json() for r in reports[start : start + MAX_REPORTS_PER_REQUEST]]
            answer = await self.request("POST", "/api/telemetry/quality", json={"reports": batch})
            stored += self._parse("telemetry", lambda body: int(body["stored"]), answer)
        return stored

    @staticmethod
    def _parse(what: str, parse: Callable[[Any], _T], body: Any) -> _T:
        try:
            return parse(body)
        except (KeyError, TypeError, ValueError):
            raise ServiceError(f"{what}: unexpected answer", code="bad_response") from None


def _error(status: int, body: Any, retry_after: str | None) -> ServiceError:
    """The exception for an error answer, with the server's code and message."""
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code", "")) if isinstance(error, dict) else ""
    message = str(error.get("message", "")) if isinstance(error, dict) else ""
    text = f"{message or 'request refused'} [status:{status}]"
    if status == 429:
        try:
            retry_after_s = float(retry_after or 1.0)
        except ValueError:
            retry_after_s = 1.0
        return RateLimitedError(text, retry_after_s=retry_after_s, code=code or None)
    kind = _ERRORS.get(status, ServiceError)
    return kind(text, code=code or None)
