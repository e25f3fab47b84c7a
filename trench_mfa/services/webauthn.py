"""A user's WebAuthn credentials: list, rename, remove.

Registering one is an activation (:func:`trench_mfa.services.methods.activate_method`:
the first turns the method on; while it is active, each activation adds one
more). Removing one needs a code, like deactivating a method
(``CONFIRM_DISABLE_WITH_CODE``): an answer of the WebAuthn method itself or
a backup code. Removing the last one deactivates the method.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from trench_mfa import signals
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import CredentialDoesNotExist, MethodDoesNotExist
from trench_mfa.models import MFAMethod, WebAuthnCredential
from trench_mfa.services.methods import (
    active_method,
    require_deactivation_allowed,
    switch_off,
)
from trench_mfa.services.protection import require_config
from trench_mfa.services.verification import verify_protected_action
from trench_mfa.state import audit, webauthn_credentials
from trench_mfa.state.locks import lock_account
from trench_mfa.user import AnyRequest, AnyUser


def _webauthn_method(user: AnyUser, name: str) -> MFAMethod:
    """The user's active method ``name``, which must keep credentials (WebAuthn)."""
    if not getattr(require_config(name).handler, "adds_credentials", False):
        raise MethodDoesNotExist()
    return active_method(user, name)


def describe(row: WebAuthnCredential) -> dict[str, Any]:
    """What a user sees of a credential: never its id, key or counter."""
    return {
        "id": row.pk,
        "name": row.name,
        "created": row.created_at,
        "last_used": row.last_used_at,
        "transports": list(row.transports),
        "backed_up": row.backed_up,
    }


def list_credentials(user: AnyUser, name: str) -> list[dict[str, Any]]:
    """The user's credentials of method ``name``, oldest first (``[]`` while it is off)."""
    if not getattr(require_config(name).handler, "adds_credentials", False):
        raise MethodDoesNotExist()
    return [describe(row) for row in webauthn_credentials.of_user(user, name)]


def _credential(method: MFAMethod, pk: int) -> WebAuthnCredential:
    row = webauthn_credentials.of_method(method).filter(pk=pk).first()
    if row is None:
        raise CredentialDoesNotExist()
    return row


def rename_credential(user: AnyUser, name: str, pk: int, new_name: str) -> dict[str, Any]:
    """Give one of the user's credentials a new name; the credential as listed."""
    row = _credential(_webauthn_method(user, name), pk)
    WebAuthnCredential.objects.filter(pk=row.pk).update(name=new_name)
    row.name = new_name
    return describe(row)


def remove_credential(
    user: AnyUser, name: str, pk: int, code: str | None, *, request: AnyRequest = None
) -> None:
    """Remove one of the user's credentials; the last one deactivates the method.

    The rules of deactivation apply: a code (``CONFIRM_DISABLE_WITH_CODE``),
    and the primary method stays while other methods are active.
    """
    method = _webauthn_method(user, name)
    row = _credential(method, pk)
    if not webauthn_credentials.of_method(method).exclude(pk=row.pk).exists():
        require_deactivation_allowed(user, method)
    if mfa_settings.CONFIRM_DISABLE_WITH_CODE:
        verify_protected_action(user, method, code, request=request)
    with transaction.atomic():
        lock_account(user.pk)
        WebAuthnCredential.objects.filter(pk=row.pk).delete()
        last = not webauthn_credentials.of_method(method).exists()
        if last:
            # Again under the locks: a parallel removal may have left this one last.
            require_deactivation_allowed(user, method)
            switch_off(user, method, request=request)
    audit.send(
        signals.credential_removed, __name__, user=user, method=name, request=request, credential=pk
    )
    if last:
        audit.send(
            signals.mfa_method_deactivated, __name__, user=user, method=name, request=request
        )
