"""Hardcodes: a second static secret (a device or card PIN) for login flows.

Stored with Django's password hashers (``PASSWORD_HASHERS``), like the
password: salted and slow, upgraded on use when the preferred hasher
changes. Every check costs one hash, whether or not the user has a
hardcode, so a missing hardcode cannot be told from a wrong one by timing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.hashers import check_password, make_password
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import InvalidPassword, MethodDoesNotExist, NotEnabled
from trench_mfa.models import Hardcode, MFAMethod
from trench_mfa.services.verification import verify_protected_action
from trench_mfa.user import AnyRequest, AnyUser

if TYPE_CHECKING:
    pass


@sensitive_variables()
def check_hardcode(user: AnyUser | None, raw: str) -> bool:
    """Whether ``raw`` is ``user``'s hardcode (``user`` may be ``None``: always false)."""
    row = Hardcode.objects.filter(user_id=user.pk).first() if user is not None else None
    if row is None:
        make_password(raw)  # the cost of a real check, for uniform timing
        return False

    def upgrade(value: str) -> None:
        Hardcode.objects.filter(pk=row.pk).update(code_hash=make_password(value))

    return check_password(raw, row.code_hash, upgrade)


def _protecting_method(user: AnyUser, name: str | None) -> MFAMethod:
    active = MFAMethod.objects.for_user(user).active()
    if name:
        if mfa_settings.method(name) is None:
            raise MethodDoesNotExist()
        method = active.filter(name=name).first()
    else:
        method = active.primary().first()
    if method is None or mfa_settings.method(method.name) is None:
        raise NotEnabled()
    method.user = user
    return method


@sensitive_variables()
def set_hardcode(
    user: AnyUser,
    hardcode: str,
    *,
    password: str | None = None,
    code: str | None = None,
    method: str | None = None,
    request: AnyRequest = None,
) -> None:
    """Set or change ``user``'s hardcode.

    The change is confirmed by the current password (400 ``invalid_password``)
    or by a code of an active method, the primary one by default (the usual
    protected-action check: 400 ``code_invalid_or_expired``, 429 when
    throttled). A backup code works as a code.
    """
    if password is not None:
        if not user.check_password(password):
            raise InvalidPassword()
    else:
        verify_protected_action(user, _protecting_method(user, method), code, request=request)
    store_hardcode(user, hardcode)


@sensitive_variables()
def store_hardcode(user: AnyUser, hardcode: str) -> None:
    """Hash and store ``hardcode`` for ``user``, unchecked (support tools, fixtures)."""
    Hardcode.objects.update_or_create(
        user_id=user.pk, defaults={"code_hash": make_password(hardcode)}
    )
