"""The MFA state on the admin's user page, and "Reset MFA" there.

Mix :class:`MFAUserAdminMixin` into the project's ``UserAdmin``: the change
page gets a read-only "Multi-factor authentication" section (active methods
and the primary, backup codes left, remembered devices, a lockout) with a
"Reset MFA" link, and the list a "Reset MFA of the selected users" action.
A reset goes through :func:`trench_mfa.services.admin.disable_methods`, the
service behind the ``mfa_disable`` command: every method off, backup codes
and remembered devices gone, audit events written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from trench_mfa.models import BackupCode, MFAMethod, RememberedDevice
from trench_mfa.services.admin import disable_methods

if TYPE_CHECKING:
    _UserAdminBase = admin.ModelAdmin[Any]
else:
    _UserAdminBase = object

#: The read-only field that shows the state.
STATE_FIELD = "mfa_state"


def state_of(user: Any) -> dict[str, Any]:
    """What the admin shows of a user's MFA: methods, backup codes, devices, lockout."""
    rows = list(MFAMethod.objects.for_user(user).active().order_by("-is_primary", "created_at"))
    now = timezone.now()
    locked = max(
        (r.locked_until for r in rows if r.locked_until and r.locked_until > now), default=None
    )
    return {
        "methods": [(r.name, r.is_primary) for r in rows],
        "backup_codes": BackupCode.objects.filter(user_id=user.pk, used_at__isnull=True).count(),
        "devices": RememberedDevice.objects.filter(user_id=user.pk, expires_at__gt=now).count(),
        "locked_until": locked,
    }


class MFAUserAdminMixin(_UserAdminBase):
    """``UserAdmin`` mixin: the MFA section, and "Reset MFA"."""

    mfa_reset_template = "trench_mfa/admin/mfa_reset.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The project's read-only fields plus the MFA state."""
        return (*super().get_readonly_fields(request, obj), STATE_FIELD)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        """The project's fieldsets plus the MFA section (change page only)."""
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        return [
            *fieldsets,
            (gettext_lazy("Multi-factor authentication"), {"fields": (STATE_FIELD,)}),
        ]

    def get_urls(self) -> list[URLPattern]:
        """The reset page, then the admin's own URLs."""
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_mfa_reset"
        view = self.admin_site.admin_view(self.mfa_reset_view)
        return [path("<path:object_id>/mfa-reset/", view, name=name), *super().get_urls()]

    @admin.display(description=gettext_lazy("MFA state"))
    def mfa_state(self, obj: Any) -> str:
        """The state, and the reset link when MFA is on."""
        state = state_of(obj)
        if not state["methods"]:
            return _("MFA is off.")
        methods = format_html_join(
            ", ",
            "{}{}",
            ((name, _(" (primary)") if primary else "") for name, primary in state["methods"]),
        )
        opts = self.model._meta
        url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_mfa_reset", args=[obj.pk]
        )
        locked = (
            format_html(" {}", _("Locked until %(time)s.") % {"time": state["locked_until"]})
            if state["locked_until"]
            else ""
        )
        return format_html(
            '{} {}<br>{}<br>{}{}<br><a class="button" href="{}" id="mfa-reset-link">{}</a>',
            _("MFA is on:"),
            methods,
            _("Backup codes left: %(count)d.") % {"count": state["backup_codes"]},
            _("Remembered devices: %(count)d.") % {"count": state["devices"]},
            locked,
            url,
            _("Reset MFA"),
        )

    def mfa_reset_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm (GET), then reset the user's MFA (POST)."""
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        opts = self.model._meta
        change_url = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[user.pk]
        )
        if request.method == "POST":
            names = disable_methods(user)
            self.message_user(
                request,
                _("MFA of %(user)s was reset (%(count)d methods turned off).")
                % {"user": user, "count": len(names)},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": opts,
            "original": user,
            "state": state_of(user),
            "change_url": change_url,
            "title": _("Reset MFA"),
        }
        return render(request, self.mfa_reset_template, context)

    @admin.action(
        description=gettext_lazy("Reset MFA of the selected users"), permissions=["change"]
    )
    def reset_mfa(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        """Reset every selected user's MFA."""
        count = sum(1 for user in queryset if disable_methods(user))
        self.message_user(
            request,
            ngettext("Reset the MFA of %d user.", "Reset the MFA of %d users.", count) % count,
            messages.SUCCESS,
        )

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> Any:
        """The project's actions plus "Reset MFA of the selected users".

        ``action_location`` is Django 6.1's (where the actions are shown);
        it is passed on only when given, as Django 5.2 does not know it.
        """
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location=action_location)  # type: ignore[call-arg]
        if self.has_change_permission(request):
            func = type(self).reset_mfa
            description = str(func.short_description)  # type: ignore[attr-defined]
            actions["reset_mfa"] = (func, "reset_mfa", description)  # type: ignore[assignment]
        return actions
