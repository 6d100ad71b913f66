"""Who is calling: the account behind a valid session token."""

from __future__ import annotations

from dataclasses import dataclass

from cloudlink.errors import PermissionDeniedError

__all__ = ["Principal"]


@dataclass(frozen=True, kw_only=True)
class Principal:
    """An authenticated caller; every service call is scoped by its ``organisation_id``."""

    account_id: int
    organisation_id: int
    is_admin: bool
    session_id: int
    device_id: str

    def require_admin(self) -> None:
        """Raises PermissionDeniedError unless the caller administers its organisation."""
        if not self.is_admin:
            raise PermissionDeniedError("administrators only", code="admin_required")
