"""Client versions: the organisation publishes releases; a client asks for the newest.

Versions compare as dotted numbers ("1.10.2" > "1.9"); a part that is not a
number compares after the numeric parts, as text.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.errors import ConflictError, NotFoundError
from cloudlink.store.models import ClientRelease

__all__ = [
    "PLATFORMS",
    "delete_release",
    "latest_release",
    "list_releases",
    "publish_release",
    "version_key",
]

PLATFORMS: Final = ("windows", "macos", "linux", "android", "ios", "web")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key for dotted versions."""
    parts: list[tuple[int, int | str]] = []
    for part in version.split("."):
        parts.append((0, int(part)) if part.isdigit() and len(part) < 10 else (1, part))
    return tuple(parts)


def publish_release(
    session: Session,
    organisation_id: int,
    *,
    platform: str,
    version: str,
    download_url: str,
    notes: str | None = None,
) -> ClientRelease:
    """Adds a release."""
    taken = session.scalar(
        select(ClientRelease.id).where(
            ClientRelease.organisation_id == organisation_id,
            ClientRelease.platform == platform,
            ClientRelease.version == version,
        )
    )
    if taken is not None:
        raise ConflictError("that version is published", code="release_exists")
    release = ClientRelease(
        organisation_id=organisation_id,
        platform=platform,
        version=version,
        download_url=download_url,
        notes=notes,
        released_at=utc_now(),
    )
    session.add(release)
    session.flush()
    return release


def list_releases(session: Session, organisation_id: int) -> list[ClientRelease]:
    """The organisation's releases, newest version first per platform."""
    releases = session.scalars(
        select(ClientRelease).where(ClientRelease.organisation_id == organisation_id)
    )
    return sorted(releases, key=lambda r: (r.platform, version_key(r.version)), reverse=True)


def latest_release(session: Session, organisation_id: int, platform: str) -> ClientRelease | None:
    """The newest release for ``platform``, None when there is none."""
    candidates = [r for r in list_releases(session, organisation_id) if r.platform == platform]
    return max(candidates, key=lambda r: version_key(r.version), default=None)


def delete_release(session: Session, organisation_id: int, release_id: int) -> None:
    """Withdraws a release."""
    release = session.get(ClientRelease, release_id)
    if release is None or release.organisation_id != organisation_id:
        raise NotFoundError("no such release", code="release_not_found")
    session.delete(release)
