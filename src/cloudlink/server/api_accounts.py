"""Sign-in, the caller's own account and devices, and administration of members.

Every lookup is scoped by the caller's organisation: an id from another
organisation answers 404 exactly as an id that does not exist.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.orm import Session

from cloudlink.accounts import members, organisations, sessions
from cloudlink.accounts.members import ACCOUNT_NAME_PATTERN
from cloudlink.accounts.passwords import MAX_PASSWORD_CHARS, Passwords
from cloudlink.errors import ConflictError
from cloudlink.privacy import audit, erasure
from cloudlink.server.endpoint import Call, Endpoint, Reply
from cloudlink.server.schemas import DATETIME, EMAIL, ID, MOBILE, array, nullable, obj, text
from cloudlink.store.models import Account, Organisation

__all__ = ["ACCOUNT", "ENDPOINTS", "account_view"]

_PASSWORD: Final = text(MAX_PASSWORD_CHARS)
_ACCOUNT_NAME: Final = {"type": "string", "pattern": ACCOUNT_NAME_PATTERN, "maxLength": 64}
_DEVICE_ID: Final = text(128)

ACCOUNT: Final = obj(
    {
        "id": ID,
        "account_name": {"type": "string"},
        "display_name": {"type": "string"},
        "mobile": nullable({"type": "string"}),
        "email": nullable({"type": "string"}),
        "is_admin": {"type": "boolean"},
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "locked": {"type": "boolean"},
    },
    closed=False,
)
_DEVICE: Final = obj(
    {
        "device_id": {"type": "string"},
        "name": nullable({"type": "string"}),
        "platform": nullable({"type": "string"}),
        "client_version": nullable({"type": "string"}),
        "first_seen_at": DATETIME,
        "last_seen_at": DATETIME,
        "ip_prefix": nullable({"type": "string"}),
        "signed_in": {"type": "boolean"},
    }
)
_ORGANISATION: Final = obj(
    {
        "id": ID,
        "name": {"type": "string"},
        "created_at": DATETIME,
        **{
            key: {"type": "boolean" if kind is bool else "integer"}
            for key, (kind, _, _) in organisations.POLICY_FIELDS.items()
        },
    }
)
_POLICY_CHANGES: Final = obj(
    {
        key: (
            {"type": "boolean"}
            if kind is bool
            else {"type": "integer", "minimum": low, "maximum": high}
        )
        for key, (kind, low, high) in organisations.POLICY_FIELDS.items()
    },
    required=(),
    min_properties=1,
)
_PROFILE_CHANGES: Final = obj(
    {"display_name": text(100), "mobile": nullable(MOBILE), "email": nullable(EMAIL)},
    required=(),
    min_properties=1,
)


def account_view(account: Account) -> dict[str, Any]:
    """The public representation of an account (never its password hash)."""
    return {
        "id": account.id,
        "account_name": account.account_name,
        "display_name": account.display_name,
        "mobile": account.mobile,
        "email": account.email,
        "is_admin": account.is_admin,
        "created_at": account.created_at.isoformat(),
        "updated_at": account.updated_at.isoformat(),
        "locked": account.locked_until is not None,
    }


def _device_view(view: sessions.DeviceView) -> dict[str, Any]:
    device = view.device
    return {
        "device_id": device.device_id,
        "name": device.name,
        "platform": device.platform,
        "client_version": device.client_version,
        "first_seen_at": device.first_seen_at.isoformat(),
        "last_seen_at": device.last_seen_at.isoformat(),
        "ip_prefix": device.ip_prefix,
        "signed_in": view.signed_in,
    }


def _organisation_view(organisation: Organisation) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": organisation.id,
        "name": organisation.name,
        "created_at": organisation.created_at.isoformat(),
    }
    for key in organisations.POLICY_FIELDS:
        view[key] = getattr(organisation, key)
    return view


async def _login(call: Call) -> Reply:
    body = call.body
    result = await call.context.authenticator.login(
        organisation=body["organisation"],
        account_name=body["account_name"],
        password=body["password"],
        device_id=body["device_id"],
        device_name=body.get("device_name"),
        platform=body.get("platform"),
        client_version=body.get("client_version"),
        ip_prefix=call.ip_prefix,
    )
    return Reply(
        payload={
            "token": result.token,
            "expires_at": result.expires_at.isoformat(),
            "account": account_view(result.account),
        }
    )


async def _logout(call: Call) -> Reply:
    await call.context.db.run(lambda s: sessions.logout(s, call.caller))
    return Reply(payload=None, status=204)


async def _get_me(call: Call) -> Reply:
    caller = call.caller
    account = await call.context.db.run(
        lambda s: members.get_member(s, caller.organisation_id, caller.account_id)
    )
    return Reply(payload=account_view(account))


async def _update_me(call: Call) -> Reply:
    caller = call.caller
    account = await call.context.db.run(
        lambda s: members.update_member(
            s,
            caller.organisation_id,
            caller.account_id,
            call.body,
            allowed=members.PROFILE_FIELDS,
        )
    )
    return Reply(payload=account_view(account))


async def _change_password(call: Call) -> Reply:
    await call.context.authenticator.change_password(
        call.caller,
        current_password=call.body["current_password"],
        new_password=call.body["new_password"],
    )
    return Reply(payload=None, status=204)


async def _my_devices(call: Call) -> Reply:
    caller = call.caller
    views = await call.context.db.run(
        lambda s: sessions.list_devices(s, caller.organisation_id, caller.account_id)
    )
    return Reply(payload=[_device_view(v) for v in views])


async def _sign_out_my_device(call: Call) -> Reply:
    caller = call.caller
    await call.context.db.run(
        lambda s: sessions.sign_out_device(
            s, caller.organisation_id, caller.account_id, call.path["device_id"]
        )
    )
    return Reply(payload=None, status=204)


async def _get_organisation(call: Call) -> Reply:
    caller = call.caller
    organisation = await call.context.db.run(
        lambda s: organisations.get_organisation(s, caller.organisation_id)
    )
    return Reply(payload=_organisation_view(organisation))


async def _update_organisation(call: Call) -> Reply:
    caller = call.caller

    def work(session: Session) -> Organisation:
        organisation = organisations.update_policy(session, caller.organisation_id, call.body)
        audit.record(session, caller, "organisation.update", details=dict(call.body))
        return organisation

    return Reply(payload=_organisation_view(await call.context.db.run(work)))


async def _list_accounts(call: Call) -> Reply:
    caller = call.caller
    accounts = await call.context.db.run(
        lambda s: members.list_members(
            s,
            caller.organisation_id,
            query=call.query.get("q"),
            limit=call.query.get("limit", 100),
            offset=call.query.get("offset", 0),
        )
    )
    return Reply(payload=[account_view(a) for a in accounts])


async def _add_account(call: Call) -> Reply:
    caller = call.caller
    body = call.body
    Passwords.check_strength(body["password"])
    password_hash = await call.context.passwords.hash_async(body["password"])

    def work(session: Session) -> Account:
        account = members.add_member(
            session,
            organisation_id=caller.organisation_id,
            account_name=body["account_name"],
            display_name=body["display_name"],
            password_hash=password_hash,
            mobile=body.get("mobile"),
            email=body.get("email"),
            is_admin=body.get("is_admin", False),
        )
        audit.record(
            session,
            caller,
            "account.add",
            target_type="account",
            target_id=account.id,
            details={"is_admin": account.is_admin},
        )
        return account

    return Reply(payload=account_view(await call.context.db.run(work)), status=201)


async def _get_account(call: Call) -> Reply:
    caller = call.caller
    account = await call.context.db.run(
        lambda s: members.get_member(s, caller.organisation_id, call.path["account_id"])
    )
    return Reply(payload=account_view(account))


async def _update_account(call: Call) -> Reply:
    caller = call.caller
    account_id = call.path["account_id"]

    def work(session: Session) -> Account:
        if account_id == caller.account_id and call.body.get("is_admin") is False:
            raise ConflictError("an administrator cannot demote themselves", code="self_demotion")
        account = members.update_member(session, caller.organisation_id, account_id, call.body)
        audit.record(
            session,
            caller,
            "account.update",
            target_type="account",
            target_id=account.id,
            details={"fields": sorted(call.body)},
        )
        return account

    return Reply(payload=account_view(await call.context.db.run(work)))


async def _reset_password(call: Call) -> Reply:
    caller = call.caller
    account_id = call.path["account_id"]
    Passwords.check_strength(call.body["new_password"])
    password_hash = await call.context.passwords.hash_async(call.body["new_password"])

    def work(session: Session) -> None:
        if account_id == caller.account_id:
            raise ConflictError(
                "change your own password with POST /api/me/password", code="self_reset"
            )
        account = members.get_member(session, caller.organisation_id, account_id)
        account.password_hash = password_hash
        account.failed_logins = 0
        account.locked_until = None
        sessions.revoke_account_sessions(session, account.id)
        audit.record(
            session, caller, "account.reset_password", target_type="account", target_id=account.id
        )

    await call.context.db.run(work)
    return Reply(payload=None, status=204)


async def _cancel_account(call: Call) -> Reply:
    caller = call.caller
    account_id = call.path["account_id"]

    def work(session: Session) -> None:
        if account_id == caller.account_id:
            raise ConflictError(
                "an administrator cannot cancel their own account", code="self_cancellation"
            )
        members.get_member(session, caller.organisation_id, account_id)
        erasure.erase_account(session, caller.organisation_id, account_id)
        audit.record(session, caller, "account.cancel", target_type="account", target_id=account_id)

    await call.context.db.run(work)
    return Reply(payload=None, status=204)


async def _account_devices(call: Call) -> Reply:
    caller = call.caller
    views = await call.context.db.run(
        lambda s: sessions.list_devices(s, caller.organisation_id, call.path["account_id"])
    )
    return Reply(payload=[_device_view(v) for v in views])


async def _sign_out_account_device(call: Call) -> Reply:
    caller = call.caller
    account_id = call.path["account_id"]
    device_id = call.path["device_id"]

    def work(session: Session) -> None:
        sessions.sign_out_device(session, caller.organisation_id, account_id, device_id)
        audit.record(
            session, caller, "device.sign_out", target_type="account", target_id=account_id
        )

    await call.context.db.run(work)
    return Reply(payload=None, status=204)


_PAGE: Final = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "offset": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
}

ENDPOINTS: Final = [
    Endpoint(
        method="POST",
        path="/api/auth/login",
        handler=_login,
        summary="Sign in with a password on a named device; returns a bearer token",
        tag="auth",
        access="public",
        body=obj(
            {
                "organisation": text(100),
                "account_name": text(64),
                "password": _PASSWORD,
                "device_id": _DEVICE_ID,
                "device_name": text(100),
                "platform": text(32),
                "client_version": text(32),
            },
            required=("organisation", "account_name", "password", "device_id"),
        ),
        response=obj({"token": {"type": "string"}, "expires_at": DATETIME, "account": ACCOUNT}),
        errors=(401, 409, 423, 429),
    ),
    Endpoint(
        method="POST",
        path="/api/auth/logout",
        handler=_logout,
        tag="auth",
        summary="End the caller's session",
        status=204,
    ),
    Endpoint(
        method="GET",
        path="/api/me",
        handler=_get_me,
        tag="me",
        summary="The caller's account",
        response=ACCOUNT,
    ),
    Endpoint(
        method="PATCH",
        path="/api/me",
        handler=_update_me,
        tag="me",
        summary="Correct the caller's display name, mobile number or email",
        body=_PROFILE_CHANGES,
        response=ACCOUNT,
    ),
    Endpoint(
        method="POST",
        path="/api/me/password",
        handler=_change_password,
        tag="me",
        summary="Change the caller's password; the caller's other sessions end",
        body=obj({"current_password": _PASSWORD, "new_password": _PASSWORD}),
        status=204,
    ),
    Endpoint(
        method="GET",
        path="/api/me/devices",
        handler=_my_devices,
        tag="devices",
        summary="The caller's devices",
        response=array(_DEVICE),
    ),
    Endpoint(
        method="DELETE",
        path="/api/me/devices/{device_id}",
        handler=_sign_out_my_device,
        tag="devices",
        summary="Sign out one of the caller's devices",
        status=204,
    ),
    Endpoint(
        method="GET",
        path="/api/organisation",
        handler=_get_organisation,
        tag="organisation",
        access="admin",
        summary="The organisation: device policy, privacy defaults, retention",
        response=_ORGANISATION,
    ),
    Endpoint(
        method="PATCH",
        path="/api/organisation",
        handler=_update_organisation,
        tag="organisation",
        access="admin",
        summary="Change the device policy, privacy defaults or retention periods",
        body=_POLICY_CHANGES,
        response=_ORGANISATION,
    ),
    Endpoint(
        method="GET",
        path="/api/accounts",
        handler=_list_accounts,
        tag="accounts",
        access="admin",
        summary="Members, searchable by name, phone or email",
        query={"q": text(100, min_length=0), **_PAGE},
        response=array(ACCOUNT),
    ),
    Endpoint(
        method="POST",
        path="/api/accounts",
        handler=_add_account,
        tag="accounts",
        access="admin",
        summary="Add a member or administrator",
        body=obj(
            {
                "account_name": _ACCOUNT_NAME,
                "display_name": text(100),
                "password": _PASSWORD,
                "mobile": MOBILE,
                "email": EMAIL,
                "is_admin": {"type": "boolean"},
            },
            required=("account_name", "display_name", "password"),
        ),
        response=ACCOUNT,
        status=201,
        errors=(409,),
    ),
    Endpoint(
        method="GET",
        path="/api/accounts/{account_id}",
        handler=_get_account,
        tag="accounts",
        access="admin",
        summary="One member",
        response=ACCOUNT,
    ),
    Endpoint(
        method="PATCH",
        path="/api/accounts/{account_id}",
        handler=_update_account,
        tag="accounts",
        access="admin",
        summary="Modify a member",
        body=obj(
            {
                "display_name": text(100),
                "mobile": nullable(MOBILE),
                "email": nullable(EMAIL),
                "is_admin": {"type": "boolean"},
            },
            required=(),
            min_properties=1,
        ),
        response=ACCOUNT,
        errors=(409,),
    ),
    Endpoint(
        method="DELETE",
        path="/api/accounts/{account_id}",
        handler=_cancel_account,
        tag="accounts",
        access="admin",
        status=204,
        errors=(409,),
        summary="Cancel a member: their personal data is deleted or anonymised everywhere",
    ),
    Endpoint(
        method="POST",
        path="/api/accounts/{account_id}/password",
        handler=_reset_password,
        tag="accounts",
        access="admin",
        status=204,
        summary="Set a member's password, unlock the account and end its sessions",
        body=obj({"new_password": _PASSWORD}),
        errors=(409,),
    ),
    Endpoint(
        method="GET",
        path="/api/accounts/{account_id}/devices",
        handler=_account_devices,
        tag="devices",
        access="admin",
        summary="A member's devices",
        response=array(_DEVICE),
    ),
    Endpoint(
        method="DELETE",
        path="/api/accounts/{account_id}/devices/{device_id}",
        handler=_sign_out_account_device,
        tag="devices",
        access="admin",
        status=204,
        summary="Sign out one of a member's devices",
    ),
]
