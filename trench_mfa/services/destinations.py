"""Binding methods that were not activated through the API to the user's current value.

Activation binds an email or SMS method to the address or number its code
went to (:mod:`trench_mfa.state.destinations`). Rows that became active some
other way have no destination and send nothing: those from before the
binding existed (the data migration ``0007`` binds them with
:func:`current_destination`) and rows a project creates itself, say when
importing activations from another system, which it binds with
:func:`bind_to_profile`.
"""

from __future__ import annotations

from typing import Any

from trench_mfa.backends.base import AbstractMessageDispatcher
from trench_mfa.conf import mfa_settings
from trench_mfa.models import MFAMethod
from trench_mfa.state import destinations


def current_destination(method: Any) -> str | None:
    """What ``method``'s dispatcher would capture from the user's profile now.

    ``None`` for a method that is not configured, sends no codes (app,
    YubiKey) or whose user has no valid value. ``method`` may be a model
    instance of a migration (it only needs ``name`` and ``user``).
    """
    config = mfa_settings.method(method.name)
    if config is None or not getattr(config.handler, "sends_codes", False):
        return None
    handler: AbstractMessageDispatcher = config.handler(method, config)
    return handler.destination_from_profile()


def bind_to_profile(method: MFAMethod) -> bool:
    """Bind an active method without a destination to the user's current value.

    Only for rows that never went through activation: the value is taken on
    trust, as the data migration takes it for rows from before. Returns
    whether a destination was stored; a row that has one keeps it.
    """
    value = current_destination(method)
    if value is None:
        return False
    token = destinations.seal(value)
    stored = MFAMethod.objects.filter(pk=method.pk, is_active=True, destination="").update(
        destination=token
    )
    if stored:
        method.destination = token
    return bool(stored)
