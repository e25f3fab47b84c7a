"""Admin: methods are listed and managed; no secret is ever shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from trench_mfa.models import MFAMethod

if TYPE_CHECKING:
    _MethodAdminBase = admin.ModelAdmin[MFAMethod]
else:  # ModelAdmin is not subscriptable at run time
    _MethodAdminBase = admin.ModelAdmin


@admin.register(MFAMethod)
class MFAMethodAdmin(_MethodAdminBase):
    """Lists methods; the secret and failure internals are not editable here."""

    list_display = ("user", "name", "is_active", "is_primary", "last_used_at", "locked_until")
    list_filter = ("name", "is_active", "is_primary")
    search_fields = ("name",)
    raw_id_fields = ("user",)
    fields = (
        "user",
        "name",
        "is_active",
        "is_primary",
        "created_at",
        "last_used_at",
        "locked_until",
    )
    readonly_fields = ("created_at", "last_used_at")
