"""Sign-in: password login, session tokens, devices and password change.

A login names its device id. The organisation's policy bounds how many
devices of one account hold a live session at once; a new device beyond
that is refused (``device_limit``) until one is signed out. Repeated wrong
passwords lock the account for a while (``account_locked``), and a limiter
bounds attempts per anonymised client network. Tokens are returned once and
stored only as SHA-256 hashes; a session ends when it expires, is revoked by
logout, by signing out its device, by a password change or by cancellation.

Password hashing and verification run on a worker thread, outside any
database transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from cloudlink.accounts.clock import utc_now
from cloudlink.accounts.members import get_member, normalise_account_name
from cloudlink.accounts.passwords import Passwords
from cloudlink.accounts.principal import Principal
from cloudlink.accounts.rate_limiter import RateLimiter
from cloudlink.accounts.tokens import hash_token, new_token
from cloudlink.errors import (
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
)
from cloudlink.store.database import Database
from cloudlink.store.models import Account, AuthSession, Device, Organisation

__all__ = [
    "Authenticator",
    "DeviceView",
    "LoginPolicy",
    "LoginResult",
    "authenticate_token",
    "list_devices",
    "logout",
    "revoke_account_sessions",
    "sign_out_device",
]

_log = logging.getLogger(__name__)

# A session's last_seen_at is refreshed at most this often, to spare writes.
_LAST_SEEN_RESOLUTION_S: Final = 300


@dataclass(frozen=True, kw_only=True)
class LoginPolicy:
    """Lockout and flood limits for password login."""

    max_failed_logins: int = 5
    lockout_s: int = 15 * 60
    attempts_per_network: int = 120
    network_window_s: float = 60.0


@dataclass(frozen=True, kw_only=True)
class LoginResult:
    """A successful login: the token (shown once) and what it belongs to."""

    token: str
    expires_at: dt.datetime
    account: Account
    device: Device


@dataclass(frozen=True, kw_only=True)
class DeviceView:
    """A device of an account and whether a live session holds it."""

    device: Device
    signed_in: bool


class Authenticator:
    """Logins, token checks and password changes over one database."""

    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        *,
        policy: LoginPolicy | None = None,
    ) -> None:
        self._db = db
        self._passwords = passwords
        self.policy = policy or LoginPolicy()
        self._network_limiter = RateLimiter(
            max_attempts=self.policy.attempts_per_network,
            window_s=self.policy.network_window_s,
        )

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
        ip_prefix: str | None = None,
    ) -> LoginResult:
        """Checks the password and opens a session on ``device_id``."""
        self._network_limiter.hit(("login", ip_prefix), code="too_many_attempts")
        try:
            name = normalise_account_name(account_name)
        except InvalidRequestError:
            name = ""

        def find(session: Session) -> tuple[int, str] | None:
            account = session.scalar(
                select(Account)
                .join(Organisation, Organisation.id == Account.organisation_id)
                .where(Organisation.name == organisation, Account.account_name == name)
            )
            if account is None:
                return None
            if account.locked_until is not None and account.locked_until > utc_now():
                retry_after_s = (account.locked_until - utc_now()).total_seconds()
                raise RateLimitedError(
                    "account locked after repeated failed logins",
                    retry_after_s=retry_after_s,
                    code="account_locked",
                )
            return account.id, account.password_hash

        found = await self._db.run(find)
        matches = await self._passwords.verify_async(found[1] if found else None, password)
        if found is None:
            raise AuthenticationError(
                "wrong organisation, account or password", code="invalid_credentials"
            )
        account_id = found[0]
        if not matches:
            await self._db.run(lambda s: self._record_failure(s, account_id))
            raise AuthenticationError(
                "wrong organisation, account or password", code="invalid_credentials"
            )

        def open_session(session: Session) -> LoginResult:
            # Locked for update: concurrent logins of one account count its devices in turn.
            account = session.get(Account, account_id, with_for_update=True)
            if account is None:
                raise AuthenticationError(
                    "wrong organisation, account or password", code="invalid_credentials"
                )
            account.failed_logins = 0
            account.locked_until = None
            organisation_row = session.get(Organisation, account.organisation_id)
            assert organisation_row is not None
            now = utc_now()
            device = session.scalar(
                select(Device).where(Device.account_id == account.id, Device.device_id == device_id)
            )
            others = _live_device_count(session, account.id, now, except_device_id=device_id)
            if others >= organisation_row.max_devices_per_account:
                raise ConflictError(
                    f"already signed in on {others} devices, the organisation's limit; "
                    "sign one out first",
                    code="device_limit",
                )
            if device is None:
                device = Device(
                    organisation_id=account.organisation_id,
                    account_id=account.id,
                    device_id=device_id,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                session.add(device)
            device.name = device_name or device.name
            device.platform = platform or device.platform
            device.client_version = client_version or device.client_version
            device.last_seen_at = now
            device.ip_prefix = ip_prefix
            session.flush()
            token = new_token()
            expires_at = now + dt.timedelta(seconds=organisation_row.session_lifetime_s)
            session.add(
                AuthSession(
                    organisation_id=account.organisation_id,
                    account_id=account.id,
                    device_pk=device.id,
                    token_sha256=hash_token(token),
                    created_at=now,
                    expires_at=expires_at,
                    last_seen_at=now,
                )
            )
            return LoginResult(token=token, expires_at=expires_at, account=account, device=device)

        result = await self._db.run(open_session)
        _log.info("login [account:%d] [device:%d]", result.account.id, result.device.id)
        return result

    def _record_failure(self, session: Session, account_id: int) -> None:
        # Locked for update: concurrent failures must all count.
        account = session.get(Account, account_id, with_for_update=True)
        if account is None:
            return
        account.failed_logins += 1
        if account.failed_logins >= self.policy.max_failed_logins:
            account.failed_logins = 0
            account.locked_until = utc_now() + dt.timedelta(seconds=self.policy.lockout_s)
            _log.warning("account locked after failed logins [account:%d]", account_id)

    async def authenticate(self, token: str) -> Principal:
        """The principal behind a bearer token; AuthenticationError when not live."""
        return await self._db.run(lambda s: authenticate_token(s, token))

    async def change_password(
        self, principal: Principal, *, current_password: str, new_password: str
    ) -> None:
        """Replaces the caller's password and ends its other sessions."""
        Passwords.check_strength(new_password)
        current_hash = await self._db.run(
            lambda s: get_member(s, principal.organisation_id, principal.account_id).password_hash
        )
        if not await self._passwords.verify_async(current_hash, current_password):
            raise AuthenticationError("the current password is wrong", code="invalid_credentials")
        new_hash = await self._passwords.hash_async(new_password)

        def store(session: Session) -> None:
            account = get_member(session, principal.organisation_id, principal.account_id)
            account.password_hash = new_hash
            account.password_changed_at = utc_now()
            revoke_account_sessions(session, account.id, except_session_id=principal.session_id)

        await self._db.run(store)


def authenticate_token(session: Session, token: str) -> Principal:
    """Resolves ``token`` within ``session``."""
    now = utc_now()
    row = session.execute(
        select(AuthSession, Account.is_admin, Device.device_id)
        .join(Account, Account.id == AuthSession.account_id)
        .join(Device, Device.id == AuthSession.device_pk)
        .where(AuthSession.token_sha256 == hash_token(token))
    ).first()
    if row is None:
        raise AuthenticationError("unknown session token", code="invalid_token")
    auth_session, is_admin, device_id = row
    if auth_session.revoked_at is not None:
        raise AuthenticationError("the session was signed out", code="session_revoked")
    if auth_session.expires_at <= now:
        raise AuthenticationError("the session expired", code="session_expired")
    if (now - auth_session.last_seen_at).total_seconds() > _LAST_SEEN_RESOLUTION_S:
        auth_session.last_seen_at = now
    return Principal(
        account_id=auth_session.account_id,
        organisation_id=auth_session.organisation_id,
        is_admin=is_admin,
        session_id=auth_session.id,
        device_id=device_id,
    )


def logout(session: Session, principal: Principal) -> None:
    """Revokes the caller's own session."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == principal.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )


def _live_device_count(
    session: Session, account_id: int, now: dt.datetime, *, except_device_id: str
) -> int:
    statement = (
        select(func.count(func.distinct(AuthSession.device_pk)))
        .join(Device, Device.id == AuthSession.device_pk)
        .where(
            AuthSession.account_id == account_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            Device.device_id != except_device_id,
        )
    )
    return int(session.scalar(statement) or 0)


def list_devices(session: Session, organisation_id: int, account_id: int) -> list[DeviceView]:
    """The account's devices, most recently seen first."""
    get_member(session, organisation_id, account_id)
    now = utc_now()
    live = set(
        session.scalars(
            select(AuthSession.device_pk).where(
                AuthSession.account_id == account_id,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
    )
    devices = session.scalars(
        select(Device)
        .where(Device.account_id == account_id, Device.organisation_id == organisation_id)
        .order_by(Device.last_seen_at.desc(), Device.id)
    )
    return [DeviceView(device=d, signed_in=d.id in live) for d in devices]


def sign_out_device(session: Session, organisation_id: int, account_id: int, device_id: str) -> int:
    """Revokes every live session of one device; returns how many were revoked."""
    get_member(session, organisation_id, account_id)
    device = session.scalar(
        select(Device).where(
            Device.account_id == account_id,
            Device.organisation_id == organisation_id,
            Device.device_id == device_id,
        )
    )
    if device is None:
        raise NotFoundError("no such device", code="device_not_found")
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.device_pk == device.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )
    return cast(CursorResult[Any], result).rowcount


def revoke_account_sessions(
    session: Session, account_id: int, *, except_session_id: int | None = None
) -> None:
    """Revokes every live session of an account (optionally but one)."""
    statement = update(AuthSession).where(
        AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None)
    )
    if except_session_id is not None:
        statement = statement.where(AuthSession.id != except_session_id)
    session.execute(statement.values(revoked_at=utc_now()))
