"""Admin pages of login flows: verified identifiers and hardcodes, read-only.

Staff can see whose email address or phone number is confirmed, and who has
a hardcode and since when; never a digest, a hash or a value. Nothing can
be added, changed or deleted here: values are confirmed by their owners,
hardcodes set through ``POST hardcode/`` (support tools:
:func:`trench_mfa.services.identifiers.mark_confirmed`,
:func:`trench_mfa.services.hardcode.store_hardcode`). Registered by
:mod:`trench_mfa.admin`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from trench_mfa.models import Hardcode, VerifiedIdentifier
from trench_mfa.services import identifiers

if TYPE_CHECKING:
    _ReadOnlyBase = admin.ModelAdmin[Any]
else:  # ModelAdmin is not subscriptable at run time
    _ReadOnlyBase = admin.ModelAdmin


class ReadOnlyAdmin(_ReadOnlyBase):
    """Lists and shows the ``fields`` only; no add, change or delete."""

    list_select_related = ("user",)
    ordering = ("-pk",)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Search by the user's ``USERNAME_FIELD`` (any user model)."""
        return (f"user__{get_user_model().USERNAME_FIELD}",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Every shown field."""
        return tuple(name for name in self.fields or () if isinstance(name, str))

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Rows are written by trench_mfa only."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Read-only: use the service functions to change a user's state."""
        return False


@admin.register(VerifiedIdentifier)
class VerifiedIdentifierAdmin(ReadOnlyAdmin):
    """Which identifier of which user is confirmed; digests are never shown."""

    list_display = ("user", "field", "is_confirmed", "confirmed_at", "updated_at")
    list_filter = ("field",)
    fields = ("user", "field", "is_confirmed", "confirmed_at", "updated_at")

    @admin.display(boolean=True, description=_("confirmed"))
    def is_confirmed(self, obj: VerifiedIdentifier) -> bool:
        """Whether the user's *current* value is the confirmed one."""
        return identifiers.is_confirmed(obj.user, obj.field)


@admin.register(Hardcode)
class HardcodeAdmin(ReadOnlyAdmin):
    """Who has a hardcode and when it last changed; the hash is never shown."""

    list_display = ("user", "changed_at")
    fields = ("user", "changed_at")
