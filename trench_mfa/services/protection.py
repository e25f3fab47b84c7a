"""Checks shared by several services: method config, code format, user locks.

Protected actions (a code confirms a sensitive change) are checked by
:func:`trench_mfa.services.verification.verify_protected_action`.
"""

from __future__ import annotations

from typing import NoReturn, TypeVar

from django.db.models import Model
from django.views.decorators.debug import sensitive_variables

from trench_mfa.conf import MethodConfig, mfa_settings
from trench_mfa.exceptions import InvalidCode, MalformedCode, MethodDoesNotExist
from trench_mfa.models import MFAMethod
from trench_mfa.state.active_methods import active_methods
from trench_mfa.user import AnyUser

_M = TypeVar("_M", bound=Model)


def usable_methods(user: AnyUser) -> list[MFAMethod]:
    """The user's active methods that are still configured, the primary first."""
    return [m for m in active_methods(user.pk) if mfa_settings.method(m.name) is not None]


def require_config(name: str) -> MethodConfig:
    """The configuration of ``name``; unknown names are one uniform error."""
    config = mfa_settings.method(name)
    if config is None:
        raise MethodDoesNotExist()
    return config


#: No accepted code (OTP, backup code, YubiKey OTP) is longer than this.
MAX_CODE_LENGTH = 128


@sensitive_variables()
def is_plausible_code(code: str, max_length: int | None = None) -> bool:
    """Whether ``code`` is short printable ASCII: checked before any format or hash.

    ``max_length`` raises the length limit for a method whose answers are
    longer than codes (a WebAuthn answer, see ``max_code_length``).
    """
    limit = max_length or MAX_CODE_LENGTH
    return len(code) <= limit and code.isascii() and code.isprintable()


def reject_malformed_code(*, at_login: bool) -> NoReturn:
    """Refuse a code that cannot be valid for any accepted format; nothing counts.

    At login django-trench answers it like any wrong code (401
    ``invalid_code``); elsewhere it is the ``code`` field's
    "Code invalid or expired." (400, error code ``invalid_input``).
    """
    raise InvalidCode() if at_login else MalformedCode()
