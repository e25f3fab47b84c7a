"""Remembered devices: remember one after a login, use one at the next, list, revoke.

The feature is off unless ``REMEMBER_DEVICE`` is on and ``REMEMBER_DEVICE_DAYS``
is set. A client asks for it with ``"remember_device": true`` in login step
2 and gets a device token (:mod:`trench_mfa.state.devices`); at a later
step 1 it presents the token in the body (``device_token``), the
``X-MFA-Device-Token`` header or the ``REMEMBER_DEVICE_COOKIE`` cookie.
A token that does not fit (unknown, expired, revoked, another user's, from
before a password change) is ignored: the login asks for its code as
usual, and the audit trail records the rejection. Every device of a user is
revoked when MFA changes under them (a method removed, MFA turned off,
backup codes regenerated, an admin reset) and, through the password
fingerprint, when the password changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trench_mfa import signals
from trench_mfa.conf import mfa_settings
from trench_mfa.models import RememberedDevice
from trench_mfa.state import audit
from trench_mfa.state import devices as device_rows
from trench_mfa.user import AnyRequest, AnyUser

#: The body field, header and (by default) cookie a device token travels in.
BODY_FIELD = "device_token"
HEADER = "X-MFA-Device-Token"

#: Why devices were revoked: the ``outcome`` of the audit event.
METHOD_REMOVED = "method_removed"
MFA_DISABLED = "mfa_disabled"
BACKUP_CODES_REGENERATED = "backup_codes_regenerated"
ADMIN_RESET = "admin_reset"
USER_REQUEST = "user_request"

# (pattern, name) in the order they are tried: Edge and Opera also say Chrome,
# Chrome also says Safari.
_BROWSERS = (
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrom(e|ium)/|CriOS/", "Chrome"),
    (r"Safari/", "Safari"),
    (r"^curl/", "curl"),
)
_SYSTEMS = (
    (r"Android", "Android"),
    (r"iPhone|iPad|iPod", "iOS"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "macOS"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
)


def enabled() -> bool:
    """Whether devices may be remembered and used."""
    return bool(mfa_settings.REMEMBER_DEVICE) and bool(mfa_settings.REMEMBER_DEVICE_DAYS)


def device_name(user_agent: str) -> str:
    """A short name for a user agent: ``"Firefox on Linux"``, or ``""`` when unknown."""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


def presented_token(request: AnyRequest, data: Mapping[str, Any]) -> str | None:
    """The device token of a login request: body field, else header, else cookie."""
    token = data.get(BODY_FIELD)
    if not token and request is not None:
        token = request.headers.get(HEADER)
        cookie = mfa_settings.REMEMBER_DEVICE_COOKIE
        if not token and cookie:
            token = request.COOKIES.get(cookie)
    return str(token) if token else None


def skips_second_factor(user: AnyUser, token: str | None, *, request: AnyRequest) -> bool:
    """Whether ``token`` is a live device of ``user``; uses it and audits either outcome."""
    if not token or not enabled():
        return False
    device = device_rows.use(user, token, ip=audit.client_ip(request))
    signal = signals.device_rejected if device is None else signals.device_used
    extra = {"reason": "device_rejected"} if device is None else {}
    audit.send(signal, __name__, user=user, method=None, request=request, **extra)
    return device is not None


def remember(user: AnyUser, *, request: AnyRequest) -> tuple[str, RememberedDevice] | None:
    """A new device token of ``user`` (after a login that verified a code); ``None`` when off."""
    if not enabled():
        return None
    agent = request.headers.get("User-Agent", "") if request is not None else ""
    name = device_name(agent)
    token, device = device_rows.remember(
        user,
        days=int(mfa_settings.REMEMBER_DEVICE_DAYS),
        name=name,
        ip=audit.client_ip(request),
    )
    audit.send(
        signals.device_remembered, __name__, user=user, method=None, request=request, device=name
    )
    return token, device


def list_devices(user: AnyUser) -> list[dict[str, Any]]:
    """The user's live devices: id, name, created, last used, IP of last use, expiry."""
    return [
        {
            "id": d.pk,
            "name": d.name,
            "created_at": d.created_at,
            "last_used_at": d.last_used_at,
            "last_ip": d.last_ip,
            "expires_at": d.expires_at,
        }
        for d in device_rows.live_devices(user)
    ]


def revoke_device(user: AnyUser, device_id: int, *, request: AnyRequest = None) -> bool:
    """Revoke one of the user's devices; ``False`` when it is not theirs (or gone)."""
    if not device_rows.revoke(user, device_id):
        return False
    _revoked(user, USER_REQUEST, request)
    return True


def revoke_all(user: AnyUser, *, reason: str, request: AnyRequest = None) -> int:
    """Revoke every device of ``user``; audited (with ``reason``) when there was one."""
    count = device_rows.revoke_all(user.pk)
    if count:
        _revoked(user, reason, request)
    return count


def _revoked(user: AnyUser, reason: str, request: AnyRequest) -> None:
    audit.send(
        signals.devices_revoked, __name__, user=user, method=None, request=request, reason=reason
    )
