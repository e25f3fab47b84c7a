"""Operations for support staff (admin actions, management commands)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from trench_mfa import signals
from trench_mfa.models import MFAMethod
from trench_mfa.services import devices
from trench_mfa.state import audit, backup_codes, codes
from trench_mfa.state.locks import lock_account


def disable_methods(user: Any, name: str | None = None) -> list[str]:
    """Deactivate ``name`` (or every method) of ``user`` without a code.

    When no active method is left, the backup codes go too; the user's
    remembered devices always do. Returns the names of the methods that
    were deactivated.
    """
    with transaction.atomic():
        lock_account(user.pk)
        mine = MFAMethod.objects.for_user(user)
        targets = mine.active() if name is None else mine.active().filter(name=name)
        names = list(targets.values_list("name", flat=True))
        if not names:
            return []
        ids = list(targets.values_list("pk", flat=True))
        MFAMethod.objects.filter(pk__in=ids).update(
            is_active=False, is_primary=False, destination=""
        )
        codes.void_codes_of(ids)
        if not mine.active().exists():
            backup_codes.delete_backup_codes(user.pk)
        else:
            _promote_primary(user)
        devices.revoke_all(user, reason=devices.ADMIN_RESET)
    for method_name in names:
        audit.send(signals.mfa_method_deactivated, __name__, user=user, method=method_name)
    return names


def _promote_primary(user: Any) -> None:
    mine = MFAMethod.objects.for_user(user)
    if not mine.primary().exists():
        first = mine.active().order_by("created_at").values_list("pk", flat=True).first()
        if first is not None:
            mine.filter(pk=first).update(is_primary=True)
