"""System checks for the ``TRENCH_AUTH`` settings (``manage.py check``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

from trench_mfa.conf import build_method_config, mfa_settings

#: Ceiling for email and SMS code lifetimes (NIST SP 800-63B: 10 minutes).
MAX_SENT_CODE_VALIDITY = 600


def _user_has_field(path: str) -> bool:
    model = get_user_model()
    first = path.split(".", 1)[0]
    try:
        model._meta.get_field(first)
    except FieldDoesNotExist:
        # Plain attributes and properties work as sources too.
        return hasattr(model, first)
    return True


def _check_method(name: str, raw: Any, user: Mapping[str, Any]) -> list[checks.CheckMessage]:
    obj = f"TRENCH_AUTH['MFA_METHODS'][{name!r}]"
    try:
        config = build_method_config(name, raw, user)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), obj=obj, id="trench_mfa.E001")]
    from trench_mfa.backends.base import AbstractMessageDispatcher

    messages: list[checks.CheckMessage] = []
    if not issubclass(config.handler, AbstractMessageDispatcher):
        messages.append(
            checks.Error(
                f"HANDLER {config.handler_path!r} is not an AbstractMessageDispatcher subclass.",
                obj=obj,
                id="trench_mfa.E002",
            )
        )
        return messages
    if config.source_field and not _user_has_field(config.source_field):
        messages.append(
            checks.Error(
                f"SOURCE_FIELD {config.source_field!r} is not a field of "
                f"{get_user_model().__name__}.",
                obj=obj,
                id="trench_mfa.E003",
            )
        )
    if config.handler.sends_codes and config.validity_period > MAX_SENT_CODE_VALIDITY:
        messages.append(
            checks.Warning(
                f"VALIDITY_PERIOD {config.validity_period}s is above "
                f"{MAX_SENT_CODE_VALIDITY}s for a code sent by message.",
                hint="NIST SP 800-63B expects sent codes to expire within 10 minutes.",
                obj=obj,
                id="trench_mfa.W001",
            )
        )
    return messages


@checks.register(checks.Tags.security, "trench_mfa")
def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """Validate every method of ``TRENCH_AUTH['MFA_METHODS']`` and the global keys."""
    user = mfa_settings.user_settings()
    messages: list[checks.CheckMessage] = []
    methods = mfa_settings.raw_methods()
    if not isinstance(methods, Mapping):
        return [checks.Error("TRENCH_AUTH['MFA_METHODS'] must be a dict.", id="trench_mfa.E004")]
    for name, raw in methods.items():
        messages.extend(_check_method(name, raw, user))
    length = mfa_settings.CODE_LENGTH
    if isinstance(length, bool) or not isinstance(length, int) or not 6 <= length <= 10:
        messages.append(
            checks.Error("TRENCH_AUTH['CODE_LENGTH'] must be 6 to 10 digits.", id="trench_mfa.E005")
        )
    if not 1 <= int(mfa_settings.EPHEMERAL_TOKEN_VALIDITY) <= 900:
        messages.append(
            checks.Error(
                "TRENCH_AUTH['EPHEMERAL_TOKEN_VALIDITY'] must be 1 to 900 seconds.",
                id="trench_mfa.E006",
            )
        )
    return messages
