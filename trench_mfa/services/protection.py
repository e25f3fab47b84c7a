"""Checks shared by several services: method config, code format, user locks.

Protected actions (a code confirms a sensitive change) are checked by
:func:`trench_mfa.services.verification.verify_protected_action`.
"""

from __future__ import annotations

from typing import NoReturn

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail, ValidationError

from trench_mfa.conf import MethodConfig, mfa_settings
from trench_mfa.exceptions import MethodDoesNotExist
from trench_mfa.user import UserPk


def require_config(name: str) -> MethodConfig:
    """The configuration of ``name``; unknown names are one uniform error."""
    config = mfa_settings.method(name)
    if config is None:
        raise MethodDoesNotExist()
    return config


def reject_malformed_code() -> NoReturn:
    """A field error for a code that cannot be valid for any accepted format."""
    raise ValidationError(
        {"code": [ErrorDetail(_("Code has an invalid format."), code="invalid_input")]}
    )


def lock_user(user_id: UserPk) -> None:
    """Serialise state changes of one user (a row lock on PostgreSQL)."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))
