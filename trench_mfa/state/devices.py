"""Remembered devices: opaque tokens that let a login skip its code factors.

A device token is 256 bits from :mod:`secrets`, URL-safe; the row keeps only
its SHA-256 (a random value needs no slow hash), the user it belongs to, a
keyed fingerprint of the user's password hash (the same as a login
challenge's: a password change voids every device), and its expiry. A token
is good for its own user only, until it expires or its row is deleted
(revoked). :func:`use` answers ``None`` for every other case alike, so the
caller cannot tell an unknown token from another user's or an expired one.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from trench_mfa.models import RememberedDevice
from trench_mfa.state import crypto
from trench_mfa.state.tokens import user_state
from trench_mfa.user import AnyUser, UserPk

#: Longest string taken for a token: longer input is not looked up at all.
MAX_TOKEN_LENGTH = 128


def _digest(token: str) -> str | None:
    """The stored hash of ``token``, or ``None`` for anything no token looks like."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        return None
    return crypto.plain_hash(token)


def remember(
    user: AnyUser, *, days: int, name: str, ip: str | None
) -> tuple[str, RememberedDevice]:
    """Store a new device of ``user`` for ``days`` days; return its token (shown once) and row."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    device = RememberedDevice.objects.create(
        user_id=user.pk,
        token_hash=crypto.plain_hash(token),
        user_state=user_state(user),
        name=name[:255],
        created_at=now,
        expires_at=now + timedelta(days=days),
        last_ip=ip,
    )
    return token, device


def use(user: AnyUser, token: str, *, ip: str | None) -> RememberedDevice | None:
    """The live device of ``user`` whose token is ``token``, marked as used now; else ``None``.

    Expired, revoked, another user's, stale (the password changed since) or
    malformed: all ``None``. The use is one conditional ``UPDATE``, so a
    device revoked by a parallel request is not used.
    """
    digest = _digest(token)
    if digest is None:
        return None
    now = timezone.now()
    live = RememberedDevice.objects.filter(
        token_hash=digest, user_id=user.pk, user_state=user_state(user), expires_at__gt=now
    )
    if not live.update(last_used_at=now, last_ip=ip):
        return None
    return live.first()


def live_devices(user: AnyUser) -> QuerySet[RememberedDevice]:
    """The user's devices that could still be used, newest first.

    Devices that can never be used again (expired, or issued before the
    current password) are deleted on the way: they are revoked.
    """
    mine = RememberedDevice.objects.filter(user_id=user.pk)
    mine.exclude(user_state=user_state(user), expires_at__gt=timezone.now()).delete()
    return mine.order_by("-created_at", "-pk")


def revoke(user: AnyUser, device_id: int) -> bool:
    """Delete one device of ``user``; ``False`` when it is not theirs (or gone)."""
    deleted, _ = RememberedDevice.objects.filter(user_id=user.pk, pk=device_id).delete()
    return bool(deleted)


def revoke_all(user_id: UserPk) -> int:
    """Delete every device of the user with primary key ``user_id``; how many there were."""
    deleted, _ = RememberedDevice.objects.filter(user_id=user_id).delete()
    return deleted
