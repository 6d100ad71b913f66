"""CloudLink's exception classes, in one place.

Each mixes in the builtin that matches its meaning, so callers that catch
``ValueError`` or ``OSError`` keep working. The native engine raises these
too (see native/bindings/convert.h).
"""

from __future__ import annotations

__all__ = [
    "CloudLinkError",
    "CodecError",
    "ConfigError",
    "MediaFileError",
    "RtpError",
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
