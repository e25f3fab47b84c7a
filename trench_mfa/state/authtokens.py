"""The user's DRF authtoken key (``rest_framework.authtoken``), replaced when MFA goes on.

A key carries no claims: nothing in it says which factors the login that
issued it verified, and DRF keeps one key per user, shared by all their
logins. A key issued by a password-only login would therefore keep working
after the user turned MFA on, as if MFA had been passed. When the first
method is confirmed (``ROTATE_AUTHTOKEN_ON_ENABLE``), the key is deleted in
the confirmation's transaction; the client that confirmed may get a new one
in the same transaction, and every other holder of the old key is logged
out.

Every function is a no-op when ``rest_framework.authtoken`` is not
installed: its model cannot even be imported then.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import mfa_settings
from trench_mfa.models import MFAMethod
from trench_mfa.state.locks import lock_user
from trench_mfa.user import AnyUser, UserPk

_APP = "rest_framework.authtoken"


def _token_model() -> Any:
    # Imported late: the model's module raises on import when the app is not
    # installed, and the JWT-only projects do not install it.
    from rest_framework.authtoken.models import Token

    return Token


def installed() -> bool:
    """Whether the project uses DRF's authtoken app."""
    return apps.is_installed(_APP)


def is_key(auth: object) -> bool:
    """Whether ``auth`` (DRF's ``request.auth``) is an authtoken key."""
    return installed() and isinstance(auth, _token_model())


def delete_key(user_id: UserPk) -> None:
    """Delete the user's key: every client holding it is logged out."""
    if installed():
        _token_model().objects.filter(user_id=user_id).delete()


@sensitive_variables()
def issue_key(user: AnyUser) -> str:
    """The user's key, created when they have none (DRF's ``get_or_create``)."""
    token, _created = _token_model().objects.get_or_create(user=user)
    return str(token.key)


@sensitive_variables()
def login_key(user: AnyUser, *, code_verified: bool) -> str | None:
    """The key a login issues; ``None`` when a login without a code comes too late.

    A login that verified no code (MFA off) gets its key under the user
    row's lock, which the confirmation of a first method takes too
    (``ROTATE_AUTHTOKEN_ON_ENABLE``): a password-only login that read "MFA
    off" just before a parallel confirmation either gets its key before the
    confirmation deletes it, or sees MFA on here and gets none.
    """
    if code_verified or not mfa_settings.ROTATE_AUTHTOKEN_ON_ENABLE:
        return issue_key(user)
    with transaction.atomic():
        lock_user(user.pk)
        if MFAMethod.objects.for_user(user).active().exists():
            return None
        return issue_key(user)
