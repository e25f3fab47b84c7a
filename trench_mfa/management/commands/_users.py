"""Shared helper of the support commands: find a user by username."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _


def get_user_or_fail(username: str) -> Any:
    """The user whose ``USERNAME_FIELD`` is ``username``; ``CommandError`` if none."""
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        raise CommandError(
            _("Cannot find user %(username)s.") % {"username": repr(username)}
        ) from None
