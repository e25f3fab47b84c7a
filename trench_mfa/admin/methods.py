"""Admin: methods are listed and managed; no secret is ever shown.

The change form shows state only (never ``secret``, code hashes or backup
codes; the address or number a method is bound to only masked, as
``j***@example.com``) and has no Save button; changes go through the actions, which call
the same service functions as the support commands, so invariants and
signals stay intact. Deleting a method (its delete button or "Delete
selected") disables it through that service first: the user's backup codes
go with the last active method, another method becomes primary, and the
audit trail records the deactivation. The phantom rows of decoy logins
(:mod:`trench_mfa.state.phantoms`) are not listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# Importing flow_admin also registers the flow models' pages.
from trench_mfa.admin.flows import ReadOnlyAdmin
from trench_mfa.models import MFAEvent, MFAMethod
from trench_mfa.services.admin import disable_methods
from trench_mfa.state import codes, destinations
from trench_mfa.state.secrets_at_rest import SecretDecryptionError

if TYPE_CHECKING:
    _MethodAdminBase = admin.ModelAdmin[MFAMethod]
else:  # ModelAdmin is not subscriptable at run time
    _MethodAdminBase = admin.ModelAdmin


class LockedFilter(admin.SimpleListFilter):
    """Methods locked right now after too many failures."""

    title = _("locked")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        """Yes / no."""
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Filter on ``locked_until`` in the future."""
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=now)
        return queryset


@admin.register(MFAMethod)
class MFAMethodAdmin(_MethodAdminBase):
    """Lists methods with their state; actions disable, unlock and expire codes."""

    list_display = ("user", "name", "is_active", "is_primary", "last_used_at", "locked_until")
    list_filter = ("name", "is_active", "is_primary", LockedFilter)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    fields = (
        "user",
        "name",
        "is_active",
        "is_primary",
        "bound_to",
        "created_at",
        "last_used_at",
        "failure_count",
        "last_failure_at",
        "locked_until",
    )
    actions = ("disable_selected", "unlock_selected", "expire_codes_of_selected")

    def get_queryset(self, request: HttpRequest) -> QuerySet[MFAMethod]:
        """Users' methods only: a phantom row (a decoy login's state) belongs to nobody."""
        return super().get_queryset(request).filter(user__isnull=False)

    @admin.display(description=_("bound to"))
    def bound_to(self, obj: MFAMethod) -> str:
        """The destination the method's codes go to, masked; "-" when it has none."""
        try:
            value = destinations.read(obj)
        except SecretDecryptionError:
            return str(_("(cannot be decrypted)"))
        return destinations.mask(value) if value else "-"

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Search by method name and the user's ``USERNAME_FIELD`` (any user model)."""
        return ("name", f"user__{get_user_model().USERNAME_FIELD}")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Everything is read-only: state changes go through the actions."""
        return tuple(self.fields or ())

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Methods are activated by their users, never created by staff."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Staff's change permission for the list and its actions; no method's page saves.

        Django asks with ``obj`` for one method's page: refusing there makes
        the page read-only (no Save buttons, a POST is refused), while the
        actions on the list still require the change permission.
        """
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def delete_model(self, request: HttpRequest, obj: MFAMethod) -> None:
        """The delete button: disable through the service, then delete the row."""
        self.delete_queryset(request, MFAMethod.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[MFAMethod]) -> None:
        """The "Delete selected" action: each method is disabled as by the API, then deleted.

        A bare row delete would leave the backup codes of a user without
        methods, a user without a primary method, and no audit event.
        """
        ids = list(queryset.values_list("pk", flat=True))
        for method in MFAMethod.objects.filter(pk__in=ids).select_related("user"):
            disable_methods(method.user, method.name)
        MFAMethod.objects.filter(pk__in=ids).delete()

    @admin.action(
        description=_("Disable MFA for the selected users' methods"), permissions=["change"]
    )
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[MFAMethod]) -> None:
        """Deactivate each selected method (the last one also drops backup codes)."""
        count = 0
        for method in queryset.select_related("user"):
            count += len(disable_methods(method.user, method.name))
        self.message_user(
            request,
            ngettext("Disabled %d method.", "Disabled %d methods.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Unlock the selected methods"), permissions=["change"])
    def unlock_selected(self, request: HttpRequest, queryset: QuerySet[MFAMethod]) -> None:
        """Clear failure counters and lockouts."""
        count = queryset.update(failure_count=0, last_failure_at=None, locked_until=None)
        self.message_user(
            request,
            ngettext("Unlocked %d method.", "Unlocked %d methods.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Expire outstanding codes of the selected methods"), permissions=["change"]
    )
    def expire_codes_of_selected(self, request: HttpRequest, queryset: QuerySet[MFAMethod]) -> None:
        """Make every live one-time code of the selected methods unusable."""
        count = codes.void_codes_of(queryset)
        self.message_user(
            request,
            ngettext("Expired %d code.", "Expired %d codes.", count) % count,
            messages.SUCCESS,
        )


@admin.register(MFAEvent)
class MFAEventAdmin(ReadOnlyAdmin):
    """The audit trail, read-only: staff can look, nobody can add, edit or delete."""

    list_display = ("created_at", "user", "event", "method", "purpose", "outcome", "ip")
    list_filter = ("event", "outcome", "method", "purpose")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        """Search by the user's ``USERNAME_FIELD``, method name and IP."""
        return (f"user__{get_user_model().USERNAME_FIELD}", "method", "ip")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        """Every field."""
        return tuple(f.name for f in MFAEvent._meta.fields)
