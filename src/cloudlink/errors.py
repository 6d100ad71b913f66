"""CloudLink's exception classes, in one place.

Each mixes in the builtin that matches its meaning, so callers that catch
``ValueError`` or ``OSError`` keep working. The native engine raises these
too (see native/bindings/convert.h).
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "CloudLinkError",
    "CodecError",
    "ConfigError",
    "ConflictError",
    "CredentialVaultError",
    "InvalidRequestError",
    "MediaFileError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RtpError",
    "ServiceError",
    "SessionDescriptionError",
    "SignalingError",
    "StoreError",
]


class CloudLinkError(Exception):
    """Base class of every error CloudLink raises on purpose."""


class ConfigError(CloudLinkError, ValueError):
    """An option or argument has a value the component cannot use."""


class CodecError(CloudLinkError, ValueError):
    """A codec rejected its input: a malformed, truncated or foreign packet."""


class MediaFileError(CloudLinkError, OSError):
    """A media file could not be read or written, or holds no usable stream."""


class RtpError(CloudLinkError, ValueError):
    """An RTP or RTCP packet is malformed or truncated (RFC 3550, RFC 4585)."""


class StoreError(CloudLinkError, RuntimeError):
    """The organisation's database cannot be opened, migrated or reached."""


class CredentialVaultError(CloudLinkError, ValueError):
    """The client's credential file cannot be read: altered, truncated, of
    another format, or sealed with another key or passphrase."""


class ServiceError(CloudLinkError):
    """A request to the organisation's services was refused.

    ``code`` is a stable, machine-readable word (``account_locked``); the
    server sends it in every error body, so clients branch on it, never on
    the message.
    """

    default_code = "service_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code


class InvalidRequestError(ServiceError, ValueError):
    """The request names a value the service cannot accept."""

    default_code = "invalid_request"


class SessionDescriptionError(InvalidRequestError):
    """An SDP offer or answer is malformed or asks for what we do not support."""

    default_code = "invalid_sdp"


class AuthenticationError(ServiceError, PermissionError):
    """No valid credentials: a wrong password, or a missing, expired or revoked token."""

    default_code = "unauthenticated"


class PermissionDeniedError(ServiceError, PermissionError):
    """The caller is known but may not do this (not an administrator, not the host)."""

    default_code = "forbidden"


class NotFoundError(ServiceError, LookupError):
    """No such record in the caller's organisation (other organisations' records included)."""

    default_code = "not_found"


class ConflictError(ServiceError, ValueError):
    """The request contradicts the stored state (a taken name, a device limit, a locked meeting)."""

    default_code = "conflict"


class RateLimitedError(ServiceError, PermissionError):
    """Too many attempts; ``retry_after_s`` tells when the next may succeed."""

    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s


class SignalingError(ServiceError):
    """The signaling server refused a request (``code`` as in
    docs/signaling.md: ``wrong_meeting_password``, ``busy``...), or the
    socket closed before it answered (``connection_closed``)."""

    default_code = "signaling_error"
