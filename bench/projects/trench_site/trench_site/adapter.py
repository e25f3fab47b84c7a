"""What the package-neutral benchmark code needs to know about django-trench 0.3.1.

Only set-up work lives here (never inside a timed region).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trench.command.replace_mfa_method_backup_codes import (
    regenerate_backup_codes_for_mfa_method_command,
)
from trench.models import MFAMethod
from trench.utils import user_token_generator

NAME = "django-trench"
#: Rows copied from the template user to each cloned user (load test); the
#: backup codes are a column of the method row.
CLONE_MODELS = (MFAMethod,)


def reset_state() -> None:
    """Nothing to reset: django-trench keeps no per-method state."""


def regenerate_backup_codes(user: Any, method: str = "app") -> list[str]:
    """A fresh set of backup codes for the user's ``method`` (plain text)."""
    return sorted(regenerate_backup_codes_for_mfa_method_command(user_id=user.pk, name=method))


def issue_tokens(users: Iterable[Any], method: str = "app") -> list[str]:
    """One ephemeral login token per user, as step 1 would issue it."""
    return [user_token_generator.make_token(user) for user in users]
