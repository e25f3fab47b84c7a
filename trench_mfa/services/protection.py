"""Checks shared by several services: code format, protected actions, locks."""

from __future__ import annotations

from typing import NoReturn

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework.exceptions import ErrorDetail, ValidationError

from trench_mfa import signals
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import MethodConfig, mfa_settings
from trench_mfa.exceptions import CodeInvalidOrExpired, MethodDoesNotExist, OTPCodeMissing
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.services import backup_codes
from trench_mfa.user import AnyUser


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


def lock_user(user_id: int) -> None:
    """Serialise state changes of one user (a row lock on PostgreSQL)."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def verify_protected_action(user: AnyUser, method: MFAMethod, code: str | None) -> None:
    """Require a current code of ``method`` (or a backup code) for a sensitive change."""
    if not code:
        raise OTPCodeMissing()
    handler = get_mfa_handler(method, purpose=CodePurpose.ACTION)
    method_format = handler.is_well_formed(code)
    backup_format = backup_codes.is_well_formed(code)
    if not (method_format or backup_format):
        reject_malformed_code()
    if method_format and handler.validate_code(code):
        signals.code_verified.send(sender=__name__, user=user, method=method.name)
        return
    if backup_format and backup_codes.use_backup_code(user.pk, code):
        signals.backup_code_used.send(sender=__name__, user=user, method=None)
        return
    signals.verification_failed.send(sender=__name__, user=user, method=method.name)
    raise CodeInvalidOrExpired()
